"""Stories in the store: grouping an ingest's articles, and reading stories back.

The grouping rules are in retrieval/stories/story.py (pure); this module asks the store for what
they need: the nearest article vectors of each new article (in its date window), the opening
passage of a candidate to tell a wire copy, and, for an index written before stories existed,
the stored passage vectors of its articles (averaged, never embedded again). Every story id
lives on its article record, written with the ingest generation, so every process sharing the
store sees the same stories.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from retrieval.index.store import IndexStore
from retrieval.index.transaction import Transaction
from retrieval.stories.story import (
    Story,
    StoryParams,
    article_vector,
    assign_stories,
    build_stories,
    jaccard,
    newest_first,
    story_of,
    window_filter,
)
from retrieval.types import ArticleRecord, timestamp_or_none

logger = logging.getLogger(__name__)

COPY_FLOOR = 0.5  # below this cosine two articles are never the same wire text: not read


@dataclass(frozen=True)
class NewArticle:
    """An article version an ingest writes: its record, article vector and opening passage."""

    record: ArticleRecord
    vector: np.ndarray
    opening: str


@dataclass
class StoryOutcome:
    """The stories one ingest assigned, and how many it started or changed."""

    assigned: dict[str, str] = field(default_factory=dict)  # new versions: article id -> story
    backfilled: dict[str, str] = field(default_factory=dict)  # older versions: key -> story
    new: int = 0  # stories this run started
    updated: int = 0  # stories that existed and gained (or changed) an article

    def summary(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "backfilled": len(self.backfilled)}


def needs_backfill(indexed: Iterable[ArticleRecord]) -> bool:
    return any(not a.story_id for a in indexed)


def group_into_stories(
    store: IndexStore,
    transaction: Transaction,
    new: list[NewArticle],
    *,
    indexed: dict[str, ArticleRecord],
    leaving: set[str],
    params: StoryParams,
) -> StoryOutcome:
    """Decide the story of each new article version (and of live versions that have none
    yet), writing the article vectors it needs; the caller writes the story ids with the
    records. `indexed` are the live versions (article id -> record); `leaving` the article
    ids this run replaces or removes."""
    outcome = StoryOutcome()
    staying = {i: a for i, a in indexed.items() if i not in leaving}
    backfill = [a for a in staying.values() if not a.story_id]
    vectors: dict[str, np.ndarray] = {n.record.key: n.vector for n in new}
    openings: dict[str, str] = {n.record.key: n.opening for n in new}
    if backfill:
        stored = _stored_article_vectors(store, transaction, backfill)
        vectors.update(stored)
        backfill = [a for a in backfill if a.key in vectors]
    if new:
        transaction.put_article_vectors([n.record for n in new], np.stack([n.vector for n in new]))

    # Updated articles stay in their story (a story keeps its articles as they change).
    known = {i: a.story_id for i, a in staying.items() if a.story_id}
    to_assign: list[ArticleRecord] = list(backfill)
    for n in new:
        previous = indexed.get(n.record.article_id)
        if previous is not None and previous.story_id:
            outcome.assigned[n.record.article_id] = previous.story_id
            known[n.record.article_id] = previous.story_id
        else:
            to_assign.append(n.record)
    visible = {a.key: a.article_id for a in staying.values()}
    visible.update({n.record.key: n.record.article_id for n in new})
    finder = _Candidates(store, params, vectors, openings, visible)
    finder.read_openings([a.key for a in backfill])
    existing = set(known.values())
    decided = assign_stories(to_assign, finder.candidates_of, known, params)
    backfilled_ids = {a.article_id for a in backfill}
    for article_id, story in decided.items():
        if article_id in backfilled_ids:
            outcome.backfilled[staying[article_id].key] = story
        else:
            outcome.assigned[article_id] = story
    before = existing | set(outcome.backfilled.values())
    touched = {outcome.assigned[n.record.article_id] for n in new}
    outcome.new = len(touched - before)
    outcome.updated = len(touched & before)
    return outcome


@dataclass
class _Candidates:
    """The stories an article may join: its nearest visible articles in its date window, each
    with whether it is a copy of the same wire text (their opening passages, read once)."""

    store: IndexStore
    params: StoryParams
    vectors: dict[str, np.ndarray]  # version key -> article vector
    openings: dict[str, str]  # version key -> opening passage, filled as they are read
    visible: dict[str, str]  # version key -> article id, of the versions a story may hold

    def read_openings(self, keys: list[str]) -> None:
        """The opening passages of these versions, in one read of the store."""
        missing = [k for k in keys if k not in self.openings]
        if missing:
            rows = self.store.fetch(f"{k}:0" for k in missing)
            for k in missing:
                row = rows.get(f"{k}:0")
                self.openings[k] = row.text if row is not None else ""

    def candidates_of(self, article: ArticleRecord) -> list[tuple[str, float, bool]]:
        params, visible = self.params, self.visible
        vector = self.vectors[article.key]
        found = [
            (key, similarity)
            for key, similarity in self.store.nearest_articles(
                vector, params.neighbours + 1, where=window_filter(article.published_ts, params)
            )
            if visible.get(key) not in (None, article.article_id)
        ]
        self.read_openings([key for key, similarity in found if similarity >= COPY_FLOOR])
        mine = self.openings.get(article.key, "")
        return [
            (
                visible[key],
                similarity,
                similarity >= COPY_FLOOR
                and jaccard(mine, self.openings[key]) >= params.copy_jaccard,
            )
            for key, similarity in found
        ]


def _stored_article_vectors(
    store: IndexStore, transaction: Transaction, articles: list[ArticleRecord]
) -> dict[str, np.ndarray]:
    """Article vectors of stored versions: those already kept, else the mean of their stored
    passage vectors (written to the store for the next runs)."""
    have = store.has_article_vectors(a.key for a in articles)
    vectors: dict[str, np.ndarray] = {}
    missing = [a for a in articles if a.key not in have]
    for i in range(0, len(missing), 50):
        group = missing[i : i + 50]
        rows = store.fetch([pid for a in group for pid in a.passage_ids()], vectors=True)
        made: list[ArticleRecord] = []
        for a in group:
            found = [rows[p].vector for p in a.passage_ids() if p in rows]
            kept = [v for v in found if v is not None]
            if kept:
                vectors[a.key] = article_vector(kept)
                made.append(a)
        if made:
            transaction.put_article_vectors(made, np.stack([vectors[a.key] for a in made]))
    present = [a for a in articles if a.key in have]
    if present:
        with store._reading():
            collection = store.article_vectors_collection()
            keys = [a.key for a in present]
            for i in range(0, len(keys), 2000):
                got = collection.get(ids=keys[i : i + 2000], include=["embeddings"])
                for key, vector in zip(got["ids"], got["embeddings"], strict=True):
                    vectors[key] = np.asarray(vector, dtype=np.float32)
    return vectors


def stories_changed(store: IndexStore, since: int, upto: int) -> list[Story]:
    """The stories the commits after generation `since` up to `upto` added or changed (an
    article added, updated or removed, an outlet new to it, a story given to older articles),
    each with all its articles live at `upto`, newest first. Costs the changes and their
    stories, not the archive."""
    if upto <= since:
        return []
    changes = store.article_changes(since, upto)
    story_ids = {a.story_id or a.article_id for a in changes}
    if not story_ids:
        return []
    members: dict[str, list[ArticleRecord]] = {}
    for article in store.story_articles(story_ids, upto):
        members.setdefault(article.story_id, []).append(article)
    # Live changed articles without a story id (none after an ingest: kept for safety).
    for article in changes:
        if not article.story_id and article.visible_at(upto):
            members.setdefault(article.article_id, []).append(article)
    return newest_first(story_of(story_id, group) for story_id, group in members.items())


def list_stories(store: IndexStore, *, since: str | None = None) -> list[Story]:
    """Every story of the live index (from the local article cache when there is one),
    newest first; with `since` (a date), those with an article dated on or after it."""
    stories = build_stories(store.live_articles(store.require()))
    after = timestamp_or_none(since)
    if after is None:
        return stories
    return [s for s in stories if any((a.published_ts or -1.0) >= after for a in s.articles)]
