"""Telegram HTML for a timeline (pure): one line per event, split between entries.

Each entry is its day in bold, its sentence, and the outlets that reported it, each linked to
its article. Messages are filled entry by entry up to Telegram's limit; an entry too long for
one message on its own is split by `formatting.split_html`, which never cuts inside a tag or an
entity.
"""

from __future__ import annotations

import re
from html import escape

from bot.telegram.formatting import MAX_LEN, split_html, tg_len
from retrieval.answer.disputes import join_names
from retrieval.types import parse_published

NOTHING = "Nothing in the news I have matches that topic."
TIMELINE_HINT = "Send /timeline and a topic, for example: /timeline Serra Valley talks"


def _day(iso: str | None) -> str:
    if not iso:
        return "Undated"
    try:
        parsed = parse_published(iso)
    except ValueError:
        return "Undated"
    return f"{parsed.day} {parsed:%b %Y}"


def _outlet(citation: dict) -> str:
    name = escape(citation["source"] or "unknown outlet")
    url = citation.get("url")
    if url and re.match(r"https?://", url, flags=re.IGNORECASE):
        return f'<a href="{escape(url, quote=True)}">{name}</a>'
    return name


def entry_html(entry: dict) -> str:
    outlets = join_names([_outlet(c) for c in entry["citations"]])
    return f"<b>{escape(_day(entry['date']))}</b> — {escape(entry['text'])} ({outlets})"


def timeline_messages(timeline: dict, limit: int = MAX_LEN) -> list[str]:
    """The messages of a timeline (`Timeline.to_dict()`), each within `limit`."""
    if not timeline["entries"]:
        return [escape(NOTHING)]
    head = f"<b>Timeline: {escape(timeline['query'])}</b>"
    if tg_len(head) > limit // 4:
        head = "<b>Timeline</b>"
    messages: list[str] = []
    current = head
    for entry in timeline["entries"]:
        block = entry_html(entry)
        candidate = f"{current}\n\n{block}" if current else block
        if tg_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
        if tg_len(block) <= limit:
            current = block
        else:
            pieces = split_html(block, limit)
            messages.extend(pieces[:-1])
            current = pieces[-1]
    if current:
        messages.append(current)
    return messages
