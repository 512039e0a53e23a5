"""Dates cross the edges as ISO strings and are read once, here."""

import pytest

from retrieval.types import iso_to_timestamp, parse_published, published_day


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
