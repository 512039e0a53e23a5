"""Chroma plumbing the index's modules share, with no store state: the collections' naming and
HNSW configuration, opening a client, the filter of what a generation sees, nearest-neighbour
queries and paging through a collection."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import StoreUnavailableError

logger = logging.getLogger(__name__)

PAGE = 2000  # records per Chroma call: large enough to be fast, small enough for its limits
NO_VECTOR = [0.0]  # article records need an embedding; they are never searched by one
# The date of an article vector, under a name no passage carries: Chroma keeps every
# collection's metadata in one table, so a date-window query of the article vectors on
# `published_ts` also ranged over the passages' dates (5 s per query at 1M passages, 20 per
# ingest) while this key finds only article vectors (milliseconds).
ARTICLE_TS = "article_ts"


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


def passage_key(passage_id: str) -> str:
    """The article version of a passage id: "article:version:chunk" -> "article:version"."""
    return passage_id.rsplit(":", 1)[0]


def index_name(model: str, chunk_tokens: int, chunk_overlap: int, scheme: int) -> str:
    """A collection family per model and chunking: vectors of different setups never mix."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", Path(model).name or model).strip("-").lower()[:40]
    digest = hashlib.sha1(f"{model}|{chunk_tokens}|{chunk_overlap}|{scheme}".encode()).hexdigest()[
        :8
    ]
    return f"newsbot-{slug or 'model'}-{chunk_tokens}t{chunk_overlap}o-{digest}"


def open_client(data_dir: Path, host: str | None = None, port: int = 8000, *, fresh: bool = False):
    """An embedded Chroma under `data_dir`, or a Chroma server when `host` is given.

    `fresh`: a new embedded instance rather than the one this process already holds for that
    directory (chromadb shares one per path), so vectors other processes wrote are loaded."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
        path = Path(data_dir) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        if fresh:
            from chromadb.api.shared_system_client import SharedSystemClient

            # Not stopped: searches still running on the old instance finish on it.
            SharedSystemClient._identifier_to_system.pop(str(path), None)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        where = f"the Chroma server at {host}:{port}" if host else f"the index in {data_dir}"
        logger.warning("cannot open %s: %s", where, exc)  # the library's own words
        raise StoreUnavailableError(
            f"cannot open {where} ({type(exc).__name__}); details are in the log"
        ) from exc


def live_at(generation: int) -> dict:
    """Chroma filter: article versions a reader at `generation` sees."""
    return {
        "$and": [
            {"added": {"$lte": generation}},
            {"$or": [{"removed": 0}, {"removed": {"$gt": generation}}]},
        ]
    }


def nearest_records(
    collection, vector: np.ndarray, k: int, where: dict | None
) -> list[tuple[str, float]]:
    """Ids and cosine similarities of a collection's `k` nearest records (no documents)."""
    found = collection.query(
        query_embeddings=[np.asarray(vector, dtype=np.float32)],
        n_results=k,
        where=where,
        include=["distances"],
    )
    return [
        (id_, 1.0 - float(dist))
        for id_, dist in zip(found["ids"][0], found["distances"][0], strict=True)
    ]


def paged_records(
    collection, include: list[str], where: dict | None = None
) -> Iterator[tuple[str, str, dict, Any]]:
    """The records of a collection (matching `where`): id, document, metadata, vector."""
    offset = 0
    while True:
        got = collection.get(limit=PAGE, offset=offset, include=include, where=where)
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
