"""An article as it arrives from any source, before chunking."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One news article.

    `id` is stable across runs for the same article (derived from its URL, or from where it was
    found when it has none); `content_hash` changes whenever anything indexed about it changes.
    `origin` names the source it came from, so that pruning removes only what that source lost.
    """

    id: str
    title: str
    body: str
    origin: str
    source: str  # the outlet ("Reuters"), or the source's name when the outlet is unknown
    url: str | None = None
    published_at: str | None = None  # ISO 8601
    author: str | None = None
    attribution: str | None = None  # e.g. "Based on reporting by AFP, AP, ..."
    notes: tuple[str, ...] = field(default=())  # e.g. "page unreachable: used the feed summary"
    summary_only: bool = False  # a stand-in (a feed summary): never replaces a full text
    # The date its feed entry gave (feeds only): an indexed entry whose feed date is unchanged
    # is not fetched again. Not part of the content hash.
    feed_date: str | None = None

    @property
    def content_hash(self) -> str:
        parts = (
            self.title,
            self.body,
            self.source,
            self.url or "",
            self.published_at or "",
            self.author or "",
            self.attribution or "",
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def article_id(locator: str) -> str:
    """A short stable id from what identifies an article: its URL, or path plus record key."""
    return hashlib.sha1(locator.strip().encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SourceFailure:
    """A source, or one item of it, that could not be read, and why (one clear sentence)."""

    source: str
    reason: str
