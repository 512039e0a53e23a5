"""Dates cross the edges as ISO strings and are read once, here; answers survive JSON."""

import json

import pytest

from retrieval.types import (
    Answer,
    Carrier,
    Citation,
    Freshness,
    iso_to_timestamp,
    parse_published,
    published_day,
)


@pytest.mark.parametrize(
    ("stored", "day"),
    [
        ("2023-11-27 08:45:59.000000000Z", "2023-11-27"),  # MultiHop-RAG writes them so
        ("2023-11-27T08:45:59+00:00", "2023-11-27"),
        ("2023-11-27T23:30:00-05:00", "2023-11-27"),  # the outlet's own day, not UTC's
        ("2021-03-10", "2021-03-10"),
        ("not a date", None),
        (None, None),
        ("", None),
    ],
)
def test_published_day(stored, day):
    assert published_day(stored) == day


def test_dates_without_a_zone_are_utc():
    assert parse_published("2021-03-10T00:00:00").utcoffset().total_seconds() == 0
    assert iso_to_timestamp("2021-03-10T00:00:00") == iso_to_timestamp("2021-03-10T00:00:00Z")


def test_an_answer_comes_back_from_its_dict_as_it_was():
    carriers = (Carrier("Delta Times", "Observers to deploy", "https://d.example/1", None),)
    citation = Citation(
        n=1,
        title="Mission to deploy on March 10",
        source="Harbor Gazette",
        published_at="2026-03-04T09:00:00+00:00",
        url="https://h.example/2",
        quote="The mission will deploy on March 10.",
        article_id="a1",
        also_in=("Delta Times",),
        carriers=carriers,
    )
    fresh = Freshness("2026-03-04T09:00:00+00:00", "2026-03-05T00:00:00+00:00")
    for answer in (
        Answer("When?", "On March 10. [1]", True, (citation,), fresh),
        Answer("When?", "On March 10. [1]", True, (citation,)),
        Answer("Who won the cup?", "I found nothing on that.", False),
    ):
        assert Answer.from_dict(json.loads(json.dumps(answer.to_dict()))) == answer
