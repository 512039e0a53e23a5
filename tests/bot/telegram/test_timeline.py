"""Timelines, pure: requests recognised, copies folded, entries dated and ordered, ledes short,
and the Telegram and terminal views (HTML checked the way Telegram parses it)."""

from __future__ import annotations

import pytest

from bot.cli.render import render_timeline
from bot.telegram.timeline_html import NOTHING, timeline_messages
from devkit import telegram_html
from retrieval.stories.timeline import (
    Timeline,
    TimelineEntry,
    fold_events,
    lede,
    timeline_topic,
    within,
)
from retrieval.types import ArticleRecord

WIRE = (
    "PORT ALVA (Continental Press) - A ceasefire monitoring mission will deploy along the "
    "Serra Valley front line on March 10, the mediators said on Thursday. The mission is led "
    "by the Lake Council."
)


def record(article_id: str, source: str, day: int | None, url: str | None = None):
    return ArticleRecord(
        article_id=article_id,
        version="v",
        title=f"{source} on {article_id}",
        source=source,
        published_at=None if day is None else f"2026-03-{day:02d}T10:00:00Z",
        url=url,
        author=None,
        attribution=None,
        content_hash="h",
        origin="o",
        chunks=1,
        story_id="s",
    )


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("timeline of the Serra Valley talks", "the Serra Valley talks"),
        ("Give me a timeline for Serra Valley?", "Serra Valley"),
        ("What has happened in the Serra Valley talks?", "the Serra Valley talks"),
        ("what happened with the Northern Alliance", "the Northern Alliance"),
        ("When will the mission deploy?", None),
        ("What happened?", None),
        ("Who drew the timeline of events?", None),
    ],
)
def test_timeline_requests(text, topic):
    assert timeline_topic(text) == topic


def test_the_lede_drops_the_dateline_and_stays_short():
    assert lede(WIRE) == (
        "A ceasefire monitoring mission will deploy along the Serra Valley front line on "
        "March 10, the mediators said on Thursday."
    )
    long = "word " * 100 + "end."
    short = lede(long)
    assert len(short) <= 222
    assert short.endswith("…")


def test_copies_fold_into_one_entry_and_entries_run_oldest_first():
    members = [
        (record("later", "Plains Courier", 13), "The Northern Alliance has withdrawn."),
        (record("copy", "Plains Courier", 5), WIRE.replace("Thursday", "Thursday.")),
        (record("first", "Harbor Gazette", 5), WIRE),
        (record("undated", "Wire", None), "Something undated happened here, they said."),
        (record("early", "Harbor Gazette", 2), "Mediators announced peace talks on Monday."),
    ]
    entries = fold_events(members)
    assert [e.date for e in entries] == ["2026-03-02", "2026-03-05", "2026-03-13", None]
    wire = entries[1]
    assert [a.article_id for a in wire.citations] == ["copy", "first"]  # same hour: by id
    assert wire.text.startswith("A ceasefire monitoring mission")
    assert within(entries[0], "2026-03-01", "2026-03-02")
    assert not within(entries[0], "2026-03-03", None)
    assert not within(entries[3], None, "2026-12-31")  # undated: not in a date range
    assert within(entries[3], None, None)


def timeline(n: int) -> Timeline:
    entries = tuple(
        TimelineEntry(
            f"2026-03-{1 + i % 28:02d}",
            f"Event {i} <with> & marks, " + "and a fairly long sentence " * 4,
            (
                record(f"a{i}", "Harbor Gazette", 1, url=f"https://hg.example/{i}?a=1&b=2"),
                record(f"b{i}", "Plains & Co", 1),
            ),
        )
        for i in range(n)
    )
    return Timeline("Serra <Valley>", entries)


def test_telegram_messages_are_valid_html_within_the_limit_split_between_entries():
    messages = timeline_messages(timeline(60).to_dict(), limit=1000)
    assert len(messages) > 5
    seen = []
    for html in messages:
        text = telegram_html.parse(html)  # raises on HTML Telegram would refuse
        assert telegram_html.utf16_len(html) <= 1000
        seen += [line for line in text.split("\n") if line.startswith(("1 Mar", "2 Mar"))]
    assert messages[0].startswith("<b>Timeline: Serra &lt;Valley&gt;</b>")
    assert "Event 0 &lt;with&gt; &amp; marks" in messages[0]
    assert '<a href="https://hg.example/0?a=1&amp;b=2">Harbor Gazette</a>' in messages[0]
    assert "and Plains &amp; Co)" in messages[0]
    joined = "\n".join(messages)
    assert all(f"Event {i} " in joined for i in range(60))  # nothing lost at the cuts


def test_a_huge_entry_is_split_inside_safely():
    entry = TimelineEntry("2026-03-01", "x " * 3000, (record("a", "Harbor Gazette", 1),))
    messages = timeline_messages(Timeline("q", (entry,)).to_dict(), limit=500)
    assert len(messages) > 5
    for html in messages:
        telegram_html.parse(html)
        assert telegram_html.utf16_len(html) <= 500


def test_empty_timelines_say_so():
    assert timeline_messages(Timeline("q", ()).to_dict()) == [NOTHING]
    assert "Nothing" in render_timeline(Timeline("q", ()).to_dict())


def test_terminal_view():
    text = render_timeline(timeline(2).to_dict())
    assert text.splitlines()[0].startswith("2026-03-01  Event 0 <with> & marks")
    assert "    Harbor Gazette and Plains & Co" in text
    assert "    https://hg.example/0?a=1&b=2" in text


def test_on_topic_keeps_close_hits_their_copies_and_their_stories():
    from dataclasses import replace

    from retrieval.stories.timeline import on_topic
    from retrieval.types import Passage, SearchHit

    def passage(article_id):
        return Passage(
            article_id + ":v:0", "t", article_id, "T", "S", None, None, None, 0, 0, 1, "h", "h", "o"
        )

    live = {
        "close": replace(record("close", "A", 1), story_id="s1"),
        "same-story": replace(record("same-story", "B", 2), story_id="s1"),
        "copy": replace(record("copy", "C", 1), story_id="s2"),
        "far": replace(record("far", "D", 3), story_id="s3"),
        "far-story": replace(record("far-story", "E", 3), story_id="s3"),
    }
    hits = [
        SearchHit(passage("close"), 1.0, similarity=0.6, also_in=(passage("copy"),)),
        SearchHit(passage("far"), 0.9, similarity=0.2),
    ]
    found = {a.article_id for a in on_topic(hits, live, 0.45)}
    assert found == {"close", "same-story", "copy"}
    assert {a.article_id for a in on_topic(hits, live, 0.7)} == set()
