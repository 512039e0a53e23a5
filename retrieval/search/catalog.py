"""The article versions one reader sees, kept current by applying each commit's changes.

A reader holds articles, not passages: the facts a search needs to tell which stored passages
it may show (their version is the live one), to name outlets and to weigh dates. A commit
changes a few articles; applying it costs those, not the archive.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from retrieval.index.chroma import passage_key
from retrieval.types import ArticleRecord


def outlet_keys(name: str) -> list[str]:
    """How a question may name an outlet: as written, and without a leading "The"."""
    key = name.lower().strip()
    keys = [key]
    if key.startswith("the "):
        keys.append(key[4:])
    return keys


@dataclass
class Catalog:
    """The live article versions one reader sees at a generation, with their outlets and dates."""

    generation: int = 0
    articles: dict[str, ArticleRecord] = field(default_factory=dict)  # article id -> live version
    _sources: Counter = field(default_factory=Counter)
    _timestamps: list[float] = field(default_factory=list)  # sorted, of dated live articles
    _outlets: dict[str, str] | None = None

    def apply(self, generation: int, changes: Iterable[ArticleRecord]) -> list[ArticleRecord]:
        """Move to `generation` given the versions added or retired since; the live versions
        that changed (added or replaced) are returned."""
        if not self.articles:
            return self._load(generation, changes)
        added = []
        for record in changes:
            current = self.articles.get(record.article_id)
            if record.visible_at(generation):
                if current is not None and current.key != record.key:
                    self._forget(current)
                if current is None or current.key != record.key:
                    self._remember(record)
                    added.append(record)
                else:
                    self.articles[record.article_id] = record
            elif current is not None and current.key == record.key:
                self._forget(current)
        self.generation = generation
        return added

    def _load(self, generation: int, records: Iterable[ArticleRecord]) -> list[ArticleRecord]:
        """`apply` to an empty catalog (a reader starting): the dates sorted once, not
        inserted one by one (each insertion moves half the list: 3.6 s for 107k articles)."""
        for record in records:
            if record.visible_at(generation):
                self.articles[record.article_id] = record  # the last visible version wins
        self._sources = Counter(a.source for a in self.articles.values())
        stamps = (a.published_ts for a in self.articles.values())
        self._timestamps = sorted(ts for ts in stamps if ts is not None)
        self._outlets = None
        self.generation = generation
        return list(self.articles.values())

    def _remember(self, record: ArticleRecord) -> None:
        self.articles[record.article_id] = record
        self._sources[record.source] += 1
        if record.published_ts is not None:
            bisect.insort(self._timestamps, record.published_ts)
        self._outlets = None

    def _forget(self, record: ArticleRecord) -> None:
        del self.articles[record.article_id]
        self._sources[record.source] -= 1
        if self._sources[record.source] <= 0:
            del self._sources[record.source]
        ts = record.published_ts
        if ts is not None:
            i = bisect.bisect_left(self._timestamps, ts)
            if i < len(self._timestamps) and self._timestamps[i] == ts:
                del self._timestamps[i]
        self._outlets = None

    def copy(self) -> Catalog:
        """A copy to apply the next commit to, while searches go on using this one."""
        return Catalog(
            self.generation, dict(self.articles), self._sources.copy(), list(self._timestamps)
        )

    def article_of(self, passage_id: str) -> ArticleRecord | None:
        """The live article version `passage_id` belongs to; None for another version's."""
        key = passage_key(passage_id)
        article = self.articles.get(key.rsplit(":", 1)[0])
        return article if article is not None and article.key == key else None

    @property
    def outlets(self) -> dict[str, str]:
        """Lowercased ways of naming each outlet -> the outlet."""
        if self._outlets is None:
            outlets: dict[str, str] = {}
            for name in sorted(self._sources):
                for key in outlet_keys(name):
                    outlets.setdefault(key, name)
            self._outlets = outlets
        return self._outlets

    def has_source(self, name: str) -> bool:
        return name in self._sources

    def any_dated_between(self, after: float | None, before: float | None) -> bool:
        """Is any live article dated in [after, before)?"""
        i = bisect.bisect_left(self._timestamps, after) if after is not None else 0
        return i < len(self._timestamps) and (before is None or self._timestamps[i] < before)
