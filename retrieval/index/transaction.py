"""Writing the next generation: a `Transaction`, opened by `IndexStore.transaction()` under
the ingest lock, is invisible to readers until `commit()`. Opening one removes what runs that
never committed wrote (store.py describes the layout and its generations)."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np

from retrieval.errors import IngestBusyError
from retrieval.index.chroma import ARTICLE_TS, NO_VECTOR, PAGE, paged_records
from retrieval.index.lease import Lease
from retrieval.index.migrations import MigratableIndex, date_article_vectors, drop_legacy
from retrieval.types import ArticleRecord, Passage


class WritableIndex(MigratableIndex, Protocol):
    """What a transaction needs of the store it writes (`IndexStore`): its collections, its
    commit record, and the one-ingest lease."""

    active_lease: Lease | None  # held on a shared server

    def committed(self, *, fresh: bool = False) -> int: ...

    def articles_collection(self) -> Any: ...

    def passages_collection(self) -> Any: ...

    def writing(self) -> AbstractContextManager[None]: ...

    def write_commit(self, meta: dict[str, Any], generation: int) -> None: ...


class Transaction:
    """Generation `committed + 1` being written; invisible to readers until committed."""

    def __init__(self, store: WritableIndex):
        self.store = store
        self.base = store.committed(fresh=True)
        self.generation = self.base + 1
        self.committed = False
        self._clean_up()
        date_article_vectors(store)

    def _clean_up(self) -> None:
        """Undo what runs that never committed wrote, and collect retired versions' passages."""
        articles = self.store.articles_collection()
        passages = self.store.passages_collection()
        base = self.base
        passages.delete(where={"added": {"$gt": base}})
        articles.delete(where={"added": {"$gt": base}})
        unretire = articles.get(where={"removed": {"$gt": base}}, include=[])["ids"]
        if unretire:
            articles.update(ids=unretire, metadatas=[{"removed": 0}] * len(unretire))
        # Retired before the previous commit: no reader of the last two generations sees them.
        stale = [
            ArticleRecord.from_metadata(meta)
            for _, _, meta, _ in paged_records(
                articles,
                include=["metadatas"],
                where={
                    "$and": [
                        {"removed": {"$gt": 0}},
                        {"removed": {"$lt": base}},
                        {"collected": 0},
                    ]
                },
            )
        ]
        for i in range(0, len(stale), 100):
            group = stale[i : i + 100]
            ids = [pid for a in group for pid in a.passage_ids()]
            for j in range(0, len(ids), PAGE):
                passages.delete(ids=ids[j : j + PAGE])
            articles.update(ids=[a.key for a in group], metadatas=[{"collected": 1}] * len(group))
            self.store.article_vectors_collection().delete(ids=[a.key for a in group])

    def put(
        self,
        batch: list[tuple[ArticleRecord, list[Passage]]],
        vectors: np.ndarray,
        *,
        sentences: Mapping[str, str] | None = None,
    ) -> None:
        """Write article versions and their passages (`vectors` in the same order) at this
        generation. Passages first: a version whose record exists has all its passages.
        `sentences`: packed sentence vectors by text hash (retrieval.sentence_vectors)."""
        with self.store.writing():
            self._put(batch, vectors, sentences or {})

    def _put(
        self,
        batch: list[tuple[ArticleRecord, list[Passage]]],
        vectors: np.ndarray,
        sentences: Mapping[str, str],
    ) -> None:
        records = [article.at(self.generation) for article, _ in batch]
        ids, documents, metadatas = [], [], []
        for record, (_, passages) in zip(records, batch, strict=True):
            for p in passages:
                ids.append(p.id)
                documents.append(p.text)
                meta = self._passage_metadata(record, p)
                if p.text_hash in sentences:
                    meta["sentences"] = sentences[p.text_hash]
                metadatas.append(meta)
        if ids:
            self.store.passages_collection().upsert(
                ids=ids,
                documents=documents,
                metadatas=metadatas,
                embeddings=np.asarray(vectors, dtype=np.float32),
            )
        if records:
            self.store.articles_collection().upsert(
                ids=[r.key for r in records],
                metadatas=[r.to_metadata() for r in records],
                embeddings=[NO_VECTOR] * len(records),
            )

    def _passage_metadata(self, record: ArticleRecord, p: Passage) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "article_id": record.article_id,
            "version": record.version,
            "chunk_index": p.chunk_index,
            "start": p.start,
            "end": p.end,
            "text_hash": p.text_hash,
            "added": self.generation,
            "source": record.source,  # here too, for searches restricted to an outlet
        }
        if record.published_ts is not None:
            meta["published_ts"] = record.published_ts  # and to a date range
        return meta

    def put_article_vectors(self, records: list[ArticleRecord], vectors: np.ndarray) -> None:
        """Store article vectors (keyed by version: rewriting one is harmless, and readers
        never use them) for finding the stories of articles to come."""
        if not records:
            return
        with self.store.writing():
            for i in range(0, len(records), PAGE):
                group = records[i : i + PAGE]
                metadatas: list[dict[str, Any]] = []
                for r in group:
                    meta: dict[str, Any] = {"article_id": r.article_id}
                    if r.published_ts is not None:
                        meta[ARTICLE_TS] = r.published_ts
                    metadatas.append(meta)
                self.store.article_vectors_collection().upsert(
                    ids=[r.key for r in group],
                    metadatas=metadatas,
                    embeddings=np.asarray(vectors[i : i + PAGE], dtype=np.float32),
                )

    def set_stories(self, stories: dict[str, str]) -> None:
        """Give live versions written before stories existed (key -> story id) their story
        in place, marked `story_at` this generation: readers learn it with this commit's
        changes, and a reader at an earlier generation ignores story ids."""
        keys = sorted(stories)
        with self.store.writing():
            for i in range(0, len(keys), PAGE):
                group = keys[i : i + PAGE]
                self.store.articles_collection().update(
                    ids=group,
                    metadatas=[
                        {"story_id": stories[k], "story_at": self.generation} for k in group
                    ],
                )

    def retire(self, articles: Iterable[ArticleRecord]) -> None:
        """Mark these live versions removed as of this generation."""
        keys = [a.key for a in articles]
        with self.store.writing():
            for i in range(0, len(keys), PAGE):
                group = keys[i : i + PAGE]
                self.store.articles_collection().update(
                    ids=group, metadatas=[{"removed": self.generation}] * len(group)
                )

    def commit(self, summary: dict[str, Any]) -> None:
        """Make this generation the one readers see: one metadata write."""
        if self.store.active_lease is not None:
            self.store.active_lease.check()
        meta = self.store.commit_metadata(fresh=True)
        if int(meta.get("committed", 0)) != self.base:
            raise IngestBusyError("another ingest committed meanwhile; this run is dropped")
        meta.update(committed=self.generation, last_ingest=json.dumps(summary))
        meta[ARTICLE_TS] = 1  # article vectors are dated under ARTICLE_TS
        meta.setdefault("identity", secrets.token_hex(8))
        self.store.write_commit(meta, self.generation)
        self.committed = True
        with contextlib.suppress(Exception):
            drop_legacy(self.store)
