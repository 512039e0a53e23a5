"""The stories an ingest added or changed, as follows see them.

Stand-in for the stories issue's `retrieval.story_index.stories_changed` until it lands:
the articles that the commits after `since` up to `upto` added, grouped into stories by
their wire text (the opening passages share half their word 3-shingles), each story named
by its oldest article. Same shape as `retrieval.stories.Story`.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.lexical import tokenize
from retrieval.store import IndexStore
from retrieval.types import ArticleRecord

COPY_JACCARD = 0.5


@dataclass(frozen=True)
class Story:
    id: str
    title: str
    articles: tuple[ArticleRecord, ...]  # oldest first (undated last)
    outlets: tuple[str, ...]
    first_published: str | None
    last_published: str | None


def _order(article: ArticleRecord) -> tuple:
    ts = article.published_ts
    return (ts is None, ts or 0.0, article.article_id)


def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = tokenize(text)
    return frozenset(tuple(words[i : i + 3]) for i in range(max(len(words) - 2, 0)))


def story_of(members: list[ArticleRecord]) -> Story:
    members = sorted(members, key=_order)
    dated = [a.published_at for a in members if a.published_at]
    return Story(
        id=members[0].article_id,
        title=members[0].title,
        articles=tuple(members),
        outlets=tuple(dict.fromkeys(a.source for a in members)),
        first_published=min(dated, default=None),
        last_published=max(dated, default=None),
    )


def stories_changed(store: IndexStore, since: int, upto: int) -> list[Story]:
    changed = [a for a in store.article_changes(since, upto) if a.visible_at(upto)]
    if not changed:
        return []
    openings: dict[str, frozenset] = {}
    for passage in store.passages_of(changed):
        if passage.chunk_index == 0:
            openings[passage.article_id] = _shingles(passage.text)
    groups: list[list[ArticleRecord]] = []
    for article in sorted(changed, key=_order):
        mine = openings.get(article.article_id, frozenset())
        for group in groups:
            theirs = openings.get(group[0].article_id, frozenset())
            union = len(mine | theirs)
            if union and len(mine & theirs) / union >= COPY_JACCARD:
                group.append(article)
                break
        else:
            groups.append([article])
    return [story_of(group) for group in groups]
