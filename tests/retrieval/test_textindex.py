"""The lexical index (tantivy, in memory here): BM25 ranking, filters, and applying commits."""

from __future__ import annotations

import math

import pytest

from retrieval.index.text_index import TextIndex, index_terms
from retrieval.tokens import tokenize

DOCS = [
    ("a:v1:0", "a:v1", "Wire", 1.0, "The envoy spoke about peace talks in Doha."),
    ("b:v1:0", "b:v1", "Herald", 2.0, "Zakharova said the United States is invited."),
    ("c:v1:0", "c:v1", "Wire", 3.0, "Peace talks peace talks peace talks."),
]


@pytest.fixture
def index():
    text_index = TextIndex(None)
    text_index.apply(1, [], DOCS)
    return text_index


def ids(found):
    return [pid for pid, _ in found]


def test_rare_names_rank_first_and_unknown_words_find_nothing(index):
    assert ids(index.top(tokenize("What did Zakharova say?"), 3)) == ["b:v1:0"]
    assert index.top(tokenize("unknownword"), 3) == []
    assert ids(index.top(tokenize("peace talks"), 3))[0] == "c:v1:0"  # term frequency counts


def test_an_outlet_and_a_date_range_restrict_without_changing_scores(index):
    plain = dict(index.top(tokenize("peace talks"), 3))
    wire = index.top(tokenize("peace talks"), 3, source="Wire")
    assert ids(wire) == ["c:v1:0", "a:v1:0"]
    assert all(score == pytest.approx(plain[pid]) for pid, score in wire)
    assert ids(index.top(tokenize("peace talks"), 3, after=2.0)) == ["c:v1:0"]
    assert ids(index.top(tokenize("peace talks"), 3, before=3.0)) == ["a:v1:0"]


def test_idf_is_okapi_bm25s(index):
    n, df = 3, 2  # "talks" in two of three passages
    assert index.idf("talks") == pytest.approx(math.log(1 + (n - df + 0.5) / (df + 0.5)))
    assert index.idf("zakharova") > index.idf("talks")
    assert index.idf("never-seen") == pytest.approx(math.log(1 + (n + 0.5) / 0.5))


def test_a_commit_retires_versions_and_rewriting_one_is_harmless(index):
    new = ("a:v2:0", "a:v2", "Wire", 1.0, "The envoy left Doha.")
    index.apply(2, ["a:v1"], [new])
    index.apply(2, ["a:v1"], [new])  # applied twice (a crash before the marker): the same
    assert index.synced() == 2
    assert index.size() == 3
    assert ids(index.top(tokenize("envoy"), 5)) == ["a:v2:0"]


def test_possessives_and_apostrophes_match_on_both_sides(index):
    index.apply(2, [], [("d:v1:0", "d:v1", "Wire", None, "O’Brien’s talks with Russia's envoy")])
    assert "d:v1:0" in ids(index.top(tokenize("What did O'Brien say?"), 5))
    assert index_terms("Russia's envoy") == "russia envoy"


def test_the_index_on_disk_remembers_what_it_reflects(tmp_path):
    first = TextIndex(tmp_path / "lexical")
    first.apply(4, [], DOCS)
    again = TextIndex(tmp_path / "lexical")
    assert again.synced() == 4
    assert ids(again.top(tokenize("Zakharova"), 1)) == ["b:v1:0"]
