"""What follows look like in a chat (pure): a pushed story, the list of follows, "what's new",
and the pacing that keeps pushes within Telegram's limits."""

from __future__ import annotations

from datetime import datetime
from html import escape

from bot.telegram.formatting import MAX_LEN, render_answer, shorten, split_html
from bot.telegram.ratelimit import SlidingWindow
from retrieval.types import Answer, Carrier, Citation

TOPIC_CHARS = 200  # a topic is a few words or a question


def push_answer(message: dict) -> Answer:
    """A pushed story as an answer citing its lead article, crediting the other outlets: the
    "Sources" button then works as under any answer."""
    sentence = message.get("sentence") or message["title"]
    carriers = tuple(
        Carrier(c["source"], c["title"], c.get("url"), c.get("published_at"))
        for c in message.get("carriers", ())
    )
    citation = Citation(
        n=1,
        title=message["title"],
        source=message["source"],
        published_at=message.get("published_at"),
        url=message.get("url"),
        quote=sentence,
        article_id=message.get("article_id", ""),
        also_in=tuple(c.source for c in carriers),
        carriers=carriers,
    )
    return Answer(
        question=message["topic"], text=f"{sentence} [1]", answered=True, citations=(citation,)
    )


def push_header(message: dict) -> str:
    topic = escape(shorten(message["topic"], 80))
    if message.get("update"):
        n = int(message.get("new_reports", 1))
        reports = "1 new report" if n == 1 else f"{n} new reports"
        return f"<b>Update on a story you follow</b> ({topic}): {reports}"
    return f"<b>New on {topic}</b>"


def push_html(message: dict, *, now: datetime | None = None) -> str:
    """One message: the header, the opening sentence, then the source line (title linked,
    every outlet that carried it, the date)."""
    rendered = render_answer(push_answer(message), limit=MAX_LEN - 200, now=now)
    return f"{push_header(message)}\n{rendered.messages[-1]}"


WATCHING_SHOWN = 6  # names listed under a topic


def following_html(
    topics: list[str], *, limit: int, watching: list[list[str]] | None = None
) -> str:
    """The chat's follows, each with the names its subject watches too ("also watching:
    Serra Valley, Northern Alliance …")."""
    if not topics:
        return (
            "This chat follows nothing yet. Send /follow <i>topic</i>, for example "
            "/follow Serra Valley talks."
        )
    watching = watching or [[] for _ in topics]
    lines = [f"<b>Following</b> ({len(topics)} of {limit})"]
    for n, (topic, names) in enumerate(zip(topics, watching, strict=True), 1):
        lines.append(f"{n}. {escape(topic)}")
        if names:
            shown = ", ".join(escape(name) for name in names[:WATCHING_SHOWN])
            more = " …" if len(names) > WATCHING_SHOWN else ""
            lines.append(f"   <i>also watching: {shown}{more}</i>")
    lines.append("\n/unfollow <i>number or topic</i> stops one.")
    if any(watching):
        lines.append("/unwatch <i>name</i> stops watching a name.")
    return "\n".join(lines)


def whatsnew_html(messages: list[dict], *, topic: str | None) -> list[str]:
    what = f"on {escape(shorten(topic, 80))}" if topic else "on the topics this chat follows"
    if not messages:
        return [f"Nothing new {what} since you last asked."]
    lines = [f"<b>What's new {what}</b>, newest first"]
    for n, message in enumerate(messages, 1):
        answer = push_answer(message)
        citation = answer.citations[0]
        title = escape(citation.title)
        if citation.url and citation.url.lower().startswith(("http://", "https://")):
            title = f'<a href="{escape(citation.url, quote=True)}">{title}</a>'
        outlets = ", ".join(dict.fromkeys([citation.source, *citation.also_in]))
        date = (citation.published_at or "")[:10]
        details = " — ".join(p for p in (escape(outlets), escape(date)) if p)
        lines.append(f"\n{n}. {title}" + (f" — {details}" if details else ""))
        if message.get("sentence"):
            lines.append(escape(shorten(message["sentence"], 240)))
    return split_html("\n".join(lines))


class PushPacer:
    """Telegram's limits for bots: about 30 messages a second overall, one a second in a
    private chat, 20 a minute in a group or channel (negative chat ids). Kept a little under."""

    def __init__(self, *, per_second: float = 25.0, group_per_minute: int = 18):
        self.gap = 1.0 / per_second
        self.last = float("-inf")
        self.groups = SlidingWindow(group_per_minute, 60.0)
        self.privates = SlidingWindow(1, 1.0)

    def _window(self, chat_id: int) -> SlidingWindow:
        return self.groups if chat_id < 0 else self.privates

    def chat_wait(self, chat_id: int, now: float) -> float:
        """Seconds until this chat may get another message (0: now)."""
        return self._window(chat_id).wait(chat_id, now)

    def global_wait(self, now: float) -> float:
        return max(0.0, self.last + self.gap - now)

    def record(self, chat_id: int, now: float) -> None:
        self.last = now
        self._window(chat_id).record(chat_id, now)
