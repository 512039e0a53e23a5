"""The latest state first: a later report that changes an earlier one leads, dated; questions
about now put the newest report first; freshness of the cited news; corroboration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from retrieval.answer.corroboration import carriers, corroborate
from retrieval.answer.presenting import present
from retrieval.answer.recency import (
    age_seconds,
    answer_units,
    freshness,
    is_change,
    latest_change,
    latest_first,
    long_day,
    newest_cited,
    renumber,
)
from retrieval.search.query import parse_query
from retrieval.types import Answer, Carrier, Citation, Freshness, SearchHit
from tests.retrieval.fakes import passage

NOW = datetime(2026, 3, 25, tzinfo=UTC)
ACCEPTS = (
    "The Northern Alliance will take part in the Serra Valley talks in Port Alva, its "
    "spokesman said on Monday."
)
WITHDRAWS = "The Northern Alliance has withdrawn from the Serra Valley talks in Port Alva."
REASON = "Its spokesman said the Alliance would not take part after the shelling."
QUESTION = "Will the Northern Alliance take part in the Serra Valley talks?"


def query(text: str = QUESTION):
    return parse_query(text, outlets={}, now=NOW)


def hit(text, article, day, source="Wire", also=()):
    return SearchHit(passage(text, article, source=source, published_at=day), 1.0, also_in=also)


def cited(hits, picks):
    """An extractive-style answer citing `picks` (hit indexes) in order."""
    text = " ".join(f"{hits[i].passage.text} [{n}]" for n, i in enumerate(picks, 1))
    cites = tuple(
        Citation.quoting(n, hits[i].passage, hits[i].passage.text) for n, i in enumerate(picks, 1)
    )
    return Answer(QUESTION, text, True, cites)


@pytest.mark.parametrize(
    ("sentence", "change"),
    [
        (WITHDRAWS, True),
        ("The second round was postponed to April.", True),
        ("Talks were called off on Friday.", True),
        ("The Alliance pulled out of the talks.", True),
        ("The council cancelled the meeting.", True),
        ("The group is no longer invited.", True),
        (ACCEPTS, False),
        ("The talks were scheduled for March 16.", False),
    ],
)
def test_changes_are_reversals(sentence, change):
    assert is_change(sentence) is change


@pytest.mark.parametrize(
    ("sentence", "change"),
    [
        ("Северный альянс вышел из переговоров за три дня до их открытия.", True),
        ("Второй раунд переговоров отложен до апреля.", True),
        ("Північний альянс вийшов з переговорів у п'ятницю.", True),
        ("Зустріч скасовано через обстріли.", True),
        ("ائتلاف شمال از مذاکرات انصراف داد.", True),
        ("دور دوم مذاکرات به تعویق افتاد.", True),
        ("أعلن التحالف الشمالي انسحابه من المحادثات.", True),
        ("وتم تأجيل الجولة الثانية إلى أبريل.", True),
        ("شمالي ائتلاف له خبرو ووت.", True),
        ("Северный альянс примет участие в переговорах.", False),
        ("Північний альянс прийняв запрошення.", False),
        ("ائتلاف شمال دعوت را پذیرفت.", False),
        ("قبل التحالف الشمالي الدعوة إلى المحادثات.", False),
        ("شمالي ائتلاف بلنه ومنله.", False),
    ],
)
def test_reversals_in_the_other_supported_languages(sentence, change):
    assert is_change(sentence) is change


def test_a_later_reversal_leads_dated_and_the_earlier_report_follows():
    hits = [
        hit(ACCEPTS, "ledger", "2026-03-09T16:00:00Z", "Northern Ledger"),
        hit(f"{WITHDRAWS} {REASON}", "courier", "2026-03-13T18:20:00Z", "Plains Courier"),
    ]
    answer = cited(hits, [0])  # the answer knew only the acceptance
    led = latest_first(answer, hits, query())
    assert led.text == (
        f"Latest, 13 March 2026: {WITHDRAWS} [1] Earlier, 9 March 2026: {ACCEPTS} [2]"
    )
    assert [(c.n, c.source, c.quote) for c in led.citations] == [
        (1, "Plains Courier", WITHDRAWS),
        (2, "Northern Ledger", ACCEPTS),
    ]


def test_the_reversal_already_cited_moves_first_with_its_article():
    hits = [
        hit(ACCEPTS, "ledger", "2026-03-09T16:00:00Z"),
        hit(WITHDRAWS, "courier", "2026-03-13T18:20:00Z"),
        hit(REASON, "courier", "2026-03-13T18:20:00Z"),
    ]
    answer = Answer(
        QUESTION,
        f"{ACCEPTS} [1] {REASON} [2]",
        True,
        (
            Citation.quoting(1, hits[0].passage, ACCEPTS),
            Citation.quoting(2, hits[2].passage, REASON),
        ),
    )
    led = latest_first(answer, hits, query())
    assert led.text.startswith("Latest, 13 March 2026: The Northern Alliance has withdrawn")
    units = answer_units(led.text)
    assert [u[1] for u in units] == [(1,), (1,), (2,)]  # the same article's sentence follows
    assert units[2][0].startswith("Earlier, 9 March 2026:")


def test_an_answer_that_told_only_the_reversal_gains_the_report_it_reversed():
    hits = [
        hit(f"{WITHDRAWS} {REASON}", "courier", "2026-03-13T18:20:00Z", "Plains Courier"),
        hit(ACCEPTS, "ledger", "2026-03-09T16:00:00Z", "Northern Ledger"),
        hit("The talks open in Port Alva on March 16.", "gazette", "2026-03-02T08:00:00Z"),
    ]
    answer = Answer(
        QUESTION, f"{WITHDRAWS} [1]", True, (Citation.quoting(1, hits[0].passage, WITHDRAWS),)
    )
    for question in (QUESTION, "Is the Northern Alliance still part of the Serra Valley talks?"):
        led = latest_first(answer, hits, query(question))
        assert led.text == (
            f"Latest, 13 March 2026: {WITHDRAWS} [1] Earlier, 9 March 2026: {ACCEPTS} [2]"
        )
        assert [c.source for c in led.citations] == ["Plains Courier", "Northern Ledger"]


def test_a_reversal_with_no_earlier_report_of_it_is_left_as_it_is():
    hits = [
        hit(WITHDRAWS, "courier", "2026-03-13T18:20:00Z"),
        hit("The football final is on Sunday.", "herald", "2026-03-01T10:00:00Z"),
    ]
    answer = cited(hits, [0])
    assert latest_first(answer, hits, query()) == answer


def test_an_earlier_reversal_does_not_lead_over_later_news():
    later = "The Northern Alliance will take part in the Serra Valley talks after all."
    hits = [
        hit(WITHDRAWS, "courier", "2026-03-13T18:20:00Z"),
        hit(later, "ledger", "2026-03-20T10:00:00Z"),
    ]
    answer = cited(hits, [1])
    assert latest_first(answer, hits, query()) == answer


def test_no_change_and_no_question_about_now_leaves_the_answer():
    hits = [
        hit(ACCEPTS, "ledger", "2026-03-09T16:00:00Z"),
        hit("The talks open in Port Alva on March 16.", "gazette", "2026-03-02T08:00:00Z"),
    ]
    answer = cited(hits, [1, 0])
    assert latest_first(answer, hits, query()) == answer


def test_a_reversal_about_something_else_does_not_lead():
    hits = [
        hit(ACCEPTS, "ledger", "2026-03-09T16:00:00Z"),
        hit("The football final was postponed by a week.", "herald", "2026-03-15T10:00:00Z"),
    ]
    answer = cited(hits, [0])
    assert latest_change(query(), hits) is None
    assert latest_first(answer, hits, query()) == answer


def test_questions_about_now_put_the_newest_cited_report_first():
    old = "The talks are due to open in Port Alva with three delegations."
    new = "The talks opened in Port Alva with two delegations."
    hits = [hit(old, "a", "2026-03-02T08:00:00Z"), hit(new, "b", "2026-03-16T14:00:00Z")]
    answer = cited(hits, [0, 1])
    assert query("Who is currently at the Port Alva talks?").current
    led = latest_first(answer, hits, query("Who is currently at the Port Alva talks?"))
    assert led.text == f"Latest, 16 March 2026: {new} [1] Earlier, 2 March 2026: {old} [2]"
    # the same question without "currently" keeps the answerer's order
    assert not query("Who is at the Port Alva talks?").current
    assert latest_first(answer, hits, query("Who is at the Port Alva talks?")) == answer


@pytest.mark.parametrize(
    ("question", "current"),
    [
        ("Is the Alliance still in the talks?", True),
        ("Who leads the talks now?", True),
        ("What is the situation at the moment?", True),
        ("Is it invited any more?", True),
        ("Who leads the talks?", False),
        ("Is there nowhere to meet?", False),
    ],
)
def test_query_knows_questions_about_now(question, current):
    assert query(question).current is current


def test_renumber_follows_first_use_and_drops_unused():
    a, b, c = (Citation.quoting(n, passage(f"t{n}", f"a{n}"), f"t{n}") for n in (1, 2, 3))
    text, kept = renumber("x [3] y [1] z [3]", [a, b, c])
    assert text == "x [1] y [2] z [1]"
    assert [(k.n, k.article_id) for k in kept] == [(1, "a3"), (2, "a1")]


def test_long_day():
    assert long_day("2026-03-13T18:20:00Z") == "13 March 2026"


COPY_PC = passage("wire text", "pc", source="Plains Courier", published_at="2026-03-05T11:30:00Z")
COPY_DT = passage("wire text", "dt", source="Delta Times", published_at="2026-03-05T12:15:00Z")
COPY_OWN = passage("wire text", "hg2", source="Harbor Gazette", published_at="2026-03-05T13:00:00Z")


def test_citations_credit_every_outlet_that_carried_the_passage_once():
    leader = passage("wire text", "hg", source="Harbor Gazette", published_at="2026-03-05T10:00Z")
    hits = [
        SearchHit(leader, 1.0, also_in=(COPY_DT, COPY_PC, COPY_OWN)),
        SearchHit(leader, 0.5, also_in=(COPY_PC,)),  # another passage of the same article
        SearchHit(passage("other", "x", source="X"), 0.4, also_in=(COPY_DT,)),
    ]
    citation = Citation.quoting(1, leader, "wire text")
    assert carriers(citation, hits) == (Carrier.of(COPY_PC), Carrier.of(COPY_DT))
    [credited] = corroborate(Answer("q", "wire text [1]", True, (citation,)), hits).citations
    assert credited.also_in == ("Plains Courier", "Delta Times")
    assert credited.carriers[0].to_dict() == {
        "source": "Plains Courier",
        "title": "Item pc",
        "url": "https://example.test/pc",
        "published_at": "2026-03-05T11:30:00Z",
    }


def test_freshness_is_the_newest_cited_article_or_copy():
    older = Citation.quoting(1, passage("a", "a", published_at="2026-03-02T08:00:00Z"), "a")
    newer = Citation.quoting(2, passage("b", "b", published_at="2026-03-09T16:00:00Z"), "b")
    undated = Citation.quoting(3, passage("c", "c", published_at=None), "c")
    assert newest_cited([older, undated]) == "2026-03-02T08:00:00Z"
    assert newest_cited([older, newer, undated]) == "2026-03-09T16:00:00Z"
    copied = Citation(**{**older.__dict__, "carriers": (Carrier.of(COPY_DT),)})
    assert newest_cited([copied]) == "2026-03-05T12:15:00Z"
    assert newest_cited([undated]) is None
    answer = Answer("q", "a [1]", True, (older,))
    assert freshness(answer, "2026-03-24T10:00:00+00:00") == Freshness(
        "2026-03-02T08:00:00Z", "2026-03-24T10:00:00+00:00"
    )
    assert age_seconds("2026-03-24T23:50:00Z", NOW) == 600
    assert age_seconds("2026-03-26T00:00:00Z", NOW) == 0  # a clock ahead: never negative
    assert age_seconds(None, NOW) is None


def test_present_puts_it_together_and_declines_only_gain_freshness():
    hits = [
        hit(ACCEPTS, "ledger", "2026-03-09T16:00:00Z", "Northern Ledger"),
        hit(WITHDRAWS, "courier", "2026-03-13T18:20:00Z", "Plains Courier", also=(COPY_DT,)),
    ]
    shown = present(cited(hits, [0]), hits, query(), index_updated="2026-03-24T10:00:00Z")
    assert shown.text.startswith("Latest, 13 March 2026:")
    assert shown.citations[0].also_in == ("Delta Times",)
    assert shown.to_dict()["freshness"] == {
        "newest_cited": "2026-03-13T18:20:00Z",
        "index_updated": "2026-03-24T10:00:00Z",
    }
    assert shown.to_dict()["citations"][0]["also_in"][0]["source"] == "Delta Times"
    decline = Answer("q", "The news I have doesn't say.", False)
    declined = present(decline, hits, query(), index_updated=None)
    assert declined.text == decline.text
    assert declined.citations == ()
    assert declined.to_dict()["freshness"] == {"newest_cited": None, "index_updated": None}
