from datetime import UTC, datetime

from retrieval.search.dates import parse_dates
from retrieval.tokens import tokenize

NOW = datetime(2021, 3, 20, 12, tzinfo=UTC)


def test_tokenize_drops_stopwords_and_possessives():
    assert tokenize("Russia's envoy, Zamir Kabulov, said the talks") == [
        "russia",
        "envoy",
        "zamir",
        "kabulov",
        "talks",
    ]


def test_since_a_yearless_date_means_its_last_occurrence():
    intent = parse_dates("What happened since March 9?", NOW)
    assert intent.after == datetime(2021, 3, 9, tzinfo=UTC)
    assert intent.narrows
    later = parse_dates("since December 1", NOW)
    assert later.after == datetime(2020, 12, 1, tzinfo=UTC)


def test_mentioned_dates_do_not_narrow():
    intent = parse_dates("the Polygon article published on September 26, 2023", NOW)
    assert not intent.narrows
    assert intent.mentioned == (datetime(2023, 9, 26, tzinfo=UTC),)


def test_relative_and_latest():
    assert parse_dates("news this week", NOW).after == datetime(2021, 3, 13, 12, tzinfo=UTC)
    assert parse_dates("What is the latest on Kabulov?", NOW).latest
    assert parse_dates("before 2021-01-05", NOW).before == datetime(2021, 1, 5, tzinfo=UTC)
    assert parse_dates("May I ask who is invited?", NOW) == parse_dates("who is invited", NOW)
