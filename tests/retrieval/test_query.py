"""`parse_query`: a question read once into terms, answer kind, dates and outlets. No I/O."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from retrieval.search.dates import DateIntent, parse_dates
from retrieval.search.query import (
    Query,
    answer_kind,
    mentioned_outlets,
    outlet_mentions,
    parse_query,
    question_parts,
)
from retrieval.tokens import tokenize

NOW = datetime(2021, 3, 20, 12, tzinfo=UTC)
OUTLETS = {"reuters": "Reuters", "the verge": "The Verge", "verge": "The Verge"}


def parse(text: str, context: str = "") -> Query:
    return parse_query(text, context=context, outlets=OUTLETS, now=NOW)


def test_a_question_is_read_into_what_search_and_answer_need():
    query = parse("Who did Reuters say is invited to Moscow since March 9?")
    assert query.text == "Who did Reuters say is invited to Moscow since March 9?"
    assert query.terms == ("reuters", "invited", "moscow", "march", "9")
    assert query.kind == "entity"
    assert query.dates.after == datetime(2021, 3, 9, tzinfo=UTC)
    assert query.outlets == ("Reuters",)
    assert query.context == ""
    assert query.context_terms == ()
    assert query.search_text == query.text
    assert query.search_terms == query.terms


def test_the_parts_are_those_of_the_single_parsers():
    text = "How many delegates did The Verge count on September 26, 2023?"
    query = parse(text)
    assert query.terms == tuple(tokenize(text))
    assert query.dates == parse_dates(text, NOW)
    assert query.outlets == tuple(mentioned_outlets(text, OUTLETS))
    assert set(query.outlets) == {"The Verge"}


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who is invited to Moscow?", "entity"),
        ("Which outlet reported it?", "entity"),
        ("When is the conference?", "date"),
        ("Where will the talks be held?", "place"),
        ("How many countries are invited?", "number"),
        ("How much did it cost?", "number"),
        ("What did Kabulov say?", None),
        ("Whoever said so?", None),  # a whole cue word only
    ],
)
def test_the_answer_kind_follows_the_cue_word(question, kind):
    assert answer_kind(question) == kind
    assert parse(question).kind == kind


def test_a_follow_up_carries_its_context_for_search_but_not_its_dates_or_outlets():
    query = parse("And when is it?", context="What did Reuters say since March 9?")
    assert query.terms == ()
    assert query.context_terms == ("reuters", "march", "9")
    assert query.search_text == "What did Reuters say since March 9? And when is it?"
    assert query.search_terms == tuple(tokenize(query.search_text))
    assert query.dates == DateIntent()
    assert query.outlets == ()
    assert query.kind == "date"


def test_with_context_is_parsing_with_that_context():
    context = "Who is invited to Moscow?"
    assert parse("And when is it?").with_context(context) == parse("And when is it?", context)


def test_outlets_come_only_from_the_index_given():
    assert parse("What did Reuters say?").outlets == ("Reuters",)
    assert parse_query("What did Reuters say?", outlets={}, now=NOW).outlets == ()


def test_a_query_is_immutable_and_comparable():
    query = parse("Who is invited to Moscow?")
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.text = "something else"  # type: ignore[misc]
    assert query == parse("Who is invited to Moscow?")
    assert hash(query) == hash(parse("Who is invited to Moscow?"))


# --- the parts of a question -----------------------------------------------------------------

MORE_OUTLETS = {
    **OUTLETS,
    "techcrunch": "TechCrunch",
    "fortune": "Fortune",
    "the age": "The Age",
    "the new york times": "The New York Times",
    "new york times": "New York Times",
}


def parts(text: str) -> list[tuple[str, str | None]]:
    return [(p.text, p.outlet) for p in question_parts(text, MORE_OUTLETS)]


def test_two_outlets_two_parts_cut_at_the_conjunction_between_them():
    assert parts("Did TechCrunch report the layoffs before The Verge reported the lawsuit?") == [
        ("Did TechCrunch report the layoffs", "TechCrunch"),
        ("The Verge reported the lawsuit", "The Verge"),
    ]
    question = (
        "Which individual inflated the apartment's value, according to 'Fortune', and is "
        "also accused of adjusting its valuation, as reported by 'The Age'?"
    )
    assert parts(question) == [
        ("Which individual inflated the apartment's value, according to 'Fortune'", "Fortune"),
        ("is also accused of adjusting its valuation, as reported by 'The Age'", "The Age"),
    ]


def test_the_same_outlet_twice_is_two_parts_and_the_longest_name_wins():
    question = (
        "Does the TechCrunch article on Twitch's revenue split differ from the TechCrunch "
        "article on Beeper's subscriptions, while The New York Times praises both?"
    )
    got = parts(question)
    assert [outlet for _, outlet in got] == ["TechCrunch", "TechCrunch", "The New York Times"]
    assert "Twitch" in got[0][0]
    assert "Beeper" in got[1][0]
    assert outlet_mentions("the new york times", MORE_OUTLETS) == [(0, 18, "The New York Times")]


def test_a_part_without_words_of_its_own_asks_the_whole_question():
    question = "Which company, reported by both TechCrunch and The Verge, was sued?"
    (first, _), (second, _) = parts(question)
    assert first == question  # "Which company, reported by both TechCrunch" would say nothing
    assert second == "The Verge, was sued"
    # no conjunction between the outlets: each asks the whole question
    question = "Did the Fortune report on Trump disagree with The Age report on his penthouse?"
    assert parts(question) == [(question, "Fortune"), (question, "The Age")]


def test_without_two_outlets_clauses_are_parts_only_when_each_says_enough():
    question = (
        "Was the Moscow conference on Afghanistan postponed, while the Doha talks between "
        "Taliban negotiators continued?"
    )
    assert parts(question) == [
        ("Was the Moscow conference on Afghanistan postponed", None),
        ("the Doha talks between Taliban negotiators continued", None),
    ]
    assert parts("Who is invited to Moscow?") == [("Who is invited to Moscow?", None)]
    assert parts("Are China and Pakistan invited to Moscow by Reuters?") == [
        ("Are China and Pakistan invited to Moscow by Reuters?", "Reuters")
    ]
    assert len(question_parts("a, and b, and c, and d, and e", {})) == 1


def test_parse_query_carries_the_parts():
    query = parse("Did Reuters report the truce before The Verge reported the talks?")
    assert [p.outlet for p in query.parts] == ["Reuters", "The Verge"]
    assert query.parts[1].terms == ("verge", "talks")
