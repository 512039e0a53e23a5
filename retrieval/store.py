"""The Chroma index, in generations that readers switch to atomically.

A re-ingest never writes into the collection readers use. It builds the next generation (a new
collection: the unchanged chunks copied over with their stored vectors, the new ones added), then
flips a pointer in one metadata write. Readers resolve the pointer, so they see the previous
complete generation until the flip and the new one after it; an ingest that fails or is killed
leaves a half-built collection nobody points at, removed by the next ingest. One ingest at a time
is guaranteed by a lock file under the data directory (released by the OS if the process dies).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import IndexNotFoundError, IngestBusyError, StoreUnavailableError
from retrieval.types import Passage

logger = logging.getLogger(__name__)

PAGE = 2000  # records per Chroma call: large enough to be fast, small enough for its limits


@dataclass(frozen=True)
class HnswParams:
    """Index parameters, chosen by measurement (docs/benchmarks.md)."""

    max_neighbors: int = 16
    ef_construction: int = 100
    ef_search: int = 200  # recall@10 0.999 against exact search on MultiHop-RAG's 12.9k passages

    def configuration(self) -> dict[str, Any]:
        return {
            "hnsw": {
                "space": "cosine",
                "max_neighbors": self.max_neighbors,
                "ef_construction": self.ef_construction,
                "ef_search": self.ef_search,
            }
        }


def index_name(model: str, chunk_tokens: int, chunk_overlap: int, scheme: int) -> str:
    """A collection family per model and chunking: vectors of different setups never mix."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", Path(model).name or model).strip("-").lower()[:40]
    digest = hashlib.sha1(f"{model}|{chunk_tokens}|{chunk_overlap}|{scheme}".encode()).hexdigest()[
        :8
    ]
    return f"newsbot-{slug or 'model'}-{chunk_tokens}t{chunk_overlap}o-{digest}"


def open_client(data_dir: Path, host: str | None = None, port: int = 8000):
    """An embedded Chroma under `data_dir`, or a Chroma server when `host` is given."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
        path = Path(data_dir) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        where = f"the Chroma server at {host}:{port}" if host else f"the index in {data_dir}"
        logger.warning("cannot open %s: %s", where, exc)  # the library's own words
        raise StoreUnavailableError(
            f"cannot open {where} ({type(exc).__name__}); details are in the log"
        ) from exc


class IndexStore:
    """Reads the current generation; writes the next one through `building()`."""

    def __init__(
        self,
        client,
        name: str,
        *,
        lock_dir: Path,
        location: str,
        hnsw: HnswParams | None = None,
    ):
        self.client = client
        self.name = name
        self.location = location
        self.hnsw = hnsw or HnswParams()
        self._lock_path = Path(lock_dir) / f"{name}.lock"
        self._pointer_name = f"{name}-pointer"
        self._passages_cache: tuple[str, list[Passage]] | None = None

    # -- reading ---------------------------------------------------------------------------

    def _pointer(self):
        return self.client.get_or_create_collection(self._pointer_name, embedding_function=None)

    def pointer_metadata(self) -> dict[str, Any]:
        try:
            return dict(self._pointer().metadata or {})
        except Exception as exc:
            logger.warning("cannot read the index at %s: %s", self.location, exc)
            raise StoreUnavailableError(
                f"cannot read the index at {self.location} ({type(exc).__name__}); is the "
                "store running? Details are in the log"
            ) from exc

    def current_generation(self) -> str | None:
        return self.pointer_metadata().get("current")

    def current(self):
        """The collection readers use now; IndexNotFoundError before the first ingest."""
        generation = self.current_generation()
        if not generation:
            raise IndexNotFoundError(f"no index yet at {self.location}: run `newsbot ingest` first")
        return self.client.get_collection(generation, embedding_function=None)

    def exists(self) -> bool:
        return bool(self.current_generation())

    def last_ingest(self) -> dict[str, Any] | None:
        raw = self.pointer_metadata().get("last_ingest")
        return json.loads(raw) if raw else None

    def count(self) -> int:
        return self.current().count()

    def passages(self) -> list[Passage]:
        """Every passage of the current generation (cached per generation)."""
        collection = self.current()
        if self._passages_cache and self._passages_cache[0] == collection.name:
            return self._passages_cache[1]
        result = [
            Passage.from_record(id_, doc, meta)
            for id_, doc, meta, _ in _pages(collection, include=["documents", "metadatas"])
        ]
        self._passages_cache = (collection.name, result)
        return result

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """Ids and vectors of every passage of the current generation."""
        ids, rows = [], []
        for id_, _, _, vector in _pages(self.current(), include=["embeddings"]):
            ids.append(id_)
            rows.append(vector)
        return ids, np.asarray(rows, dtype=np.float32).reshape(len(ids), -1)

    def nearest_ids(
        self, vector: np.ndarray, k: int, where: dict | None = None
    ) -> list[tuple[str, float]]:
        """Ids and cosine similarities of the nearest passages, without their documents:
        a reader that holds the passages in memory need not have Chroma materialise them."""
        found = self.current().query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=k,
            where=where,
            include=["distances"],
        )
        return [
            (id_, 1.0 - float(dist))
            for id_, dist in zip(found["ids"][0], found["distances"][0], strict=True)
        ]

    def article_states(self) -> dict[str, tuple[str, str]]:
        """article_id -> (content_hash, origin) of every article in the current generation."""
        if not self.exists():
            return {}
        states: dict[str, tuple[str, str]] = {}
        for _, _, meta, _ in _pages(self.current(), include=["metadatas"]):
            states[meta["article_id"]] = (meta.get("content_hash", ""), meta.get("origin", ""))
        return states

    def vectors_for(self, text_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors of texts already embedded, so they are never embedded again."""
        wanted = sorted(set(text_hashes))
        if not wanted or not self.exists():
            return {}
        collection = self.current()
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(wanted), PAGE):
            got = collection.get(
                where={"text_hash": {"$in": wanted[i : i + PAGE]}},
                include=["metadatas", "embeddings"],
            )
            for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                found[meta["text_hash"]] = np.asarray(vector, dtype=np.float32)
        return found

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """Hold the one-ingest-at-a-time lock; IngestBusyError when another run holds it."""
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise IngestBusyError("another ingest is running on this index") from exc
            yield

    @contextmanager
    def building(self) -> Iterator[GenerationBuilder]:
        """Build the next generation (call under `ingest_lock`); live only after `commit()`."""
        self._drop_stale_generations()
        builder = GenerationBuilder(self)
        try:
            yield builder
        finally:
            if not builder.committed and builder.collection is not None:
                self._drop(builder.collection.name)

    def record_ingest(self, summary: dict[str, Any], generation: str | None = None) -> None:
        """Store the last ingest's result; with `generation`, also make that generation live."""
        meta = self.pointer_metadata()
        meta["last_ingest"] = json.dumps(summary)
        if generation:
            meta["previous"] = meta.get("current") or ""
            meta["current"] = generation
        meta = {k: v for k, v in meta.items() if v not in (None, "")}
        # One metadata write: the flip readers see is atomic.
        self._pointer().modify(metadata=meta)

    def _generations(self) -> list[str]:
        prefix = f"{self.name}-g"
        return [c.name for c in self.client.list_collections() if c.name.startswith(prefix)]

    def _drop_stale_generations(self) -> None:
        meta = self.pointer_metadata()
        keep = {meta.get("current"), meta.get("previous")}  # previous: in-flight readers
        for name in self._generations():
            if name not in keep:
                self._drop(name)

    def _drop(self, name: str) -> None:
        with contextlib.suppress(Exception):  # already gone is fine
            self.client.delete_collection(name)


class GenerationBuilder:
    """The next generation being written; invisible to readers until committed."""

    def __init__(self, store: IndexStore):
        self.store = store
        self.collection = None
        self.committed = False

    def _ensure(self):
        if self.collection is None:
            name = f"{self.store.name}-g{int(time.time())}{secrets.token_hex(3)}"
            self.collection = self.store.client.create_collection(
                name,
                configuration=self.store.hnsw.configuration(),
                embedding_function=None,
            )
        return self.collection

    def copy_current(self, keep_article: Callable[[str], bool]) -> int:
        """Carry over the current generation's chunks whose article `keep_article` accepts."""
        target = self._ensure()
        if not self.store.exists():
            return 0
        copied = 0
        for ids, docs, metas, vectors in _batches(
            _pages(self.store.current(), include=["documents", "metadatas", "embeddings"])
        ):
            keep = [i for i, meta in enumerate(metas) if keep_article(meta["article_id"])]
            if keep:
                target.add(
                    ids=[ids[i] for i in keep],
                    documents=[docs[i] for i in keep],
                    metadatas=[metas[i] for i in keep],
                    embeddings=np.asarray([vectors[i] for i in keep], dtype=np.float32),
                )
                copied += len(keep)
        return copied

    def add(self, passages: list[Passage], vectors: np.ndarray) -> None:
        if not passages:
            return
        self._ensure().add(
            ids=[p.id for p in passages],
            documents=[p.text for p in passages],
            metadatas=[p.to_metadata() for p in passages],
            embeddings=np.asarray(vectors, dtype=np.float32),
        )

    def commit(self, summary: dict[str, Any]) -> None:
        self.store.record_ingest(summary, generation=self._ensure().name)
        self.committed = True


def _pages(collection, include: list[str]) -> Iterator[tuple[str, str, dict, Any]]:
    offset = 0
    while True:
        got = collection.get(limit=PAGE, offset=offset, include=include)
        ids = got["ids"]
        if not ids:
            return
        docs = got.get("documents") or [None] * len(ids)
        metas = got.get("metadatas") or [None] * len(ids)
        vectors = got.get("embeddings")
        if vectors is None:
            vectors = [None] * len(ids)
        yield from zip(ids, docs, metas, vectors, strict=True)
        offset += len(ids)


def _batches(rows: Iterator[tuple]) -> Iterator[tuple[list, list, list, list]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == PAGE:
            yield _columns(batch)
            batch = []
    if batch:
        yield _columns(batch)


def _columns(batch: list[tuple]) -> tuple[list, list, list, list]:
    ids, docs, metas, vectors = (list(column) for column in zip(*batch, strict=True))
    return ids, docs, metas, vectors
