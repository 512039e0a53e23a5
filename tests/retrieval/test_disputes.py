"""Disputed facts: figures and dates that outlets give differently, found and shown side by
side; agreement, different nouns, one outlet and unrelated sentences are not disputes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from retrieval.answer.disputes import (
    already_side_by_side,
    describe,
    figures,
    find_disputes,
    join_names,
    number_value,
    side_by_side,
    singular,
)
from retrieval.search.query import parse_query
from retrieval.types import Answer, Citation, SearchHit
from tests.retrieval.fakes import passage

NOW = datetime(2026, 3, 25, tzinfo=UTC)
DELTA = "A total of 34 observers will monitor the ceasefire from a base in Amaro."
HARBOR = "Only 28 observers will monitor the ceasefire in the Serra Valley, a document shows."


def query(text: str):
    return parse_query(text, outlets={}, now=NOW)


def hit(text, article, source, *, also=(), day="2026-03-07T09:00:00Z"):
    copies = tuple(
        passage(text, f"{article}-{name}", source=name, published_at=day) for name in also
    )
    return SearchHit(passage(text, article, source=source, published_at=day), 1.0, also_in=copies)


def extractive(hits, picks):
    """What the extractive answerer gives for `picks` (hit indexes): each sentence cited."""
    text = " ".join(f"{hits[i].passage.text} [{n}]" for n, i in enumerate(picks, 1))
    cites = tuple(
        Citation.quoting(n, hits[i].passage, hits[i].passage.text) for n, i in enumerate(picks, 1)
    )
    return Answer("q", text, True, cites)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (DELTA, [(34, "observer")]),
        ("Only 28 international observers arrived.", [(28, "observer")]),
        ("Thirty-four observers arrived on Tuesday.", [(34, "observer")]),
        ("A dozen monitors came.", [(12, "monitor")]),
        ("1.2 million people fled and 1,200 children", [(1_200_000, "person"), (1200, "child")]),
        ("They will patrol the twelve villages.", [(12, "village")]),
        ("The talks open on March 16, 2026 in Port Alva.", []),  # a date and a year
        ("Turnout rose 34% and 3.5 percent in 2021.", []),  # percentages, a year
        ("Donors pledged $5 million.", []),  # money
        ("The 34-year-old envoy met them at 10:30.", []),  # an age, a time
        ("A delegation of six, led by Varga, will travel.", []),  # counts nothing named
        ("One of the sides refused.", []),
    ],
)
def test_figures_are_a_number_and_the_noun_it_counts(sentence, expected):
    assert [(f.value, f.noun) for f in figures(sentence)] == expected


def test_numbers_and_nouns_are_normalised():
    assert number_value("thirty-four") == number_value("34") == 34
    assert number_value("1,200") == 1200
    assert number_value("banana") is None
    assert [singular(w) for w in ("observers", "countries", "people", "boxes", "talks")] == [
        "observer",
        "country",
        "person",
        "box",
        "talk",
    ]


def test_different_figures_in_two_outlets_are_a_dispute_shown_side_by_side():
    hits = [hit(DELTA, "d", "Delta Times"), hit(HARBOR, "h", "Harbor Gazette")]
    q = query("How many observers will monitor the ceasefire?")
    answer = extractive(hits, [0])  # the answer picked only one of them
    [dispute] = find_disputes(q, answer.text, hits)
    assert dispute.key == "observer"
    assert [(s.shown, s.outlets) for s in dispute.statements] == [
        ("34", ("Delta Times",)),
        ("28", ("Harbor Gazette",)),
    ]
    shown = side_by_side(answer, hits, [dispute])
    assert shown.text.endswith(
        "Reports differ: 34 observers according to Delta Times [1]; "
        "28 according to Harbor Gazette [2]."
    )
    # the version the answer had not cited gets its citation, quoting the sentence
    assert [(c.n, c.source, c.quote) for c in shown.citations] == [
        (1, "Delta Times", DELTA),
        (2, "Harbor Gazette", HARBOR),
    ]


def test_words_and_digits_for_the_same_figure_agree():
    spelled = "Thirty-four observers will monitor the ceasefire in the Serra Valley."
    hits = [hit(DELTA, "d", "Delta Times"), hit(spelled, "h", "Harbor Gazette")]
    q = query("How many observers will monitor the ceasefire?")
    assert find_disputes(q, extractive(hits, [0]).text, hits) == []


def test_the_same_figure_in_two_outlets_is_no_dispute():
    same = "All 34 observers will monitor the ceasefire from Amaro, officials said."
    hits = [hit(DELTA, "d", "Delta Times"), hit(same, "h", "Harbor Gazette")]
    q = query("How many observers will monitor the ceasefire?")
    assert find_disputes(q, extractive(hits, [0, 1]).text, hits) == []


def test_different_nouns_are_no_dispute():
    other = "Only 28 monitors will monitor the ceasefire in the Serra Valley."
    hits = [hit(DELTA, "d", "Delta Times"), hit(other, "h", "Harbor Gazette")]
    q = query("How many observers will monitor the ceasefire?")
    assert find_disputes(q, extractive(hits, [0, 1]).text, hits) == []


def test_different_figures_about_different_things_are_no_dispute():
    # the same noun, but the sentences say nothing else alike
    unrelated = "The 28 observers of last year's election in Teresina went home early."
    hits = [hit(DELTA, "d", "Delta Times"), hit(unrelated, "h", "Harbor Gazette")]
    q = query("How many observers will monitor the ceasefire?")
    assert find_disputes(q, extractive(hits, [0]).text, hits) == []


def test_one_outlet_or_its_wire_copies_do_not_dispute_themselves():
    q = query("How many observers will monitor the ceasefire?")
    wire = hit(DELTA, "d", "Delta Times", also=("Harbor Gazette",))  # the Gazette ran it too
    own = hit(HARBOR, "h", "Harbor Gazette")
    assert find_disputes(q, extractive([wire, own], [0]).text, [wire, own]) == []
    same_outlet = [hit(DELTA, "d", "Delta Times"), hit(HARBOR, "d2", "Delta Times")]
    assert find_disputes(q, extractive(same_outlet, [0]).text, same_outlet) == []
    # a third outlet with the other figure: the copy's outlets stand together
    third = hit(HARBOR, "p", "Plains Courier")
    hits = [wire, own, third]
    [dispute] = find_disputes(q, extractive(hits, [0]).text, hits)
    assert [(s.shown, s.outlets) for s in dispute.statements] == [
        ("34", ("Delta Times", "Harbor Gazette")),
        ("28", ("Plains Courier",)),
    ]


def test_a_dispute_must_concern_the_question_or_the_answer():
    hits = [hit(DELTA, "d", "Delta Times"), hit(HARBOR, "h", "Harbor Gazette")]
    unrelated = Answer(
        "q",
        "The talks open in Port Alva. [1]",
        True,
        (Citation.quoting(1, hits[0].passage, "The talks open in Port Alva."),),
    )
    assert find_disputes(query("Where do the talks open?"), unrelated.text, hits) == []


def test_different_dates_for_the_same_event_are_a_dispute():
    a = "The monitoring mission will deploy along the Serra Valley front line on March 10."
    b = "The monitoring mission will deploy along the Serra Valley front line on 12 March."
    same = "The monitoring mission will deploy along the Serra Valley front line on 10 March."
    q = query("When will the monitoring mission deploy?")
    hits = [hit(a, "a", "Plains Courier"), hit(b, "b", "Coastal Herald")]
    [dispute] = find_disputes(q, extractive(hits, [0]).text, hits)
    assert dispute.key == "date"
    assert describe(dispute, [1, 2]) == (
        "Reports differ on the date: March 10 according to Plains Courier [1]; "
        "12 March according to Coastal Herald [2]."
    )
    agreeing = [hit(a, "a", "Plains Courier"), hit(same, "b", "Coastal Herald")]
    assert find_disputes(q, extractive(agreeing, [0]).text, agreeing) == []
    other_event = [hit(a, "a", "Plains Courier"), hit("Schools reopen on 12 March.", "b", "X")]
    assert find_disputes(q, extractive(other_event, [0]).text, other_event) == []


def test_an_answer_that_already_puts_them_side_by_side_is_left_alone():
    hits = [hit(DELTA, "d", "Delta Times"), hit(HARBOR, "h", "Harbor Gazette")]
    q = query("How many observers will monitor the ceasefire?")
    text = "34 observers according to Delta Times [1]; 28 according to the Harbor Gazette [2]."
    cites = (
        Citation.quoting(1, hits[0].passage, DELTA),
        Citation.quoting(2, hits[1].passage, HARBOR),
    )
    written = Answer("q", text, True, cites)  # as an LLM asked for it writes it
    [dispute] = find_disputes(q, text, hits)
    assert already_side_by_side(text, dispute)
    assert side_by_side(written, hits, [dispute]) == written
    # two separate sentences are not side by side: the answer says so
    apart = extractive(hits, [0, 1])
    assert not already_side_by_side(apart.text, dispute)
    assert "Reports differ" in side_by_side(apart, hits, [dispute]).text


def test_declines_are_never_changed():
    hits = [hit(DELTA, "d", "Delta Times"), hit(HARBOR, "h", "Harbor Gazette")]
    decline = Answer("q", "The news I have doesn't say.", False)
    [dispute] = find_disputes(query("How many observers?"), DELTA, hits)
    assert side_by_side(decline, hits, [dispute]) == decline


def test_join_names():
    assert join_names([]) == ""
    assert join_names(["A"]) == "A"
    assert join_names(["A", "B"]) == "A and B"
    assert join_names(["A", "B", "C"]) == "A, B and C"
