"""The natural-question set itself (tests/fixtures/questions/natural.jsonl): well-formed, big
enough, every key stated by its evidence sentence, and a stratified dev/test split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from retrieval.eval.natural import has_keys, load_questions

FIXTURE = Path(__file__).parents[1] / "fixtures" / "questions" / "natural.jsonl"
KINDS = {"person", "organization", "place", "date", "number", "reason", "yesno", "description"}
CORPORA = {"seed", "serra", "multihop"}


def test_the_set_is_big_enough_and_well_formed():
    questions = load_questions(FIXTURE)  # raises on a malformed record or a duplicate id
    answerable = [q for q in questions if q.answerable]
    assert len(answerable) >= 200
    assert len(questions) - len(answerable) >= 80
    for q in questions:
        assert 3 <= len(q.question.split()) <= 12, q.id
        assert q.kind in KINDS, q.id
        assert q.corpus in CORPORA, q.id
        assert q.split in ("dev", "test"), q.id
        assert q.article, q.id
        if q.answerable:
            assert has_keys(q.evidence, q.keys), f"{q.id}: a key is not in its evidence"
            assert not has_keys(q.question, q.keys), f"{q.id}: the question states its answer"
        else:
            assert q.missing, q.id
            assert not q.evidence, q.id
    assert len({q.question.casefold() for q in questions}) == len(questions)


def test_records_keep_their_fields_in_the_documented_order():
    with open(FIXTURE, encoding="utf-8") as f:
        first = json.loads(f.readline())
    assert list(first)[:4] == ["id", "question", "answerable", "keys"]


def test_the_split_is_about_a_third_test_in_every_stratum():
    counts = Counter((q.corpus, q.answerable, q.split) for q in load_questions(FIXTURE))
    for corpus in CORPORA:
        for answerable in (True, False):
            dev, test = counts[(corpus, answerable, "dev")], counts[(corpus, answerable, "test")]
            assert 0.2 <= test / (dev + test) <= 0.4, (corpus, answerable, dev, test)
