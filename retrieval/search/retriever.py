"""Hybrid retrieval: dense (Chroma) fused with BM25, aware of outlets, dates and duplicates.

- Dense and lexical rankings are fused by reciprocal rank (robust to their different scales).
- An outlet named in the question ("the Reuters article") adds a ranking restricted to it, so a
  question about two outlets finds both stories.
- A date range in the question narrows the search; dates merely mentioned favour articles from
  around those days; "latest" favours recent ones.
- No story crowds out the rest (a cap of passages per article), and one wire story carried by
  several outlets is one hit that credits every outlet (`SearchHit.also_in`).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from retrieval.embedding import Encoder, encode_queries
from retrieval.index.reader import IndexReader
from retrieval.index.store import PassageRow
from retrieval.index.text_index import TextIndex
from retrieval.search.catalog import Catalog
from retrieval.search.dates import DateIntent
from retrieval.search.query import Query, parse_query
from retrieval.tokens import tokenize
from retrieval.types import Passage, SearchHit

logger = logging.getLogger(__name__)

KEEP_UP_SECONDS = 1.0  # how often a long-lived reader looks for a new commit between questions


@dataclass(frozen=True)
class RetrievalParams:
    """Tuned on the MultiHop-RAG dev split (docs/benchmarks.md)."""

    candidates: int = 50  # per ranking
    rrf_k: float = 10.0  # small: the top of each ranking counts most
    dense_weight: float = 1.0
    lexical_weight: float = 2.5
    outlet_weight: float = 0.5  # of each ranking restricted to an outlet the question names
    mentioned_date_boost: float = 1.0
    latest_boost: float = 0.5
    per_article: int = 3
    duplicate_jaccard: float = 0.8
    wide_candidates: int = 400  # one dense query when the question restricts (outlet, dates)
    restricted_min: int = 10  # fewer qualifying among them: ask the store with a filter


class Retriever:
    """Hybrid search over the committed index, kept current by applying each commit.

    `lexical` is the BM25 side (a TextIndex on disk for a process that lives long or runs
    often; in memory in tests). The reader holds the live articles (a Catalog) and a small
    cache of recently shown passages, never the archive's passages or vectors.
    """

    def __init__(
        self,
        store: IndexReader,
        encoder: Encoder,
        params: RetrievalParams | None = None,
        *,
        lexical: TextIndex | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        cache_size: int = 4096,
    ):
        self.store = store
        self.encoder = encoder
        self.params = params or RetrievalParams()
        self.clock = clock
        self.lexical = lexical if lexical is not None else TextIndex(None)
        self._catalog = Catalog()
        self._lock = threading.Lock()
        self._rows: OrderedDict[str, PassageRow] = OrderedDict()
        self._last_vector = threading.local()  # (text, vector) of this thread's last search
        self._cache_size = cache_size
        self._probe: np.ndarray | None = None  # a query vector that loads the dense index

    # -- keeping up with commits -----------------------------------------------------------

    def catalog(self) -> Catalog:
        """The live articles at the committed generation, after applying what changed."""
        generation = self.store.committed()
        catalog = self._catalog
        if catalog.generation == generation:
            return catalog
        with self._lock:
            catalog = self._catalog
            if catalog.generation != generation:
                if generation < catalog.generation:  # the store was rebuilt from scratch
                    catalog = Catalog()
                if catalog.generation == 0:
                    changes = self.store.live_articles(generation)
                else:
                    changes = self.store.article_changes(catalog.generation, generation)
                updated = catalog.copy()
                updated.apply(generation, changes)
                self.lexical.catch_up(self.store, generation)
                self._load_dense()
                self._catalog = updated  # one assignment: searches see the old or the new
            return self._catalog

    def _load_dense(self) -> None:
        """One nearest-neighbour query before a new generation is served: an embedded store
        reopened for another process's commit loads its vector index on the first query
        (seconds at 1M passages), paid here and not by a question; otherwise ~1 ms."""
        if self._probe is not None:  # the vector of a question asked before (none: none was)
            self.store.nearest(self._probe, 1)

    def keep_up(self, every: float = KEEP_UP_SECONDS) -> threading.Event:
        """Apply new commits in the background (a long-lived reader: the bot, `ask -`), so
        that the first question after another process's commit finds it applied: the store
        reopened, the articles and the lexical index caught up, the vectors loaded. Set the
        returned event to stop."""
        stop = threading.Event()

        def loop() -> None:
            failing = False
            while not stop.wait(every):
                try:
                    self.catalog()
                    failing = False
                except Exception as exc:  # the store is away: a question will say so
                    if not failing:  # once per outage, not every second
                        logger.warning("cannot keep up with the index: %s", exc)
                    failing = True

        threading.Thread(target=loop, name="keep-up", daemon=True).start()
        return stop

    def idf(self) -> Callable[[str], float]:
        """BM25 inverse document frequency in the current index, as a function of a term."""
        self.catalog()
        cache: dict[str, float] = {}
        lexical = self.lexical

        def idf(term: str) -> float:
            if term not in cache:
                cache[term] = lexical.idf(term)
            return cache[term]

        return idf

    def parse(self, question: str, context: str = "") -> Query:
        """`question` (cleaned) as a Query, its outlets those of the current index."""
        return parse_query(
            question, context=context, outlets=self.catalog().outlets, now=self.clock()
        )

    # -- searching -------------------------------------------------------------------------

    def search(self, query: Query | str, k: int = 10, *, context: str = "") -> list[SearchHit]:
        """The k best passages for `query`; its context (earlier turns) widens recall only.

        A plain string is parsed first, with `context`; a Query brings its own."""
        if isinstance(query, str):
            query = self.parse(query, context)
        elif context:
            raise ValueError("a Query carries its own context")
        catalog = self.catalog()
        if not catalog.articles:
            return []
        p = self.params
        vector = np.asarray(encode_queries(self.encoder, [query.search_text])[0], dtype=np.float32)
        self._last_vector.value = (query.search_text, vector)  # for query_vector
        self._probe = vector
        terms = query.search_terms
        intent = query.dates
        after, before = _date_range(catalog, intent)

        fused: dict[str, float] = {}
        similarity: dict[str, float] = {}

        def add(ranking: list[str], weight: float) -> None:
            for rank, pid in enumerate(ranking, start=1):
                fused[pid] = fused.get(pid, 0.0) + weight / (p.rrf_k + rank)

        def visible(found: list[tuple[str, float]]) -> list[tuple[str, float]]:
            return [(pid, s) for pid, s in found if catalog.article_of(pid) is not None]

        def nearest(where: dict | None, wanted: int) -> tuple[list[tuple[str, float]], bool]:
            """The visible nearest passages, and whether the index had no more to give."""
            while True:  # other versions' passages (retired, or not yet committed) drop out
                found = self.store.nearest(vector, wanted, where)
                kept = visible(found)
                if len(kept) >= p.candidates or len(found) < wanted:
                    return kept, len(found) < wanted
                wanted *= 2

        restricted_rankings = bool(query.outlets) or after is not None or before is not None
        # One HNSW query serves every ranking: restricted ones (an outlet, a date range) keep
        # its hits that qualify, which costs nothing, while a filtered Chroma query costs
        # 20-80 ms here. Only when too few qualify is the store asked with a filter.
        wide, exhausted = nearest(None, p.wide_candidates if restricted_rankings else p.candidates)
        for pid, s in wide:
            similarity[pid] = s

        def dense(source: str | None) -> list[str]:
            if source is None and after is None and before is None:
                return [pid for pid, _ in wide[: p.candidates]]
            kept = [pid for pid, _ in wide if _admits(catalog, pid, source, after, before)]
            if len(kept) < p.restricted_min and not exhausted:
                found, _ = nearest(_where(source, after, before), p.candidates)
                for pid, s in found:
                    similarity[pid] = s
                kept = [pid for pid, _ in found]
            return kept[: p.candidates]

        def lexical(source: str | None) -> list[str]:
            wanted = p.candidates
            while True:
                found = self.lexical.top(terms, wanted, source=source, after=after, before=before)
                kept = visible(found)
                if len(kept) >= p.candidates or len(found) < wanted:
                    break
                wanted *= 2
            return [pid for pid, _ in kept[: p.candidates]]

        add(dense(None), p.dense_weight)
        add(lexical(None), p.lexical_weight)
        for outlet in query.outlets:
            if not catalog.has_source(outlet):  # parsed against an index since replaced
                continue
            add(dense(outlet), p.outlet_weight * p.dense_weight)
            add(lexical(outlet), p.outlet_weight * p.lexical_weight)
        if not fused:
            return []

        scores = _adjust_for_dates(fused, catalog, intent, p)
        ranked = sorted(scores, key=lambda pid: -scores[pid])[: max(4 * k, 40)]
        rows = self._rows_of(ranked)
        candidates = []
        for pid in ranked:
            article = catalog.article_of(pid)
            if pid in rows and article is not None:
                candidates.append((rows[pid].passage(article), scores[pid]))
        hits = _group_and_cap(candidates, k, p)
        return [
            replace(
                hit,
                rank=rank,
                similarity=self._similarity(hit.passage.id, vector, similarity),
                sentence_vectors=rows[hit.passage.id].sentences,
            )
            for rank, hit in enumerate(hits, start=1)
        ]

    def query_vector(self, text: str) -> np.ndarray:
        """The model's vector of `text`: the one this thread's last search made when it
        searched `text` (an answer scoring sentences by meaning right after its search never
        encodes again), else a new one."""
        last = getattr(self._last_vector, "value", None)
        if last is not None and last[0] == text:
            return last[1]
        vector = np.asarray(encode_queries(self.encoder, [text])[0], dtype=np.float32)
        self._last_vector.value = (text, vector)
        return vector

    def _rows_of(self, ids: list[str]) -> dict[str, PassageRow]:
        """Stored rows (text, vector) of `ids`: recently shown ones from the cache."""
        missing = [pid for pid in ids if pid not in self._rows]
        if missing:
            self._rows.update(self.store.fetch(missing, vectors=True))
        found = {}
        for pid in ids:
            cached = self._rows.get(pid)
            if cached is not None:
                self._rows.move_to_end(pid)
                found[pid] = cached
        while len(self._rows) > self._cache_size:
            self._rows.popitem(last=False)
        return found

    def _similarity(self, pid: str, vector: np.ndarray, known: dict[str, float]) -> float:
        if pid in known:
            return known[pid]
        row = self._rows.get(pid)
        return float(row.vector @ vector) if row is not None and row.vector is not None else 0.0


def _admits(
    catalog: Catalog, pid: str, source: str | None, after: float | None, before: float | None
) -> bool:
    """Whether passage `pid` is of outlet `source` and dated in [after, before)."""
    article = catalog.article_of(pid)
    if article is None or (source is not None and article.source != source):
        return False
    if after is None and before is None:
        return True
    ts = article.published_ts
    return ts is not None and (after is None or ts >= after) and (before is None or ts < before)


def _where(source: str | None, after: float | None, before: float | None) -> dict | None:
    """The Chroma filter of a restricted ranking (an outlet, a date range)."""
    conditions: list[dict] = []
    if source is not None:
        conditions.append({"source": source})
    if after is not None:
        conditions.append({"published_ts": {"$gte": after}})
    if before is not None:
        conditions.append({"published_ts": {"$lt": before}})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _date_range(catalog: Catalog, intent: DateIntent) -> tuple[float | None, float | None]:
    """The question's date range; none when it has none, or none would be left."""
    if not intent.narrows:
        return None, None
    after = intent.after.timestamp() if intent.after else None
    before = intent.before.timestamp() if intent.before else None
    if not catalog.any_dated_between(after, before):
        return None, None
    return after, before


def _adjust_for_dates(
    fused: dict[str, float], catalog: Catalog, intent: DateIntent, p: RetrievalParams
) -> dict[str, float]:
    if not intent.mentioned and not intent.latest:
        return fused
    scores = dict(fused)
    stamps = {}
    for pid in scores:
        article = catalog.article_of(pid)
        if article is not None and article.published_ts is not None:
            stamps[pid] = article.published_ts
    if intent.mentioned:
        for pid, ts in stamps.items():
            if intent.near_mentioned(ts):
                scores[pid] *= 1 + p.mentioned_date_boost
    if intent.latest and stamps:
        order = sorted(stamps, key=lambda pid: stamps[pid])
        for position, pid in enumerate(order):
            scores[pid] *= 1 + p.latest_boost * (position + 1) / len(order)
    return scores


@functools.lru_cache(maxsize=8192)  # the same passages come back question after question
def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = tokenize(text)
    return frozenset(tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2)))


def _group_and_cap(
    candidates: list[tuple[Passage, float]], k: int, p: RetrievalParams
) -> list[SearchHit]:
    """Fold near-duplicates into one hit, then keep at most `per_article` per article."""
    groups: list[tuple[Passage, float, list[Passage], frozenset]] = []
    for passage, score in candidates:
        shingles = _shingles(passage.text)
        size = len(shingles)
        for leader, _, others, leader_shingles in groups:
            if leader.article_id == passage.article_id:
                continue
            other = len(leader_shingles)
            # Jaccard is at most the ratio of the sizes: most pairs are ruled out unread.
            if min(size, other) < p.duplicate_jaccard * max(size, other):
                continue
            shared = len(shingles & leader_shingles)
            if shared / ((size + other - shared) or 1) >= p.duplicate_jaccard:
                others.append(passage)
                break
        else:
            groups.append((passage, score, [], shingles))
    hits: list[SearchHit] = []
    overflow: list[SearchHit] = []
    per_article: dict[str, int] = {}
    for leader, score, others, _ in groups:
        seen = per_article.get(leader.article_id, 0)
        hit = SearchHit(passage=leader, score=score, also_in=tuple(others))
        (hits if seen < p.per_article else overflow).append(hit)
        per_article[leader.article_id] = seen + 1
    return (hits + overflow)[:k]
