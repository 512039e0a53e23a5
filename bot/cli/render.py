"""Plain-text views of results for the terminal (pure functions)."""

from __future__ import annotations

from datetime import datetime

from bot.freshness import freshness_line
from ingest.pipeline import IngestReport
from retrieval.answer.disputes import join_names
from retrieval.index.status import IndexStatus
from retrieval.languages import in_language, languages_line
from retrieval.types import Answer, published_day


def day(iso: str | None, missing: str = "date unknown") -> str:
    """The calendar day of an ISO timestamp, for display."""
    return published_day(iso) or missing


def render_report(report: IngestReport) -> str:
    took = f"in {report.seconds:.1f} s"
    if report.stages:
        took += f" ({', '.join(f'{stage} {s:.1f} s' for stage, s in report.stages.items())})"
    lines = [
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"removed {report.removed}, failed {len(report.failed)}"
        + (f", skipped {report.skipped} feed entries already read" if report.skipped else "")
        + (
            f", {report.not_modified} feeds or pages unchanged since the last read (HTTP 304)"
            if report.not_modified
            else ""
        ),
        f"embedded {report.embedded} passages (reused {report.reused}) {took}",
    ]
    lines += [f"  failed: {f.source}: {f.reason}" for f in report.failed]
    lines += [f"  note: {note}" for note in report.notes]
    return "\n".join(lines)


def render_status(status: IndexStatus) -> str:
    if not status.collection:
        return f"no index yet at {status.store} — run `newsbot ingest`"
    outlets = ", ".join(f"{name} ({n})" for name, n in list(status.outlets.items())[:8])
    more = len(status.outlets) - 8
    dates = (
        f"{day(status.first_published)} .. {day(status.last_published)}"
        if status.first_published
        else "no dated articles"
    )
    undated = f"; {status.undated_articles} undated" if status.undated_articles else ""
    lines = [
        f"articles:    {status.articles} ({status.chunks} passages)",
        f"outlets:     {len(status.outlets)}: {outlets}{f' and {more} more' if more > 0 else ''}",
        f"published:   {dates}{undated}",
    ]
    if status.languages:
        lines.append(f"languages:   {languages_line(status.languages)}")
    last = status.last_ingest or {}
    if last:
        lines.append(
            f"last ingest: {last.get('finished_at')}: added {last.get('added')}, updated "
            f"{last.get('updated')}, unchanged {last.get('unchanged')}, removed "
            f"{last.get('removed')}, failed {len(last.get('failed', []))}"
        )
    lines.append(f"model:       {status.model}")
    lines.append(f"store:       {status.store} [{status.collection}]")
    return "\n".join(lines)


def render_hits(result: dict) -> str:
    blocks = []
    for hit in result["results"]:
        head = (
            f"{hit['rank']}. [{hit['score']:.3f}] {hit['title']} — {hit['source']}, "
            f"{day(hit['published_at'], 'undated')}"
        )
        url = f"\n   {hit['url']}" if hit["url"] else ""
        blocks.append(f"{head}{url}\n   {hit['text']}\n")
    return "\n".join(blocks)


def render_answer_text(answer: Answer, now: datetime | None = None) -> str:
    """The answer, its sources (each naming every outlet that carried it, each copy's link
    below) and, with `now`, how fresh the news is."""
    lines = [answer.text]
    if answer.citations:
        lines.append("")
    for c in answer.citations:
        others = [carrier.source for carrier in c.carriers] or list(c.also_in)
        outlets = f"carried by {join_names([c.source, *others])}" if others else c.source
        language = in_language(c.language)
        lines.append(
            f"[{c.n}] {c.title} — {outlets}, {day(c.published_at)}"
            + (f", {language}" if language else "")
        )
        if c.url:
            lines.append(f"    {c.url}")
        for carrier in c.carriers:
            lines.append(
                f"    also {carrier.source}: {carrier.title}, {day(carrier.published_at)}"
                + (f" {carrier.url}" if carrier.url else "")
            )
        quote = " ".join(c.quote.split())  # sentences quoted across a paragraph break
        lines.append(f"    “{quote}”")
    footer = freshness_line(answer.freshness, now) if now is not None else ""
    if footer:
        lines += ["", footer]
    return "\n".join(lines)


def render_stories(result: dict) -> str:
    """Stories newest first: dates, title, how many articles and which outlets."""
    if not result["stories"]:
        return "no stories"
    blocks = []
    for story in result["stories"]:
        first, last = day(story["first_published"]), day(story["last_published"])
        when = first if first == last else f"{first} .. {last}"
        articles = f"{story['articles']} article{'s' if story['articles'] != 1 else ''}"
        blocks.append(f"{when}  {story['title']}\n    {articles}: {join_names(story['outlets'])}")
    return "\n".join(blocks)


def render_timeline(result: dict) -> str:
    """Entries oldest first: day, sentence, and the outlets (with links) that reported it."""
    if not result["entries"]:
        return "Nothing in the news I have matches that topic."
    blocks = []
    for entry in result["entries"]:
        outlets = join_names([c["source"] for c in entry["citations"]])
        lines = [f"{day(entry['date'])}  {entry['text']}", f"    {outlets}"]
        lines += [f"    {c['url']}" for c in entry["citations"] if c["url"]]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
