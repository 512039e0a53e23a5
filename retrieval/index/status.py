"""What the index holds: the figures `newsbot status` and the bot's /status show."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from retrieval.index.store import IndexStore
from retrieval.types import ArticleRecord


@dataclass(frozen=True)
class IndexStatus:
    """What the index holds, as `newsbot status` and /status show it."""

    articles: int
    chunks: int
    outlets: dict[str, int]  # outlet -> articles, most first
    first_published: str | None
    last_published: str | None
    undated_articles: int
    last_ingest: dict[str, Any] | None
    model: str
    store: str
    collection: str | None
    # ISO 639-1 ("" unknown: indexed before languages were detected) -> articles, most first
    languages: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(articles: list[ArticleRecord]) -> dict[str, Any]:
    """Figures of the live articles (pure): the index's articles, not its passages."""
    outlets = Counter(a.source for a in articles)
    dates = sorted(a.published_at for a in articles if a.published_at)
    return {
        "articles": len(articles),
        "chunks": sum(a.chunks for a in articles),
        "outlets": dict(outlets.most_common()),
        "languages": dict(Counter(a.language for a in articles).most_common()),
        "first_published": dates[0] if dates else None,
        "last_published": dates[-1] if dates else None,
        "undated_articles": sum(1 for a in articles if not a.published_at),
    }


def index_status(store: IndexStore, model: str) -> IndexStatus:
    # Read afresh: a health check must reach the store, not a commit record another
    # thread (a reader keeping up) read a moment before the store went away.
    generation = store.committed(fresh=True)
    return IndexStatus(
        **summarize(store.live_articles(generation)),
        last_ingest=store.last_ingest(),
        model=model,
        store=store.location,
        collection=f"{store.name} @ generation {generation}" if generation else None,
    )
