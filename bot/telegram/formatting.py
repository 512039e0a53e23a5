"""Telegram HTML for answers, sources, status and help: pure functions, no I/O.

Every interpolated value goes through `html.escape`; every message fits Telegram's limit
(`MessageLimit.MAX_TEXT_LENGTH`, counted here in UTF-16 code units over the raw HTML, which is
never less than what Telegram counts after parsing). Long text is split between tags and
entities, never inside one: tags open at a cut are closed and reopened in the next message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html import escape, unescape

from telegram.constants import MessageLimit

from bot.freshness import freshness_line
from ingest.pipeline import IngestReport
from retrieval.answer.disputes import join_names
from retrieval.languages import in_language, languages_line
from retrieval.types import Answer, Citation, published_day

MAX_LEN = MessageLimit.MAX_TEXT_LENGTH
# Characters per quote, tried in turn until a view fits. A citation quotes up to six sentences
# (retrieval/answer/extractive.py); past `FOLDED_QUOTE` characters it shows folded (Telegram's
# expandable blockquote: three lines and a tap to read the rest), so the view stays compact.
QUOTE_BUDGETS = (1000, 600, 400, 200, 100, 0)
FOLDED_QUOTE = 200
EXAMPLE_QUESTION = "Who is invited to the Moscow conference on Afghanistan?"


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


# -- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedAnswer:
    """The messages of one answer. The last one carries the source list (and the button);
    `answer_in_last` says whether the answer text shares that message."""

    messages: list[str]
    answer_in_last: bool
    has_sources: bool


def answer_body(answer: Answer) -> str:
    """The answer text, escaped; its `[n]` markers stay as they are."""
    return escape(answer.text.strip())


def citation_line(citation: Citation, *, quote_chars: int = 0) -> str:
    title = escape(citation.title.strip() or "Untitled")
    if citation.url and re.match(r"https?://", citation.url, flags=re.IGNORECASE):
        title = f'<a href="{escape(citation.url, quote=True)}">{title}</a>'
    parts = (outlets_of(citation), _date(citation.published_at), in_language(citation.language))
    details = [escape(part) for part in parts if part]
    line = f"[{citation.n}] {title}" + (f" — {', '.join(details)}" if details else "")
    if quote_chars and citation.quote.strip():
        quote = shorten(citation.quote, quote_chars)
        tag = "blockquote expandable" if len(quote) > FOLDED_QUOTE else "blockquote"
        line += f"\n<{tag}>{escape(quote)}</blockquote>"
    return line


def outlets_of(citation: Citation) -> str:
    """The citation's outlet, or every outlet that carried the passage, once:
    "carried by Harbor Gazette, Plains Courier and Delta Times"."""
    others = [c.source for c in citation.carriers] or list(citation.also_in)
    names = list(dict.fromkeys([citation.source, *others] if citation.source else others))
    if len(names) <= 1:
        return citation.source
    return f"carried by {join_names(names)}"


def sources_block(
    citations: tuple[Citation, ...], *, quote_chars: int = 0, footer: str = ""
) -> str:
    lines = ["<b>Sources</b>"] + [citation_line(c, quote_chars=quote_chars) for c in citations]
    if footer:
        lines.append(f"<i>{escape(footer)}</i>")
    return "\n".join(lines)


def footer_for(answer: Answer, now: datetime | None) -> str:
    """The freshness footer ("newest source 2 days old; news read 10 min ago"); "" without
    a clock."""
    return freshness_line(answer.freshness, now) if now is not None else ""


def render_answer(
    answer: Answer, *, limit: int = MAX_LEN, now: datetime | None = None
) -> RenderedAnswer:
    """The answer as messages: one when answer and sources fit, else the answer split at safe
    boundaries followed by the source list on its own. With `now`, the source list ends with
    how fresh the news is."""
    body = answer_body(answer)
    if not answer.citations:  # a decline that says what the news does report has sources
        return RenderedAnswer(split_html(body, limit), answer_in_last=False, has_sources=False)
    footer = footer_for(answer, now)
    together = f"{body}\n\n{sources_block(answer.citations, footer=footer)}"
    if tg_len(together) <= limit:
        return RenderedAnswer([together], answer_in_last=True, has_sources=True)
    return RenderedAnswer(
        [
            *split_html(body, limit),
            sources_message(answer, answer_in_last=False, limit=limit, now=now),
        ],
        answer_in_last=False,
        has_sources=True,
    )


def sources_message(
    answer: Answer,
    *,
    answer_in_last: bool,
    quotes: bool = False,
    limit: int = MAX_LEN,
    now: datetime | None = None,
) -> str:
    """The message that carries the source list: collapsed, or with the quoted sentences
    revealed (what the "Sources" button edits the message into). Always one message: quotes
    are shortened, then dropped, then the answer text is shortened until it fits."""
    body = answer_body(answer) if answer_in_last else ""
    footer = footer_for(answer, now)
    for budget in QUOTE_BUDGETS if quotes else (0,):
        block = sources_block(answer.citations, quote_chars=budget, footer=footer)
        text = f"{body}\n\n{block}" if body else block
        if tg_len(text) <= limit:
            return text
    block = sources_block(answer.citations, footer=footer)
    room = limit - tg_len(block) - 2
    if body and room > 20:
        return f"{escape(shorten(answer.text.strip(), room // 2))}\n\n{block}"
    return split_html(block, limit)[0]


def inline_message(answer: Answer, *, limit: int = MAX_LEN, now: datetime | None = None) -> str:
    """Answer and sources in one message, for an inline result (which cannot be split)."""
    rendered = render_answer(answer, limit=limit, now=now)
    if len(rendered.messages) == 1:
        return rendered.messages[0]
    if not answer.citations:
        return escape(shorten(answer.text, limit // 2))
    return sources_message(answer, answer_in_last=True, limit=limit, now=now)


# -- splitting -------------------------------------------------------------------------------

_TOKEN = re.compile(r"(<[^<>]+>)|(&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);)|([^<&]+|[<&])")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z0-9-]+)")
_WORD_PIECE = 200  # longer runs without spaces are cut into pieces of this size


@dataclass(frozen=True)
class _Unit:
    """One indivisible piece of HTML when a message is split: a tag, an entity or text."""

    text: str
    kind: str  # "open", "close", "entity", "word", "space", "newline"


def _units(html: str, piece_size: int = _WORD_PIECE) -> list[_Unit]:
    units: list[_Unit] = []
    for tag, entity, text in _TOKEN.findall(html):
        if tag:
            units.append(_Unit(tag, "close" if tag.startswith("</") else "open"))
        elif entity:
            units.append(_Unit(entity, "entity"))
        else:
            for piece in re.findall(r"\n|[^\S\n]+|[^\s]+", text):
                if piece == "\n":
                    units.append(_Unit(piece, "newline"))
                elif piece.isspace():
                    units.append(_Unit(piece, "space"))
                else:
                    for i in range(0, len(piece), piece_size):
                        units.append(_Unit(piece[i : i + piece_size], "word"))
    return units


def _closing(stack: tuple[str, ...]) -> str:
    return "".join(f"</{_tag_name(tag)}>" for tag in reversed(stack))


def _tag_name(tag: str) -> str:
    match = _TAG_NAME.match(tag)
    if match is None:  # only tags that matched _TAG_NAME are ever pushed on the stack
        raise ValueError(f"not a tag: {tag!r}")
    return match.group(1)


def split_html(html: str, limit: int = MAX_LEN) -> list[str]:
    """Cut balanced Telegram HTML into messages of at most `limit` UTF-16 units each.

    Cuts fall at a line break when one is in reach, else between words; never inside a tag or
    an entity. Tags open at a cut are closed at its end and reopened in the next message.
    """
    html = html.strip()
    if tg_len(html) <= limit:
        return [html] if html else []
    units = _units(html, max(1, min(_WORD_PIECE, limit // 4)))
    stacks: list[tuple[str, ...]] = []  # open tags after each unit
    stack: tuple[str, ...] = ()
    for unit in units:
        if unit.kind == "open":
            stack = (*stack, unit.text)
        elif unit.kind == "close" and stack:
            stack = stack[:-1]
        stacks.append(stack)

    messages: list[str] = []
    start = 0
    while start < len(units):
        while start < len(units) and units[start].kind in ("space", "newline"):
            start += 1
        if start >= len(units):
            break
        before = stacks[start - 1] if start else ()
        prefix = "".join(before)
        length = tg_len(prefix)
        fit = line_cut = word_cut = None
        end = start
        for i in range(start, len(units)):
            length += tg_len(units[i].text)
            if length + tg_len(_closing(stacks[i])) > limit:
                break
            end = fit = i + 1
            if units[i].kind == "newline":
                line_cut = i + 1
            elif units[i].kind == "space":
                word_cut = i + 1
        else:
            end = len(units)
        if end < len(units):
            if fit is None:  # not even one unit fits after the reopened tags: take it anyway
                end = start + 1
            elif line_cut and line_cut - start > 1:
                end = line_cut
            elif word_cut and word_cut - start > 1:
                end = word_cut
        body = prefix + "".join(u.text for u in units[start:end])
        message = (body.rstrip() + _closing(stacks[end - 1])).strip()
        if _visible(message):
            messages.append(message)
        start = end
    return messages


def _visible(html: str) -> bool:
    return bool(re.sub(r"<[^>]*>", "", html).strip())


def plain_text(html: str) -> str:
    """The text of our HTML without its markup (the fallback should Telegram refuse it)."""
    return unescape(re.sub(r"<[^>]*>", "", html))


# -- other replies ---------------------------------------------------------------------------


def _date(published_at: str | None) -> str:
    return published_day(published_at) or ""


def _date_range(first: str | None, last: str | None) -> str:
    if not first:
        return "no dated articles"
    return _date(first) if _date(first) == _date(last) else f"{_date(first)} to {_date(last)}"


def _outlets(outlets: dict[str, int], shown: int = 8) -> str:
    names = [f"{escape(name)} ({n})" for name, n in list(outlets.items())[:shown]]
    more = len(outlets) - shown
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def start_html(status, *, bot_username: str) -> str:
    """What the bot knows and how to ask. `status` is an `IndexStatus`, or None when there
    is no index yet."""
    intro = "I answer questions about peace-process news, citing the articles I have read."
    if status is None or not status.articles:
        knows = "I have not read any articles yet; an admin needs to run /reingest first."
    else:
        knows = (
            f"I know <b>{status.articles}</b> article{'s' if status.articles != 1 else ''} "
            f"from {_outlets(status.outlets)}, published "
            f"{_date_range(status.first_published, status.last_published)}."
        )
    return "\n\n".join([intro, knows, _how_to_ask(bot_username)])


def _how_to_ask(bot_username: str) -> str:
    name = escape(bot_username)
    return (
        f"Just send me a question, for example:\n<i>{escape(EXAMPLE_QUESTION)}</i>\n"
        "Follow-up questions may refer to my previous answer. Tap <b>Sources</b> under an "
        "answer to see the quoted sentences.\n"
        f"In groups, write /ask your question, mention @{name}, or reply to one of my "
        f"messages. In any chat, type @{name} and a question to share an answer."
    )


def help_html(*, bot_username: str, is_admin: bool = False, user_id: int | None = None) -> str:
    """How to ask; admins also see their commands. With `user_id` (private chats only), the
    user's id, which is what NEWSBOT_ADMIN_IDS lists."""
    parts = [
        "<b>How to ask</b>",
        _how_to_ask(bot_username),
        "/start what I know\n/help this message\n/ask <i>question</i> ask in a group\n"
        "/timeline <i>topic</i> what has happened, in date order",
    ]
    if is_admin:
        parts.append(
            "<b>Admin</b>\n/status index and last ingest\n/reingest re-read the sources file\n"
            "/add <i>URL</i> read one article"
        )
    if user_id is not None:
        parts.append(f"Your Telegram user id is <code>{int(user_id)}</code>.")
    return "\n\n".join(parts)


def status_html(
    status, *, uptime_seconds: float, ingest_running: bool, chat_id: int | None = None
) -> str:
    if status is None or not status.collection:
        lines = ["<b>Index</b>: empty (no ingest yet)"]
    else:
        lines = [
            f"<b>Index</b>: {status.articles} articles, {status.chunks} passages",
            f"<b>Outlets</b> ({len(status.outlets)}): {_outlets(status.outlets)}",
            *(
                [f"<b>Languages</b>: {escape(languages_line(status.languages))}"]
                if status.languages
                else []
            ),
            f"<b>Published</b>: {_date_range(status.first_published, status.last_published)}"
            + (f"; {status.undated_articles} undated" if status.undated_articles else ""),
        ]
    last = (status.last_ingest if status else None) or {}
    if last:
        lines.append(
            f"<b>Last ingest</b>: {escape(str(last.get('finished_at', '?')))}: "
            + escape(report_counts(last))
        )
    else:
        lines.append("<b>Last ingest</b>: none recorded")
    if ingest_running:
        lines.append("<b>Ingest</b>: running now")
    lines.append(f"<b>Uptime</b>: {format_duration(uptime_seconds)}")
    if chat_id is not None:
        lines.append(f"<b>This chat's id</b>: <code>{int(chat_id)}</code>")
    return "\n".join(lines)


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"


# -- ingest progress -------------------------------------------------------------------------

STAGE_LABELS = {
    "sources": "sources read",
    "embedding": "passages embedded",
    "indexing": "passages indexed",
}


def report_counts(report: dict) -> str:
    failed = report.get("failed") or []
    return (
        f"added {report.get('added', 0)}, updated {report.get('updated', 0)}, "
        f"unchanged {report.get('unchanged', 0)}, removed {report.get('removed', 0)}, "
        f"failed {len(failed) if isinstance(failed, list) else failed}"
    )


def ingest_progress_html(title: str, stage: str | None, done: int, total: int) -> str:
    head = f"<b>{escape(title)}</b>: running…"
    if stage is None:
        return head + "\nstarting"
    return head + f"\n{done}/{total} {escape(STAGE_LABELS.get(stage, stage))}"


def ingest_summary_html(title: str, report: IngestReport, *, limit: int = MAX_LEN) -> str:
    lines = [
        f"<b>{escape(title)}</b>: done in {report.seconds:.1f} s",
        escape(report_counts(report.to_dict())),
    ]
    for failure in report.failed:
        lines.append(
            f"• failed: {escape(shorten(failure.source, 120))}: "
            f"{escape(shorten(failure.reason, 200))}"
        )
    for note in report.notes:
        lines.append(f"• {escape(shorten(note, 200))}")
    return split_html("\n".join(lines), limit)[0]


def ingest_busy_html(title: str) -> str:
    return (
        f"<b>{escape(title)}</b>: another ingest holds the index (perhaps from the command "
        "line); nothing was done. Try again when it has finished."
    )


def ingest_bad_sources_html(title: str, sources_file: str) -> str:
    sources = escape(sources_file)
    return (
        f"<b>{escape(title)}</b>: the sources file {sources} is missing or invalid; nothing "
        f"was done. <code>newsbot ingest --sources {sources}</code> on the server says why."
    )


def ingest_failed_html(title: str, error_type: str) -> str:
    return (
        f"<b>{escape(title)}</b>: failed ({escape(error_type)}); the previous index stays in "
        "use. Details are in the server log."
    )
