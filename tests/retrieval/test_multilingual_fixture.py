"""The Serra Valley story in six languages and its questions keep their shape: every evidence
sentence verbatim in its article, every key in its evidence, each article in the language it
claims (detected), facts that exist in one language only."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from retrieval.languages import SUPPORTED, detect_language

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ARTICLES = [
    json.loads(line)
    for path in ("stories/serra_valley.jsonl", "stories/serra_valley_multilingual.jsonl")
    for line in (FIXTURES / path).read_text().splitlines()
]
QUESTIONS = [
    json.loads(line)
    for line in (FIXTURES / "questions/multilingual.jsonl").read_text().splitlines()
]
BODIES = {a["title"]: a["body"] for a in ARTICLES}


def test_two_native_articles_in_each_other_supported_language():
    native = [
        json.loads(x)
        for x in (FIXTURES / "stories/serra_valley_multilingual.jsonl").read_text().splitlines()
    ]
    languages = Counter(detect_language(f"{a['title']}\n{a['body']}") for a in native)
    assert languages == {code: 2 for code in SUPPORTED if code != "en"}


def test_questions_in_every_language_with_evidence_and_keys():
    assert Counter(q["lang"] for q in QUESTIONS if q["answerable"]) == {
        code: 8 for code in SUPPORTED
    }
    assert {q["lang"] for q in QUESTIONS if not q["answerable"]} == set(SUPPORTED) - {"en"}
    for q in QUESTIONS:
        assert set(q) >= {"id", "question", "answerable", "keys", "kind", "article", "split"}
        assert q["article"] in BODIES, q["id"]
        assert q["split"] in {"dev", "test"}
        if not q["answerable"]:
            assert q["keys"] == []
            assert q["missing"]
            continue
        assert q["evidence"] in BODIES[q["article"]], q["id"]
        for group in q["keys"]:
            assert any(key in q["evidence"] for key in group), q["id"]
            assert not any(key.casefold() in q["question"].casefold() for key in group)


def test_most_questions_are_answered_in_another_language_than_theirs():
    across = [
        q for q in QUESTIONS if q["answerable"] and detect_language(q["evidence"]) != q["lang"]
    ]
    assert len(across) >= 30


def test_facts_told_in_one_language_only():
    """Where the monitors' base is (Russian), the camp families (Persian), the exchange date
    (Arabic), the Valley Front's delegation head (Ukrainian), the second round's day
    (Pashto): no other article states them."""
    only = {"бывшей школы": 1, "۴۲۰۰": 1, "28 مارس": 1, "Ферраз": 1, "۲۰ مه": 1}
    for key, articles in only.items():
        assert sum(key in body for body in BODIES.values()) == articles, key
