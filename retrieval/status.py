"""What the index holds: the figures `newsbot status` and the bot's /status show."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from retrieval.store import IndexStore
from retrieval.types import Passage


@dataclass(frozen=True)
class IndexStatus:
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(passages: list[Passage]) -> dict[str, Any]:
    """Article-level figures from passages (pure)."""
    articles: dict[str, Passage] = {}
    for passage in passages:
        articles.setdefault(passage.article_id, passage)
    outlets = Counter(p.source for p in articles.values())
    dates = sorted(p.published_at for p in articles.values() if p.published_at)
    return {
        "articles": len(articles),
        "chunks": len(passages),
        "outlets": dict(outlets.most_common()),
        "first_published": dates[0] if dates else None,
        "last_published": dates[-1] if dates else None,
        "undated_articles": sum(1 for p in articles.values() if not p.published_at),
    }


def index_status(store: IndexStore, model: str) -> IndexStatus:
    generation = store.current_generation()
    figures = summarize(store.passages()) if generation else summarize([])
    return IndexStatus(
        **figures,
        last_ingest=store.last_ingest(),
        model=model,
        store=store.location,
        collection=generation,
    )
