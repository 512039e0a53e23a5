"""The Chroma index: one growing collection of passages, versioned by ingest generation.

A news index only grows, so an ingest writes only what changed and never copies the rest:

- Every article version (an article's text at one content hash) is one *articles* record of its
  facts (title, outlet, date, url, hash, origin, language, passage count) and two generations:
  `added`, the ingest that wrote it, and `removed`, the one that retired it (0 while live). Its
  *passages* carry the same `added` and an id of the article, version and chunk.
- An ingest writes generation N = committed + 1: new versions with `added=N`, `removed=N` on
  the versions it replaces or prunes; then one metadata write (`committed=N`) makes all of it
  visible at once. A reader at generation G sees exactly the versions with `added <= G` and
  `removed` 0 or `> G`, so it never sees half a run.
- A run that fails or is killed leaves writes above the committed generation; the next run
  deletes them (and un-retires what they retired) before it writes. Passages of versions
  retired before the previous commit are deleted then too: in-flight readers of the previous
  generation still find theirs.
- One ingest at a time: a lock file in the data directory, and for a shared Chroma server a
  lease in the store itself (lease.py). Writing is transaction.py's, migrations migrations.py's.
"""

from __future__ import annotations

import fcntl
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import IndexNotFoundError, IngestBusyError, StoreUnavailableError
from retrieval.index.article_cache import ArticleCache
from retrieval.index.chroma import PAGE, HnswParams, live_at, nearest_records, paged_records
from retrieval.index.lease import Lease
from retrieval.index.migrations import legacy_collections
from retrieval.index.transaction import Transaction
from retrieval.types import ArticleRecord, Passage

logger = logging.getLogger(__name__)

# One answer asks for the commit record several times (parsing, search, idf, freshness):
# a read this recent is reused, so a commit elsewhere is seen within this many seconds more.
COMMIT_READ_REUSE = 0.25  # article records need an embedding; they are never searched by one


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
            language=article.language,
        )


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
        self.active_lease: Lease | None = None
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
    def writing(self) -> Iterator[None]:
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
                    paged_records(
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
                for _, _, meta, _ in paged_records(
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
            return nearest_records(collection, vector, k, where)

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
            return nearest_records(self.passages_collection(), vector, k, where)

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
            for collection in (self.passages_collection(), *legacy_collections(self)):
                missing = [h for h in wanted if h not in found]
                for i in range(0, len(missing), PAGE):
                    got = collection.get(
                        where={"text_hash": {"$in": missing[i : i + PAGE]}},
                        include=["metadatas", "embeddings"],
                    )
                    for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                        found[meta["text_hash"]] = np.asarray(vector, dtype=np.float32)
        return found

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
        self.active_lease = lease
        try:
            yield lease
        finally:
            self.active_lease = None
            lease.release()

    def write_commit(self, meta: dict[str, Any], generation: int) -> None:
        """Write the commit record of `generation`, which this store wrote itself."""
        with self.writing():
            self._commits().modify(metadata=meta)
        self._commit_read = None
        self._own = self._seen = generation

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Write the next generation (call under `ingest_lock`); visible only after `commit()`.

        Leftovers of an earlier run that did not commit are removed first."""
        with self.writing():
            transaction = Transaction(self)
        yield transaction

    def note_feed_dates(self, dates: dict[str, str]) -> None:
        """Record the feed dates of live article versions (key -> date) in place: no reader
        uses them, so this needs no new generation."""
        keys = sorted(dates)
        with self.writing():
            for i in range(0, len(keys), PAGE):
                group = keys[i : i + PAGE]
                self.articles_collection().update(
                    ids=group, metadatas=[{"feed_date": dates[k]} for k in group]
                )

    def record_ingest(self, summary: dict[str, Any]) -> None:
        """Store a run's result that changed nothing in the index."""
        meta = self.commit_metadata(fresh=True)
        meta["last_ingest"] = json.dumps(summary)
        with self.writing():
            self._commits().modify(metadata=meta)
        self._commit_read = None
