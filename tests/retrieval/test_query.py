"""`parse_query`: a question read once into terms, answer kind, dates and outlets. No I/O."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from retrieval.dates import DateIntent, parse_dates
from retrieval.lexical import tokenize
from retrieval.query import Query, answer_kind, mentioned_outlets, parse_query

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
