"""Stories: the articles that report one event, across outlets and days (pure logic).

People follow stories, not articles: five outlets carry one wire text under five headlines,
and a second report the next day tells more of the same event. An article joins a story when
it is ingested and keeps it; the story's id is the id of its first article, so a story keeps
its id as it grows. How an article is matched (the I/O is the caller's, see
retrieval/stories/grouping.py):

- its *article vector* is the normalised mean of its passages' vectors (the ingest has them:
  nothing is embedded twice);
- its candidates are the nearest stored articles by that vector, dated within
  `window_days` of it (not the archive: cost follows what changed);
- it joins the story of the most similar candidate that is a *copy* (the same wire text: the
  opening passages share `copy_jaccard` of their word 3-shingles) or reports the *same event*
  (article vectors' cosine at least `same_event`); otherwise it starts a story of its own.

Thresholds are calibrated in docs/benchmarks.md ("Stories and timelines").
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.tokens import tokenize
from retrieval.types import ArticleRecord

DAY = 86400.0


@dataclass(frozen=True)
class StoryParams:
    """The thresholds by which an article joins a story."""

    same_event: float = 0.75  # article-vector cosine for "reports the same event"
    copy_jaccard: float = 0.5  # opening-passage shingle Jaccard for "the same wire text"
    window_days: float = 7.0  # candidates dated within this many days of the article
    neighbours: int = 12  # nearest stored articles asked for per new article


@dataclass(frozen=True)
class Candidate:
    """A stored (or earlier in this run) article a new one may join."""

    article_id: str
    story_id: str
    similarity: float  # cosine of the article vectors
    copy: bool = False  # the same wire text


@dataclass(frozen=True)
class Story:
    """The articles that report one event, oldest first, with their outlets and dates."""

    id: str
    title: str
    articles: tuple[ArticleRecord, ...]  # oldest first (undated last)
    outlets: tuple[str, ...]  # in the order they first carried it
    first_published: str | None
    last_published: str | None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "articles": len(self.articles),
            "outlets": list(self.outlets),
            "first_published": self.first_published,
            "last_published": self.last_published,
        }


def article_vector(passage_vectors: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """An article's vector: the normalised mean of its passages' (already normalised) vectors."""
    matrix = np.asarray(passage_vectors, dtype=np.float32)
    if matrix.ndim != 2 or not len(matrix):
        raise ValueError("an article vector needs at least one passage vector")
    mean = matrix.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean


@functools.lru_cache(maxsize=4096)
def shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = tokenize(text)
    return frozenset(tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2)))


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    shared = len(sa & sb)
    return shared / (len(sa) + len(sb) - shared)


def choose_story(candidates: Iterable[Candidate], params: StoryParams) -> str | None:
    """The story a new article joins: its best copy, else its most similar same-event
    candidate; None when nothing qualifies (the article starts a story)."""
    best: tuple[bool, float, str] | None = None
    for c in candidates:
        if not c.story_id or not (c.copy or c.similarity >= params.same_event):
            continue
        key = (c.copy, c.similarity, c.story_id)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def processing_order(articles: Iterable[ArticleRecord]) -> list[ArticleRecord]:
    """Oldest first, undated last, ties by id: a story's first article is its oldest."""
    return sorted(
        articles,
        key=lambda a: (a.published_ts is None, a.published_ts or 0.0, a.article_id),
    )


def assign_stories(
    articles: Iterable[ArticleRecord],
    candidates_of: Callable[[ArticleRecord], Iterable[tuple[str, float, bool]]],
    known: dict[str, str],
    params: StoryParams,
) -> dict[str, str]:
    """Story ids for `articles` (article id -> story id), taken in processing order.

    `candidates_of(article)` gives (article id, cosine, copy) of its neighbours; `known` maps
    article ids that already have a story to it. A neighbour without a story yet (later in
    this run) is skipped: it will find this article when its turn comes."""
    stories = dict(known)
    assigned: dict[str, str] = {}
    for article in processing_order(articles):
        found = [
            Candidate(other, stories.get(other, ""), similarity, copy)
            for other, similarity, copy in candidates_of(article)
            if other != article.article_id
        ]
        story = choose_story(found, params) or article.article_id
        stories[article.article_id] = story
        assigned[article.article_id] = story
    return assigned


def build_stories(articles: Iterable[ArticleRecord]) -> list[Story]:
    """The stories of these live articles (each with every one of its articles given),
    newest first by their last article. Articles without a story id are their own story."""
    groups: dict[str, list[ArticleRecord]] = {}
    for article in articles:
        groups.setdefault(article.story_id or article.article_id, []).append(article)
    stories = [story_of(story_id, members) for story_id, members in groups.items()]
    return newest_first(stories)


def story_of(story_id: str, members: Iterable[ArticleRecord]) -> Story:
    ordered = processing_order(members)
    dated = [a for a in ordered if a.published_ts is not None]
    outlets = tuple(dict.fromkeys(a.source for a in ordered))
    first = next((a for a in ordered if a.article_id == story_id), ordered[0])
    return Story(
        id=story_id,
        title=first.title,
        articles=tuple(ordered),
        outlets=outlets,
        first_published=dated[0].published_at if dated else None,
        last_published=dated[-1].published_at if dated else None,
    )


def newest_first(stories: Iterable[Story]) -> list[Story]:
    def key(story: Story) -> tuple[bool, float, str]:
        last = story.articles[-1] if story.articles else None
        stamps = [a.published_ts for a in story.articles if a.published_ts is not None]
        return (not stamps, -(max(stamps) if stamps else 0.0), last.article_id if last else "")

    return sorted(stories, key=key)


def window_filter(ts: float | None, params: StoryParams) -> dict | None:
    """Chroma filter: articles dated within the window of `ts` (none for an undated one)."""
    if ts is None:
        return None
    span = params.window_days * DAY
    # The article vectors' own date key (retrieval.index.chroma.ARTICLE_TS): one the passages do not
    # carry, or Chroma ranges over every passage's date too.
    return {"$and": [{"article_ts": {"$gte": ts - span}}, {"article_ts": {"$lte": ts + span}}]}
