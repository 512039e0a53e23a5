"""Scoring natural questions: pure functions over plain data, no index, no model."""

from __future__ import annotations

import json

import pytest

from retrieval.eval.natural import (
    NaturalQuestion,
    has_keys,
    outcome,
    parse_questions,
    question_word,
    run_natural_eval,
    split_questions,
)
from retrieval.types import Answer


def record(**fields) -> str:
    base = {
        "id": "seed-001",
        "question": "when is the moscow conference",
        "answerable": True,
        "keys": [["March 18", "18 March"]],
        "kind": "date",
        "corpus": "seed",
        "split": "dev",
    }
    return json.dumps({**base, **fields})


def question(**fields) -> NaturalQuestion:
    return parse_questions([record(**fields)])[0]


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("who's mediating?", "who"),
        ("Whose idea was the truce", "who"),
        ("when do the talks start?", "when"),
        ("how many were freed?", "how many"),
        ("How much did it cost", "how much"),
        ("what's the deal about", "what"),
        ("where will they meet", "where"),
        ("why did the talks stall", "why"),
        ("which countries were invited", "which"),
        ("did the us attend?", "yes-no"),
        ("is the ceasefire holding", "yes-no"),
        ("and who chairs it", "who"),
        ("moscow conference date", "other"),
        ("Doha talks: what happened", "what"),
    ],
)
def test_question_word(text, word):
    assert question_word(text) == word


def test_keys_need_every_group_case_insensitively():
    keys = [["March 18", "18 March"], ["Moscow"]]
    assert has_keys("The conference opens on 18 march in MOSCOW [1].", keys)
    assert not has_keys("The conference opens on March 18 [1].", keys)
    assert not has_keys("anything", [])


def test_outcomes():
    answerable = question()
    assert outcome(answerable, True, "On March 18 [1].") == "right"
    assert outcome(answerable, True, "In Moscow [1].") == "wrong"
    assert outcome(answerable, False, "The news doesn't say.") == "false_decline"
    unanswerable = question(id="seed-u01", answerable=False, keys=[])
    assert outcome(unanswerable, False, "The news I have doesn't say who chairs it.") == "declined"
    assert outcome(unanswerable, True, "Russia plans a conference [1].") == "answered"


def test_parse_rejects_bad_records():
    with pytest.raises(ValueError, match="line 1: not JSON"):
        parse_questions(["{nope"])
    with pytest.raises(ValueError, match="seed-001: an answerable question needs"):
        parse_questions([record(keys=[])])
    with pytest.raises(ValueError, match="needs non-empty key groups"):
        parse_questions([record(keys=[[]])])
    with pytest.raises(ValueError, match="unanswerable question has no keys"):
        parse_questions([record(answerable=False)])
    with pytest.raises(ValueError, match="answerable must be true or false"):
        parse_questions([record(answerable="yes")])
    with pytest.raises(ValueError, match="duplicate id seed-001"):
        parse_questions([record(), "", record()])


def test_split():
    qs = parse_questions([record(), record(id="b", split="test"), record(id="c")])
    assert [q.id for q in split_questions(qs, "dev")] == ["seed-001", "c"]
    assert [q.id for q in split_questions(qs, "test")] == ["b"]
    assert len(split_questions(qs, "all")) == 3


def test_run_tallies_overall_per_word_and_per_corpus():
    qs = parse_questions(
        [
            record(id="a"),  # right
            record(id="b", question="who is the envoy", keys=[["Kabulov"]]),  # wrong
            record(id="c", question="how many countries", keys=[["6", "six"]], corpus="serra"),
            record(id="d", question="who chairs it", answerable=False, keys=[]),  # declined
            record(id="e", question="did it happen", answerable=False, keys=[], corpus="serra"),
        ]
    )
    replies = {
        "when is the moscow conference": Answer("", "It opens March 18 [1].", True),
        "who is the envoy": Answer("", "Maria Zakharova said [1].", True),
        "how many countries": Answer("", "The news doesn't say.", False),
        "who chairs it": Answer("", "The news doesn't say.", False),
        "did it happen": Answer("", "Yes [1].", True),
    }
    seen = []
    report = run_natural_eval(qs, replies.__getitem__, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (5, 5)
    o = report.overall
    assert (o.answerable, o.right, o.wrong, o.false_declines) == (3, 1, 1, 1)
    assert (o.unanswerable, o.declined, o.answered) == (2, 1, 1)
    assert o.right_share == pytest.approx(1 / 3)
    assert o.declined_share == 0.5
    assert list(report.by_word) == ["who", "when", "how many", "yes-no"]
    assert (report.by_word["who"].wrong, report.by_word["who"].declined) == (1, 1)
    assert report.by_corpus["serra"].false_declines == 1
    assert report.by_corpus["serra"].answered == 1
    assert report.by_corpus["seed"].right == 1
    data = report.to_dict(per_query=True)
    assert data["questions"] == 5
    assert [r["outcome"] for r in data["results"]] == [
        "right",
        "wrong",
        "false_decline",
        "declined",
        "answered",
    ]
    text = report.render()
    assert "5 questions: 3 answerable, 2 unanswerable" in text
    assert "right 0.333, wrong 0.333, near-topic declined 0.500" in text
    assert "what" not in report.by_word  # a word nobody asked gets no row


def test_shares_of_an_empty_group_are_none():
    report = run_natural_eval([question(answerable=False, keys=[])], lambda q: Answer(q, "", False))
    assert report.overall.right_share is None
    assert report.overall.declined_share == 1.0
    assert "right -, wrong -, near-topic declined 1.000" in report.render()
