"""Corroboration and freshness in the chat and the terminal: every outlet named once per
citation, and a short footer on how old the news is (fixed clocks)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.cli.render import render_answer_text as render_text
from bot.freshness import age, freshness_line
from bot.telegram.formatting import inline_message, render_answer, sources_message
from devkit import telegram_html
from retrieval.types import Answer, Carrier, Citation, Freshness

NOW = datetime(2026, 3, 24, 12, 0, tzinfo=UTC)
WIRE = "A ceasefire monitoring mission will deploy along the Serra Valley front line."


def carrier(source, day="2026-03-05T11:30:00Z"):
    slug = source.lower().replace(" ", "-")
    return Carrier(source, f"{source} headline", f"https://{slug}.example/x", day)


def wire_answer(freshness=None) -> Answer:
    copies = (carrier("Plains Courier"), carrier("Delta Times", "2026-03-05T12:15:00Z"))
    citation = Citation(
        n=1,
        title="Truce monitors head for the Serra Valley",
        source="Harbor Gazette",
        published_at="2026-03-05T10:00:00Z",
        url="https://harbor-gazette.example/truce",
        quote=WIRE,
        article_id="hg",
        also_in=tuple(c.source for c in copies),
        carriers=copies,
    )
    return Answer("q", f"{WIRE} [1]", True, (citation,), freshness)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "under a minute"),
        (59, "under a minute"),
        (600, "10 min"),
        (3 * 3600 + 59, "3 h"),
        (86400, "1 day"),
        (2 * 86400 + 3600, "2 days"),
        (-5, "under a minute"),
    ],
)
def test_age_in_words(seconds, words):
    assert age(seconds) == words


def test_freshness_line_on_a_fixed_clock():
    fresh = Freshness(newest_cited="2026-03-22T09:10:00Z", index_updated="2026-03-24T11:50:00Z")
    assert freshness_line(fresh, NOW) == "newest source 2 days old; news read 10 min ago"
    just = Freshness(newest_cited=None, index_updated="2026-03-24T11:59:30Z")
    assert freshness_line(just, NOW) == "news read just now"
    assert freshness_line(Freshness("2026-03-24T07:00:00Z", None), NOW) == ("newest source 5 h old")
    assert freshness_line(Freshness(), NOW) == ""
    assert freshness_line(None, NOW) == ""


def test_chat_names_every_outlet_once_and_never_repeats_the_text():
    [html] = render_answer(wire_answer()).messages
    text = telegram_html.parse(html)
    assert "carried by Harbor Gazette, Plains Courier and Delta Times, 2026-03-05" in text
    assert text.count(WIRE) == 1
    assert text.count("carried by") == 1
    revealed = telegram_html.parse(sources_message(wire_answer(), answer_in_last=True, quotes=True))
    assert revealed.count("carried by Harbor Gazette, Plains Courier and Delta Times") == 1


def test_a_citation_carried_by_one_outlet_just_names_it():
    answer = wire_answer()
    single = Answer(
        "q",
        answer.text,
        True,
        (Citation(**{**answer.citations[0].__dict__, "also_in": (), "carriers": ()}),),
    )
    text = telegram_html.parse(render_answer(single).messages[0])
    assert "— Harbor Gazette, 2026-03-05" in text
    assert "carried by" not in text


def test_chat_footer_says_how_fresh_the_news_is():
    fresh = Freshness(newest_cited="2026-03-22T09:10:00Z", index_updated="2026-03-24T11:50:00Z")
    answer = wire_answer(fresh)
    [html] = render_answer(answer, now=NOW).messages
    assert html.endswith("<i>newest source 2 days old; news read 10 min ago</i>")
    assert "news read 10 min ago" in sources_message(
        answer, answer_in_last=True, quotes=True, now=NOW
    )
    assert "news read 10 min ago" in inline_message(answer, now=NOW)
    assert "news read" not in render_answer(answer).messages[0]  # no clock, no footer
    decline = Answer("q", "The news I have doesn't say.", False, freshness=fresh)
    assert render_answer(decline, now=NOW).messages == ["The news I have doesn&#x27;t say."]


def test_terminal_shows_every_outlet_with_its_link_and_the_footer():
    fresh = Freshness(newest_cited="2026-03-05T12:15:00Z", index_updated="2026-03-24T11:50:00Z")
    text = render_text(wire_answer(fresh), now=NOW)
    assert "[1] Truce monitors head for the Serra Valley — carried by Harbor Gazette, " in text
    assert "Plains Courier and Delta Times, 2026-03-05" in text
    assert (
        "also Delta Times: Delta Times headline, 2026-03-05 https://delta-times.example/x" in text
    )
    assert text.count(WIRE) == 2  # the answer and its quote, once each
    assert text.endswith("newest source 18 days old; news read 10 min ago")


def test_terminal_shows_a_quote_across_a_paragraph_break_on_its_line():
    answer = wire_answer()
    quoted = replace(answer.citations[0], quote=f"{WIRE}\n\nIt deploys next week.")
    text = render_text(replace(answer, citations=(quoted,)))
    assert f"    “{WIRE} It deploys next week.”" in text.splitlines()


def test_a_citation_says_its_language_when_it_is_not_english():
    russian = replace(wire_answer().citations[0], carriers=(), also_in=(), language="ru")
    answer = Answer("q", f"{WIRE} [1]", True, (russian,))
    assert "in Russian" in telegram_html.parse(render_answer(answer).messages[0])
    assert "2026-03-05, in Russian" in render_text(answer)
    english = replace(russian, language="en")
    assert "in English" not in render_text(Answer("q", f"{WIRE} [1]", True, (english,)))
