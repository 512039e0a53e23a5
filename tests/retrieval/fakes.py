"""Fast stand-ins for the model and the Chroma store: the retriever's logic without either.

`HashingEmbedder` is a deterministic bag-of-words encoder (the idea of langchain-core's
`DeterministicFakeEmbedding` and llm's `EmbedDemo`): each word is hashed to a few signed
dimensions and the sum is normalised, so texts sharing words really are close and texts sharing
none are orthogonal (up to hash collisions). `MemoryStore` holds passages and their vectors in
memory and answers the reads `Retriever` makes of the index (`IndexReader`, checked by mypy).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from retrieval.index.chroma import passage_key
from retrieval.index.reader import IndexReader
from retrieval.index.store import PassageRow
from retrieval.tokens import tokenize
from retrieval.types import ArticleRecord, Passage, iso_to_timestamp


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
        id=f"{article}:v1:{chunk}",
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

    Vectors are those of `title\\ntext` (as ingest embeds them) unless given. Every `put` is a
    commit: a new generation whose article versions (the passages' id prefix) replace those of
    the same articles; like Chroma, `nearest` searches every stored version (the caller keeps
    the live ones), exactly, and records its calls.
    """

    def __init__(self, embedder: HashingEmbedder, passages: Iterable[Passage] = ()):
        self.embedder = embedder
        self._records: dict[str, ArticleRecord] = {}  # key -> version
        self._rows: dict[str, tuple[Passage, np.ndarray]] = {}
        self._generation = 0
        self.nearest_calls: list[int] = []
        self.location = "memory"
        passages = list(passages)
        if passages:
            self.put(passages)

    def put(self, passages: Sequence[Passage], vectors: np.ndarray | None = None) -> None:
        """Commit these passages' article versions (replacing other versions of them)."""
        if vectors is None:
            vectors = self.embedder.encode([f"{p.title}\n{p.text}" for p in passages])
        self._generation += 1
        generation = self._generation
        by_key: dict[str, list[Passage]] = {}
        for passage_, vector in zip(passages, np.asarray(vectors, np.float32), strict=True):
            by_key.setdefault(passage_key(passage_.id), []).append(passage_)
            self._rows[passage_.id] = (passage_, vector)
        for key, group in by_key.items():
            first = group[0]
            for old_key, old in list(self._records.items()):
                if old.article_id == first.article_id and old.removed == 0 and old_key != key:
                    self._records[old_key] = replace(old, removed=generation)
            self._records[key] = ArticleRecord(
                article_id=first.article_id,
                version=key.rsplit(":", 1)[1],
                title=first.title,
                source=first.source,
                published_at=first.published_at,
                url=first.url,
                author=first.author,
                attribution=first.attribution,
                content_hash=first.content_hash,
                origin=first.origin,
                chunks=max(p.chunk_index for p in group) + 1,
                added=generation,
            )

    def committed(self) -> int:
        return self._generation

    def identity(self) -> str:
        return "memory"

    def live_articles(self, generation: int | None = None) -> list[ArticleRecord]:
        generation = self._generation if generation is None else generation
        return [r for r in self._records.values() if r.visible_at(generation)]

    def article_changes(self, since: int, upto: int) -> list[ArticleRecord]:
        return [
            r
            for r in self._records.values()
            if since < r.added <= upto or since < r.removed <= upto
        ]

    def passages(self) -> list[Passage]:
        live = {r.key for r in self.live_articles()}
        return [p for p, _ in self._rows.values() if passage_key(p.id) in live]

    def passages_of(self, articles: Iterable[ArticleRecord]) -> list[Passage]:
        return [
            self._rows[pid][0] for a in articles for pid in a.passage_ids() if pid in self._rows
        ]

    def fetch(self, ids: Iterable[str], *, vectors: bool = False) -> dict[str, PassageRow]:
        rows = {}
        for pid in ids:
            if pid in self._rows:
                p, vector = self._rows[pid]
                rows[pid] = PassageRow(
                    p.id,
                    p.text,
                    p.chunk_index,
                    p.start,
                    p.end,
                    p.text_hash,
                    vector if vectors else None,
                )
        return rows

    def nearest(
        self, vector: np.ndarray, k: int, where: dict | None = None
    ) -> list[tuple[str, float]]:
        self.nearest_calls.append(k)
        rows = [(pid, v) for pid, (p, v) in self._rows.items() if _matches(p, where)]
        if not rows:
            return []
        similarities = np.stack([v for _, v in rows]) @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-similarities, kind="stable")[:k]
        return [(rows[i][0], float(similarities[i])) for i in order]


if TYPE_CHECKING:

    def _reads_like_the_index(store: MemoryStore) -> IndexReader:
        """mypy checks here that `MemoryStore` keeps the contract `Retriever` holds stores to."""
        return store


def _matches(p: Passage, where: dict | None) -> bool:
    """Chroma's filter semantics for the filters the retriever uses (outlet, date range)."""
    if where is None:
        return True
    if "$and" in where:
        return all(_matches(p, clause) for clause in where["$and"])
    ((field, condition),) = where.items()
    if field == "source":
        return p.source == condition
    assert field == "published_ts", field
    if not p.published_at:
        return False
    ts = iso_to_timestamp(p.published_at)
    ((op, bound),) = condition.items()
    return ts >= bound if op == "$gte" else ts < bound


def dated(p: Passage, day: str | None) -> Passage:
    """`p` published on `day` ("2021-03-09"), or undated."""
    return replace(p, published_at=f"{day}T00:00:00+00:00" if day else None)
