"""The precision benchmark's protocol (bench/follow_precision.py): topics derived from
MultiHop questions, the gold it pools, the judged sample and the interval it reports, and its
matrices deciding exactly as the bot's matcher does. Pure: no index, no model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.follow_precision import (
    accepted,
    judged,
    load_labels,
    pooled_gold,
    precision_recall,
    question_names,
    wilson,
)
from bot.follows.matching import Match, MatchParams, match_topics, story_words, topic_terms

OUTLETS = ["The Verge", "TechCrunch", "Fortune", "The Independent - Life and Style"]


def test_a_names_topic_keeps_the_names_and_drops_outlets_months_and_openers():
    question = (
        "Does the TechCrunch article on Sam Bankman-Fried's trial, published on November 6, "
        "2023, and the report by 'The Verge' on FTX agree about Caroline Ellison?"
    )
    assert question_names(question, OUTLETS) == "Sam Bankman-Fried FTX Caroline Ellison"


def test_a_names_topic_has_at_most_four_names_and_none_twice():
    question = "Which of Apple, Google, Apple, Meta, Amazon and Netflix reported by Fortune?"
    assert question_names(question, OUTLETS) == "Apple Google Meta Amazon"


def test_a_question_naming_nothing_has_no_names_topic():
    question = "Who is the individual facing a criminal trial, as reported by The Verge?"
    assert question_names(question, OUTLETS) == ""


def test_the_longest_outlet_is_removed_first():
    question = "Does The Independent - Life and Style say Taylor Swift met Travis Kelce?"
    assert question_names(question, OUTLETS) == "Taylor Swift Travis Kelce"


def test_wilson_interval_brackets_the_proportion_and_narrows_with_n():
    low, high = wilson(9, 10)
    assert low < 0.9 < high
    low_big, high_big = wilson(900, 1000)
    assert low < low_big < 0.9 < high_big < high
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(10, 10)[1] == pytest.approx(1.0)


def test_pooled_gold_adds_the_gold_of_topics_naming_more():
    gold = np.array(
        [
            [True, False, False, False],  # "FTX"
            [False, True, False, False],  # "FTX Sam Bankman-Fried": names FTX and more
            [False, False, True, False],  # "Google": unrelated
        ]
    )
    pooled = pooled_gold(["FTX", "FTX Sam Bankman-Fried", "Google"], gold)
    assert pooled[0].tolist() == [True, True, False, False]
    assert pooled[1].tolist() == [False, True, False, False]  # "FTX" names less: not pooled
    assert pooled[2].tolist() == gold[2].tolist()


def test_precision_and_recall_count_pushes_against_gold():
    take = np.array([[True, True], [False, True]])
    gold = np.array([[True, False], [False, False]])
    result = precision_recall(take, gold)
    assert result["pushes"] == 3
    assert result["precision"] == pytest.approx(0.333, abs=1e-3)
    assert result["recall"] == 1.0
    assert precision_recall(np.zeros((1, 2), bool), gold)["precision"] is None


def test_judged_precision_counts_only_judged_pushes_that_are_pushed(tmp_path):
    path = tmp_path / "judgements.json"
    path.write_text(
        json.dumps(
            [
                {"split": "dev", "topic": "FTX", "title": "a", "about": True},
                {"split": "dev", "topic": "FTX", "title": "b", "about": False},
                {"split": "dev", "topic": "Google", "title": "a", "about": False},  # not pushed
                {"split": "test", "topic": "FTX", "title": "a", "about": False},  # other sample
                {"split": "dev", "topic": "FTX", "title": "b", "about": False},  # drawn twice
            ]
        )
    )
    labels = load_labels(path, "dev")
    take = np.array([[True, True], [False, False]])
    result = judged(take, ["FTX", "Google"], ["a", "b"], labels)
    assert result["judged"] == 3
    assert result["precision"] == pytest.approx(1 / 3, abs=1e-3)


def test_the_matrices_decide_as_the_bots_matcher():
    rng = np.random.default_rng(3)
    topics = rng.normal(size=(5, 8)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    passages = rng.normal(size=(3, 8)).astype(np.float32)
    passages /= np.linalg.norm(passages, axis=1, keepdims=True)
    texts = ["serra valley", "ceasefire", "chips", "serra ceasefire talks", "valley"]
    terms = [topic_terms(t) for t in texts]
    words = story_words(["Serra Valley ceasefire holds"])
    found = match_topics(topics, terms, passages, words)
    score = np.array([[m.score] for m in found])
    dense = np.array([[m.dense] for m in found])
    for params in (MatchParams(), MatchParams(threshold=0.5, min_dense=0.0)):
        expected = [m.accepted(params) for m in found]
        assert accepted(score, dense, params)[:, 0].tolist() == expected
    assert Match(dense=0.6, lexical=1.0).accepted(MatchParams())  # 1.10 reached
