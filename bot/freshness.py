"""How old the news behind an answer is, in words, for the chat and the terminal (pure):
"newest source 2 days old; news read 10 min ago". The clock is passed in."""

from __future__ import annotations

from datetime import datetime

from retrieval.answer.recency import age_seconds
from retrieval.types import Freshness


def age(seconds: float) -> str:
    """ "40 s" is "under a minute"; then minutes, hours, days (rounded down)."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "under a minute"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''}"


def freshness_line(freshness: Freshness | None, now: datetime) -> str:
    """The footer under an answer; "" when nothing is known."""
    if freshness is None:
        return ""
    parts = []
    source = age_seconds(freshness.newest_cited, now)
    if source is not None:
        parts.append(f"newest source {age(source)} old")
    read = age_seconds(freshness.index_updated, now)
    if read is not None:
        parts.append("news read just now" if read < 60 else f"news read {age(read)} ago")
    return "; ".join(parts)
