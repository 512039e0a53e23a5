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

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from retrieval.dates import DateIntent
from retrieval.embedding import Embedder
from retrieval.lexical import BM25Index, tokenize
from retrieval.query import Query, parse_query
from retrieval.store import IndexStore
from retrieval.types import Passage, SearchHit, iso_to_timestamp


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


@dataclass
class _Corpus:
    """What lexical search needs, built once per index generation."""

    generation: str
    passages: list[Passage]
    bm25: BM25Index
    timestamps: np.ndarray  # NaN when undated
    outlets: dict[str, str]  # lowercased name -> name
    by_source: dict[str, np.ndarray]  # name -> boolean mask
    index_of: dict[str, int]  # passage id -> position
    vectors: np.ndarray  # row i: the stored vector of passages[i]; restricted searches are exact


class Retriever:
    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder,
        params: RetrievalParams | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.store = store
        self.embedder = embedder
        self.params = params or RetrievalParams()
        self.clock = clock
        self._corpus: _Corpus | None = None
        self._lock = threading.Lock()

    def corpus(self) -> _Corpus:
        generation = self.store.current_generation()
        corpus = self._corpus
        if corpus is not None and corpus.generation == generation:
            return corpus
        with self._lock:
            if self._corpus is None or self._corpus.generation != generation:
                self._corpus = _build_corpus(self.store, generation)
            return self._corpus

    def idf(self) -> Callable[[str], float]:
        """BM25 inverse document frequency in the current index, as a function of a term.

        Bound to one generation, so all the terms of one answer are weighed against the same
        index even if a re-ingest switches generations meanwhile.
        """
        return self.corpus().bm25.idf

    def parse(self, question: str, context: str = "") -> Query:
        """`question` (cleaned) as a Query, its outlets those of the current index."""
        return parse_query(
            question, context=context, outlets=self.corpus().outlets, now=self.clock()
        )

    def search(self, query: Query | str, k: int = 10, *, context: str = "") -> list[SearchHit]:
        """The k best passages for `query`; its context (earlier turns) widens recall only.

        A plain string is parsed first, with `context`; a Query brings its own."""
        if isinstance(query, str):
            query = self.parse(query, context)
        elif context:
            raise ValueError("a Query carries its own context")
        corpus = self.corpus()
        p = self.params
        vector = self.embedder.encode([query.search_text])[0]
        terms = query.search_terms
        intent = query.dates
        allowed = _date_mask(corpus, intent)

        fused: dict[int, float] = {}

        def add(ranking: list[int], weight: float) -> None:
            for rank, i in enumerate(ranking, start=1):
                fused[i] = fused.get(i, 0.0) + weight / (p.rrf_k + rank)

        def dense(mask: np.ndarray | None) -> list[int]:
            if mask is None:  # the whole index: Chroma's HNSW
                found = self.store.nearest_ids(vector, p.candidates)
                return [corpus.index_of[i] for i, _ in found if i in corpus.index_of]
            # A subset (an outlet, a date range): exact search over its stored vectors, which
            # is faster than a filtered Chroma query and never misses.
            subset = np.flatnonzero(mask)
            similarities = corpus.vectors[subset] @ vector
            best = np.argsort(-similarities, kind="stable")[: p.candidates]
            return subset[best].tolist()

        def lexical(mask: np.ndarray | None) -> list[int]:
            return [i for i, _ in corpus.bm25.top(terms, p.candidates, allowed=mask)]

        add(dense(allowed), p.dense_weight)
        add(lexical(allowed), p.lexical_weight)
        for outlet in query.outlets:
            mask = corpus.by_source.get(outlet)
            if mask is None:  # parsed against an index generation since replaced
                continue
            if allowed is not None:
                mask = mask & allowed
            add(dense(mask), p.outlet_weight * p.dense_weight)
            add(lexical(mask), p.outlet_weight * p.lexical_weight)
        if not fused:
            return []

        scores = _adjust_for_dates(fused, corpus, intent, p)
        ranked = sorted(scores, key=lambda i: -scores[i])
        hits = _group_and_cap(
            [(corpus.passages[i], scores[i]) for i in ranked[: max(4 * k, 40)]], k, p
        )
        return [
            replace(
                hit,
                rank=rank,
                similarity=float(corpus.vectors[corpus.index_of[hit.passage.id]] @ vector),
            )
            for rank, hit in enumerate(hits, start=1)
        ]


def _outlet_keys(name: str) -> list[str]:
    key = name.lower().strip()
    keys = [key]
    if key.startswith("the "):
        keys.append(key[4:])
    return keys


def _build_corpus(store: IndexStore, generation: str | None) -> _Corpus:
    passages = store.passages() if generation else []
    bm25 = BM25Index([f"{p.title}\n{p.source}\n{p.text}" for p in passages])
    timestamps = np.array(
        [iso_to_timestamp(p.published_at) if p.published_at else np.nan for p in passages],
        dtype=np.float64,
    )
    outlets: dict[str, str] = {}
    sources = np.array([p.source for p in passages], dtype=object)
    by_source = {}
    for name in sorted(set(sources.tolist())):
        by_source[name] = sources == name
        for key in _outlet_keys(name):
            outlets.setdefault(key, name)
    index_of = {passage.id: i for i, passage in enumerate(passages)}
    vectors = np.zeros((len(passages), 0), dtype=np.float32)
    if generation:
        ids, stored = store.vectors()
        vectors = np.zeros((len(passages), stored.shape[1]), dtype=np.float32)
        for id_, row in zip(ids, stored, strict=True):
            if id_ in index_of:
                vectors[index_of[id_]] = row
    return _Corpus(
        generation or "", passages, bm25, timestamps, outlets, by_source, index_of, vectors
    )


def _date_mask(corpus: _Corpus, intent: DateIntent) -> np.ndarray | None:
    """Passages in the question's date range; None when it has none, or none would be left."""
    if not intent.narrows:
        return None
    ts = corpus.timestamps
    mask = ~np.isnan(ts)
    if intent.after:
        mask &= ts >= intent.after.timestamp()
    if intent.before:
        mask &= ts < intent.before.timestamp()
    return mask if mask.any() else None


def _adjust_for_dates(
    fused: dict[int, float], corpus: _Corpus, intent: DateIntent, p: RetrievalParams
) -> dict[int, float]:
    if not intent.mentioned and not intent.latest:
        return fused
    scores = dict(fused)
    if intent.mentioned:
        for i in scores:
            ts = corpus.timestamps[i]
            if not np.isnan(ts) and intent.near_mentioned(float(ts)):
                scores[i] *= 1 + p.mentioned_date_boost
    if intent.latest:
        dated = [i for i in scores if not np.isnan(corpus.timestamps[i])]
        if dated:
            order = sorted(dated, key=lambda i: corpus.timestamps[i])
            for position, i in enumerate(order):
                scores[i] *= 1 + p.latest_boost * (position + 1) / len(order)
    return scores


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = tokenize(text)
    return {tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def _group_and_cap(
    candidates: list[tuple[Passage, float]], k: int, p: RetrievalParams
) -> list[SearchHit]:
    """Fold near-duplicates into one hit, then keep at most `per_article` per article."""
    groups: list[tuple[Passage, float, list[Passage], set]] = []
    for passage, score in candidates:
        shingles = _shingles(passage.text)
        for leader, _, others, leader_shingles in groups:
            union = len(shingles | leader_shingles) or 1
            if (
                leader.article_id != passage.article_id
                and len(shingles & leader_shingles) / union >= p.duplicate_jaccard
            ):
                others.append(passage)
                break
        else:
            groups.append((passage, score, [], shingles))
    hits, overflow, per_article = [], [], {}
    for leader, score, others, _ in groups:
        seen = per_article.get(leader.article_id, 0)
        hit = SearchHit(passage=leader, score=score, also_in=tuple(others))
        (hits if seen < p.per_article else overflow).append(hit)
        per_article[leader.article_id] = seen + 1
    return (hits + overflow)[:k]
