"""The Chroma index: one growing collection of passages, versioned by ingest generation.

A news index only grows, so an ingest writes only what changed and never copies the rest:

- Every article version (an article's text at one content hash) is one record in the
  *articles* collection, holding the article-level facts once (title, outlet, date, url,
  hash, origin, passage count) and two generation numbers: `added`, the ingest that wrote it,
  and `removed`, the ingest that retired it (0 while live). Its passages, in the *passages*
  collection, carry the same `added` and an id made of the article, the version and the chunk.
- An ingest writes generation N = committed + 1: new versions with `added=N`, `removed=N` on
  the versions it replaces or prunes; then one metadata write (`committed=N`) makes all of it
  visible at once. A reader at generation G sees exactly the versions with `added <= G` and
  `removed` 0 or `> G`, so it never sees half a run.
- A run that fails or is killed leaves writes above the committed generation; the next run
  deletes them (and un-retires what they retired) before it writes. Passages of versions
  retired before the previous commit are deleted then too: in-flight readers of the previous
  generation still find theirs.
- One ingest at a time: a lock file in the data directory, and for a shared Chroma server a
  lease in the store itself, renewed while held, that a killed holder loses within
  `lease_seconds`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import IndexNotFoundError, IngestBusyError, StoreUnavailableError
from retrieval.index.article_cache import ArticleCache
from retrieval.types import ArticleRecord, Passage

logger = logging.getLogger(__name__)

PAGE = 2000  # records per Chroma call: large enough to be fast, small enough for its limits
NO_VECTOR = [0.0]
# One answer asks for the commit record several times (parsing, search, idf, freshness):
# a read this recent is reused, so a commit elsewhere is seen within this many seconds more.
COMMIT_READ_REUSE = 0.25  # article records need an embedding; they are never searched by one
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


@dataclass(frozen=True)
class PassageRow:
    """What the passages collection holds of one passage (article facts are the article's)."""

    id: str
    text: str
    chunk_index: int
    start: int
    end: int
    text_hash: str
    vector: np.ndarray | None = None
    sentences: str | None = None  # packed sentence vectors (retrieval.sentence_vectors)

    def passage(self, article: ArticleRecord) -> Passage:
        return Passage(
            id=self.id,
            text=self.text,
            article_id=article.article_id,
            title=article.title,
            source=article.source,
            published_at=article.published_at,
            url=article.url,
            author=article.author,
            chunk_index=self.chunk_index,
            start=self.start,
            end=self.end,
            content_hash=article.content_hash,
            text_hash=self.text_hash,
            origin=article.origin,
            attribution=article.attribution,
        )


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


class IndexStore:
    """Reads the committed generation; writes the next one through `transaction()`."""

    def __init__(
        self,
        client,
        name: str,
        *,
        lock_dir: Path,
        location: str,
        hnsw: HnswParams | None = None,
        shared: bool = False,
        lease_seconds: float = 60.0,
        article_cache: ArticleCache | None = None,
        reopen: Callable[[], Any] | None = None,
    ):
        self.client = client
        self.name = name
        self.location = location
        self.hnsw = hnsw or HnswParams()
        self.shared = shared  # a Chroma server other processes (on other machines) also write
        self.lease_seconds = lease_seconds
        self._lock_path = Path(lock_dir) / f"{name}.lock"
        self._collections: dict[str, Any] = {}
        self._lease: Lease | None = None
        self._commit_read: tuple[float, dict[str, Any]] | None = None
        # A local copy of the article records (None: read them from Chroma every time).
        self.article_cache = article_cache
        # Embedded Chroma: a fresh client, for when another process committed (see _notice).
        self._reopen = reopen
        self._seen: int | None = None  # the generation this store's client last saw
        self._own = 0  # the generation this store committed itself

    # -- collections -----------------------------------------------------------------------

    def _collection(self, suffix: str, **options):
        collection = self._collections.get(suffix)
        if collection is None:
            collection = self.client.get_or_create_collection(
                f"{self.name}-{suffix}", embedding_function=None, **options
            )
            self._collections[suffix] = collection
        return collection

    def articles_collection(self):
        return self._collection("articles")

    def passages_collection(self):
        return self._collection("passages", configuration=self.hnsw.configuration())

    def _commits(self):
        return self._collection("commits")

    def article_vectors_collection(self):
        """One vector per article version (the mean of its passages'), with its date: the
        nearest articles a new one is compared with to find its story."""
        return self._collection("artvecs", configuration=self.hnsw.configuration())

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn the store's failures into one clear error; forget handles a restart voids."""
        try:
            yield
        except (IndexNotFoundError, IngestBusyError):
            raise
        except Exception as exc:
            self._collections.clear()
            logger.warning("cannot read the index at %s: %s", self.location, exc)
            raise StoreUnavailableError(
                f"cannot read the index at {self.location} ({type(exc).__name__}); is the "
                "store running? Details are in the log"
            ) from exc

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A failed write (a full disk, the server gone) as one clear error: the committed
        generation is untouched and the next run removes what this one wrote."""
        try:
            yield
        except (IndexNotFoundError, IngestBusyError, StoreUnavailableError):
            raise
        except Exception as exc:
            self._collections.clear()
            logger.debug("cannot write the index at %s", self.location, exc_info=True)
            raise StoreUnavailableError(
                f"cannot write the index at {self.location} ({type(exc).__name__}: {exc}); "
                "the previous index keeps serving"
            ) from exc

    # -- reading ---------------------------------------------------------------------------

    def commit_metadata(self, *, fresh: bool = False) -> dict[str, Any]:
        """The commit record; a read under COMMIT_READ_REUSE seconds old is reused unless
        `fresh` (writers always read it afresh)."""
        now = time.monotonic()
        if not fresh and self._commit_read and now - self._commit_read[0] < COMMIT_READ_REUSE:
            return dict(self._commit_read[1])
        # Fetched afresh: a collection handle's metadata is a snapshot of when it was
        # fetched, and the commit record is what other processes change.
        with self._reading():
            self._collections.pop("commits", None)
            meta = dict(self._commits().metadata or {})
        self._commit_read = (now, meta)
        self._notice(int(meta.get("committed", 0)))
        return dict(meta)

    def _notice(self, generation: int) -> None:
        """Reopen an embedded store when another process committed since it last looked.

        Embedded Chroma loads each collection's vector index into the process once and never
        reloads it, while its records (SQLite) are read afresh: another process's new passages
        would be missing from every search, and asking for their vectors fails ("Error finding
        id"). A Chroma server has one vector index for every client: nothing to do."""
        seen, self._seen = self._seen, generation
        if self._reopen is None or seen is None or generation in (seen, self._own):
            return
        logger.info("generation %d committed by another process: reopening the store", generation)
        self.client = self._reopen()
        self._collections.clear()

    def committed(self, *, fresh: bool = False) -> int:
        """The generation readers see; 0 before the first ingest that changed anything."""
        return int(self.commit_metadata(fresh=fresh).get("committed", 0))

    def identity(self) -> str:
        """Which index this is (made by its first commit): local caches of it (articles,
        lexical) are of this index, not of an earlier one that reached the same generation."""
        return str(self.commit_metadata().get("identity", ""))

    def exists(self) -> bool:
        return self.committed() > 0

    def require(self) -> int:
        """The committed generation; IndexNotFoundError before the first ingest."""
        generation = self.committed()
        if not generation:
            raise IndexNotFoundError(f"no index yet at {self.location}: run `newsbot ingest` first")
        return generation

    def last_ingest(self) -> dict[str, Any] | None:
        raw = self.commit_metadata().get("last_ingest")
        return json.loads(raw) if raw else None

    def live_articles(self, generation: int | None = None) -> list[ArticleRecord]:
        """Every article version a reader at `generation` (default: committed) sees."""
        generation = self.committed() if generation is None else generation
        if not generation:
            return []
        if self.article_cache is not None:
            return self.article_cache.live(
                generation,
                self.identity(),
                changes=self.article_changes,
                everything=lambda upto: self._article_records(live_at(upto)),
            )
        return self._article_records(live_at(generation))

    def article_changes(self, since: int, upto: int) -> list[ArticleRecord]:
        """Article versions added or retired by the commits after `since` up to `upto`, or
        given their story by one (`story_at`: a story backfilled in place on older versions)."""
        if upto <= since:
            return []
        # One one-sided condition per query, the upper bound applied here: Chroma answers
        # `added > since` from its index (0.12 s among 107k articles) but a two-sided range
        # or an $or of them by a scan (4.5-6.3 s), and every reader pays this per commit.
        found: dict[str, ArticleRecord] = {}
        for key in ("added", "removed", "story_at"):
            with self._reading():
                pages = list(
                    _pages(
                        self.articles_collection(),
                        include=["metadatas"],
                        where={key: {"$gt": since}},
                    )
                )
            for _, _, meta, _ in pages:
                if int(meta.get(key) or 0) <= upto:
                    record = ArticleRecord.from_metadata(meta)
                    found[record.key] = record
        return list(found.values())

    def _article_records(self, where: dict) -> list[ArticleRecord]:
        with self._reading():
            return [
                ArticleRecord.from_metadata(meta)
                for _, _, meta, _ in _pages(
                    self.articles_collection(), include=["metadatas"], where=where
                )
            ]

    def story_articles(self, story_ids: Iterable[str], generation: int) -> list[ArticleRecord]:
        """The article versions of these stories that a reader at `generation` sees: asked of
        the store by story id, so the cost follows the stories, not the archive."""
        wanted = sorted(set(story_ids))
        found: list[ArticleRecord] = []
        for i in range(0, len(wanted), 100):
            where = {"$and": [{"story_id": {"$in": wanted[i : i + 100]}}, live_at(generation)]}
            found.extend(self._article_records(where))
        return found

    def nearest_articles(
        self, vector: np.ndarray, k: int, where: dict | None = None
    ) -> list[tuple[str, float]]:
        """Version keys and cosine similarities of the nearest article vectors (of any
        version and generation: the caller keeps the ones it sees)."""
        with self._reading():
            collection = self.article_vectors_collection()
            if not collection.count():
                return []
            return _nearest(collection, vector, k, where)

    def has_article_vectors(self, keys: Iterable[str]) -> set[str]:
        """Which of these version keys have an article vector stored."""
        wanted = list(dict.fromkeys(keys))
        have: set[str] = set()
        with self._reading():
            collection = self.article_vectors_collection()
            for i in range(0, len(wanted), PAGE):
                have.update(collection.get(ids=wanted[i : i + PAGE], include=[])["ids"])
        return have

    def article_states(self) -> dict[str, tuple[str, str]]:
        """article_id -> (content_hash, origin) of every live article."""
        return {a.article_id: (a.content_hash, a.origin) for a in self.live_articles()}

    def count(self) -> int:
        """Passages a reader sees now."""
        return sum(a.chunks for a in self.live_articles(self.require()))

    def nearest(
        self, vector: np.ndarray, k: int, where: dict | None = None
    ) -> list[tuple[str, float]]:
        """Ids and cosine similarities of the nearest stored passages, of any version (the
        caller keeps those its generation sees), without their documents."""
        with self._reading():
            return _nearest(self.passages_collection(), vector, k, where)

    def fetch(self, ids: Iterable[str], *, vectors: bool = False) -> dict[str, PassageRow]:
        """The stored rows of `ids` (absent ones are left out: a retired version's passages
        may have been collected)."""
        wanted = list(dict.fromkeys(ids))
        include = ["documents", "metadatas"] + (["embeddings"] if vectors else [])
        rows: dict[str, PassageRow] = {}
        with self._reading():
            collection = self.passages_collection()
            for i in range(0, len(wanted), PAGE):
                got = collection.get(ids=wanted[i : i + PAGE], include=include)
                embeddings = got.get("embeddings") if vectors else None
                for n, (id_, doc, meta) in enumerate(
                    zip(got["ids"], got["documents"], got["metadatas"], strict=True)
                ):
                    vector = None
                    if embeddings is not None:
                        vector = np.asarray(embeddings[n], dtype=np.float32)
                    rows[id_] = PassageRow(
                        id=id_,
                        text=doc,
                        chunk_index=int(meta.get("chunk_index", 0)),
                        start=int(meta.get("start", 0)),
                        end=int(meta.get("end", 0)),
                        text_hash=str(meta.get("text_hash", "")),
                        vector=vector,
                        sentences=meta.get("sentences") or None,
                    )
        return rows

    def passages_of(self, articles: Iterable[ArticleRecord]) -> Iterator[Passage]:
        """The passages of these article versions, in article and chunk order."""
        articles = list(articles)
        per_call = PAGE // 20  # articles whose passages fit one fetch (~20 passages each)
        for i in range(0, len(articles), per_call):
            group = articles[i : i + per_call]
            ids = [pid for a in group for pid in a.passage_ids()]
            rows = self.fetch(ids)
            for article in group:
                for pid in article.passage_ids():
                    if pid in rows:
                        yield rows[pid].passage(article)

    def passages(self) -> list[Passage]:
        """Every passage a reader sees now (tests and small tools; readers never load all)."""
        return list(self.passages_of(self.live_articles(self.require())))

    def vectors_for(self, text_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors of texts already embedded, so they are never embedded again."""
        wanted = sorted(set(text_hashes))
        if not wanted:
            return {}
        found: dict[str, np.ndarray] = {}
        with self._reading():
            for collection in (self.passages_collection(), *self._legacy_collections()):
                missing = [h for h in wanted if h not in found]
                for i in range(0, len(missing), PAGE):
                    got = collection.get(
                        where={"text_hash": {"$in": missing[i : i + PAGE]}},
                        include=["metadatas", "embeddings"],
                    )
                    for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                        found[meta["text_hash"]] = np.asarray(vector, dtype=np.float32)
        return found

    def _legacy_collections(self) -> list:
        """The live collection of the earlier layout (one collection per generation), whose
        vectors the first ingest into this layout reuses instead of embedding them again."""
        try:
            pointer = self.client.get_collection(f"{self.name}-pointer", embedding_function=None)
            current = (pointer.metadata or {}).get("current")
            return [self.client.get_collection(current, embedding_function=None)] if current else []
        except Exception:  # no earlier layout here
            return []

    def drop_legacy(self) -> None:
        """Remove the earlier layout's collections once this layout has committed."""
        prefix = f"{self.name}-g"
        for collection in self.client.list_collections():
            if collection.name.startswith(prefix) or collection.name == f"{self.name}-pointer":
                with contextlib.suppress(Exception):
                    self.client.delete_collection(collection.name)

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """Hold the one-ingest-at-a-time lock; IngestBusyError when another run holds it.

        The lock file covers processes sharing this data directory; on a shared server the
        lease covers the others."""
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise IngestBusyError("another ingest is running on this index") from exc
            if not self.shared:
                yield
                return
            with self.lease():
                yield

    @contextmanager
    def lease(self) -> Iterator[Lease]:
        lease = Lease(self._collection("lease"), self.lease_seconds)
        with self._reading():
            lease.acquire()
        self._lease = lease
        try:
            yield lease
        finally:
            self._lease = None
            lease.release()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Write the next generation (call under `ingest_lock`); visible only after `commit()`.

        Leftovers of an earlier run that did not commit are removed first."""
        with self._writing():
            transaction = Transaction(self)
        yield transaction

    def note_feed_dates(self, dates: dict[str, str]) -> None:
        """Record the feed dates of live article versions (key -> date) in place: no reader
        uses them, so this needs no new generation."""
        keys = sorted(dates)
        with self._writing():
            for i in range(0, len(keys), PAGE):
                group = keys[i : i + PAGE]
                self.articles_collection().update(
                    ids=group, metadatas=[{"feed_date": dates[k]} for k in group]
                )

    def record_ingest(self, summary: dict[str, Any]) -> None:
        """Store a run's result that changed nothing in the index."""
        meta = self.commit_metadata(fresh=True)
        meta["last_ingest"] = json.dumps(summary)
        with self._writing():
            self._commits().modify(metadata=meta)
        self._commit_read = None


class Transaction:
    """Generation `committed + 1` being written; invisible to readers until committed."""

    def __init__(self, store: IndexStore):
        self.store = store
        self.base = store.committed(fresh=True)
        self.generation = self.base + 1
        self.committed = False
        self._clean_up()
        self._date_article_vectors()

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
            for _, _, meta, _ in _pages(
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

    def _date_article_vectors(self) -> None:
        """Give article vectors stored before ARTICLE_TS their date under it (once per index,
        remembered by the commit record; rewriting one is harmless, so a run killed midway
        is simply done again by the next)."""
        meta = self.store.commit_metadata(fresh=True)
        if meta.get(ARTICLE_TS) or not meta.get("committed"):
            return
        collection = self.store.article_vectors_collection()
        dated: dict[str, float] = {}
        for key, _, row, _ in _pages(collection, include=["metadatas"]):
            if row and ARTICLE_TS not in row and row.get("published_ts") is not None:
                dated[key] = float(row["published_ts"])
        keys = sorted(dated)
        for i in range(0, len(keys), PAGE):
            group = keys[i : i + PAGE]
            collection.update(ids=group, metadatas=[{ARTICLE_TS: dated[k]} for k in group])

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
        with self.store._writing():
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
        with self.store._writing():
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
        with self.store._writing():
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
        with self.store._writing():
            for i in range(0, len(keys), PAGE):
                group = keys[i : i + PAGE]
                self.store.articles_collection().update(
                    ids=group, metadatas=[{"removed": self.generation}] * len(group)
                )

    def commit(self, summary: dict[str, Any]) -> None:
        """Make this generation the one readers see: one metadata write."""
        if self.store._lease is not None:
            self.store._lease.check()
        meta = self.store.commit_metadata(fresh=True)
        if int(meta.get("committed", 0)) != self.base:
            raise IngestBusyError("another ingest committed meanwhile; this run is dropped")
        meta.update(committed=self.generation, last_ingest=json.dumps(summary))
        meta[ARTICLE_TS] = 1  # article vectors are dated under ARTICLE_TS
        meta.setdefault("identity", secrets.token_hex(8))
        with self.store._writing():
            self.store._commits().modify(metadata=meta)
        self.store._commit_read = None
        self.store._own = self.store._seen = self.generation
        self.committed = True
        with contextlib.suppress(Exception):
            self.store.drop_legacy()


class Lease:
    """The one-ingest lock in a shared store: a record naming its holder and its expiry.

    Chroma has no compare-and-swap, so taking the lease is write, wait, read back: of two
    takers racing, the later write wins and the other sees it and backs off. The holder
    renews it in a thread; if it ever finds another holder, it stops and its commit fails.
    """

    KEY = "ingest"

    def __init__(self, collection, seconds: float, *, clock: Callable[[], float] = time.time):
        self.collection = collection
        self.seconds = seconds
        self.clock = clock
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _read(self) -> dict[str, Any]:
        got = self.collection.get(ids=[self.KEY], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else {}

    def _write(self) -> None:
        self.collection.upsert(
            ids=[self.KEY],
            metadatas=[{"holder": self.holder, "expires": self.clock() + self.seconds}],
            embeddings=[NO_VECTOR],
        )

    def acquire(self, settle: float = 0.5) -> None:
        current = self._read()
        if current and current.get("holder") != self.holder and current["expires"] > self.clock():
            raise IngestBusyError(
                f"another ingest holds the index (lease of {current['holder']}, "
                f"{current['expires'] - self.clock():.0f} s left)"
            )
        self._write()
        time.sleep(settle)
        if self._read().get("holder") != self.holder:
            raise IngestBusyError("another ingest took the index at the same moment")
        self._renewer = threading.Thread(target=self._renew, name="ingest-lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 4):
            try:
                if self._read().get("holder") != self.holder:
                    self.lost.set()
                    logger.error("the ingest lease was taken by another process")
                    return
                self._write()
            except Exception as exc:  # the store is away: try again at the next beat
                logger.warning("cannot renew the ingest lease: %s", exc)

    def check(self) -> None:
        if self.lost.is_set():
            raise IngestBusyError("this ingest lost its lease to another process")

    def release(self) -> None:
        self._stop.set()
        if self._renewer:
            self._renewer.join(timeout=5)
        with contextlib.suppress(Exception):
            if self._read().get("holder") == self.holder:
                self.collection.delete(ids=[self.KEY])


def _nearest(collection, vector: np.ndarray, k: int, where: dict | None) -> list[tuple[str, float]]:
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


def _pages(
    collection, include: list[str], where: dict | None = None
) -> Iterator[tuple[str, str, dict, Any]]:
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
