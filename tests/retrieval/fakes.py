"""Fast stand-ins for the model and the Chroma store: the retriever's logic without either.

`HashingEmbedder` is a deterministic bag-of-words encoder (the idea of langchain-core's
`DeterministicFakeEmbedding` and llm's `EmbedDemo`): each word is hashed to a few signed
dimensions and the sum is normalised, so texts sharing words really are close and texts sharing
none are orthogonal (up to hash collisions). `MemoryStore` holds passages and their vectors in
memory and answers the reads `Retriever` makes of `IndexStore`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from retrieval.lexical import tokenize
from retrieval.types import Passage


class HashingEmbedder:
    """Hashed bag-of-words vectors, unit length (zero for a text without content words)."""

    name = "hashing-fake"
    max_tokens = 256

    def __init__(self, dimension: int = 512, *, probes: int = 2):
        self.dimension = dimension
        self.probes = probes

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(text.split()) for text in texts]

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in tokenize(text):
                digest = hashlib.blake2b(word.encode(), digest_size=4 * self.probes).digest()
                for probe in range(self.probes):
                    bucket = int.from_bytes(digest[4 * probe : 4 * probe + 4], "little")
                    sign = 1.0 if bucket & 1 else -1.0
                    vectors[row, (bucket >> 1) % self.dimension] += sign
            norm = np.linalg.norm(vectors[row])
            if norm:
                vectors[row] /= norm
        return vectors


def passage(
    text: str,
    article: str = "a1",
    chunk: int = 0,
    *,
    source: str = "Wire",
    title: str | None = None,
    published_at: str | None = "2021-03-10T00:00:00+00:00",
) -> Passage:
    """A passage with what a citation needs; its title is neutral (no question words)."""
    return Passage(
        id=f"{article}:{chunk}",
        text=text,
        article_id=article,
        title=title if title is not None else f"Item {article}",
        source=source,
        published_at=published_at,
        url=f"https://example.test/{article}",
        author=None,
        chunk_index=chunk,
        start=0,
        end=len(text),
        content_hash=f"hash-{article}",
        text_hash=hashlib.sha1(text.encode()).hexdigest(),
        origin="memory",
    )


class MemoryStore:
    """The reads `Retriever` makes of `IndexStore`, over passages held in memory.

    Vectors are those of `title\\ntext` (as ingest embeds them) unless given. Every `put` makes
    a new generation, as a re-ingest does; `nearest_ids` is exact and records its calls.
    """

    def __init__(self, embedder: HashingEmbedder, passages: Iterable[Passage] = ()):
        self.embedder = embedder
        self._passages: list[Passage] = []
        self._vectors = np.zeros((0, embedder.dimension), dtype=np.float32)
        self._generation = 0
        self.nearest_calls: list[int] = []
        self.location = "memory"
        passages = list(passages)
        if passages:
            self.put(passages)

    def put(self, passages: Sequence[Passage], vectors: np.ndarray | None = None) -> None:
        """Add passages (a passage with an id already held replaces it): a new generation."""
        if vectors is None:
            vectors = self.embedder.encode([f"{p.title}\n{p.text}" for p in passages])
        kept = {p.id for p in passages}
        old = [
            (p, v) for p, v in zip(self._passages, self._vectors, strict=True) if p.id not in kept
        ]
        self._passages = [p for p, _ in old] + list(passages)
        rows = [v for _, v in old] + list(np.asarray(vectors, dtype=np.float32))
        self._vectors = np.asarray(rows, dtype=np.float32).reshape(-1, self.embedder.dimension)
        self._generation += 1

    def current_generation(self) -> str | None:
        return f"memory-g{self._generation}" if self._generation else None

    def exists(self) -> bool:
        return self.current_generation() is not None

    def count(self) -> int:
        return len(self._passages)

    def passages(self) -> list[Passage]:
        return list(self._passages)

    def vectors(self) -> tuple[list[str], np.ndarray]:
        return [p.id for p in self._passages], self._vectors.copy()

    def nearest_ids(
        self, vector: np.ndarray, k: int, where: dict | None = None
    ) -> list[tuple[str, float]]:
        assert where is None, "the retriever filters in memory, never through the store"
        self.nearest_calls.append(k)
        similarities = self._vectors @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-similarities, kind="stable")[:k]
        return [(self._passages[i].id, float(similarities[i])) for i in order]


def dated(p: Passage, day: str | None) -> Passage:
    """`p` published on `day` ("2021-03-09"), or undated."""
    return replace(p, published_at=f"{day}T00:00:00+00:00" if day else None)
