"""`newsbot eval --questions FILE` over a real index of the seed article (the real model and a
real Chroma), with a few questions from a temporary file; and its usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import cli, runtime

pytestmark = pytest.mark.integration

SEED_TITLE = "Russia Plans Afghan Conference To Advance Peace Talks"
QUESTIONS = [
    {
        "id": "seed-001",
        "question": "when is the moscow conference",
        "answerable": True,
        "keys": [["March 18", "18 March"]],
        "kind": "date",
        "corpus": "seed",
        "article": SEED_TITLE,
        "split": "dev",
    },
    {
        "id": "seed-002",
        "question": "who is russia's envoy to afghanistan",
        "answerable": True,
        # A key no answer about the seed can hold: this one must score as wrong or declined.
        "keys": [["Zebulon Quarrington"]],
        "kind": "person",
        "corpus": "seed",
        "article": SEED_TITLE,
        "split": "dev",
    },
    {
        "id": "seed-u01",
        "question": "what is the capital of peru",
        "answerable": False,
        "keys": [],
        "kind": "place",
        "corpus": "seed",
        "article": SEED_TITLE,
        "split": "test",
    },
]


def write_questions(folder: Path, questions: list[dict]) -> Path:
    path = folder / "questions.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    return path


@pytest.fixture
def newsbot_eval(monkeypatch, embedder):
    """`newsbot eval ARGS` in-process through the CLI, with the session's model."""
    monkeypatch.setattr(runtime, "load_embedder", lambda name: embedder)

    def run(*argv: str, data_dir: Path) -> int:
        monkeypatch.setenv("NEWSBOT_DATA_DIR", str(data_dir))
        return cli.main(["eval", *argv])

    return run


def test_dev_split_is_scored_per_word_and_corpus(seed_index, newsbot_eval, tmp_path, capsys):
    path = write_questions(tmp_path, QUESTIONS)
    argv = ("--questions", str(path), "--json", "--per-query")
    assert newsbot_eval(*argv, data_dir=seed_index) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["split"], report["questions"], report["answerable"]) == ("dev", 2, 2)
    assert report["unanswerable"] == 0
    outcomes = {r["id"]: r["outcome"] for r in report["results"]}
    assert outcomes["seed-001"] == "right"  # the seed states the date in one sentence
    assert outcomes["seed-002"] in ("wrong", "false_decline")
    assert set(report["by_word"]) == {"when", "who"}
    assert report["by_corpus"]["seed"]["right"] == 1
    assert report["total_seconds"] > 0


def test_test_split_renders_a_table(seed_index, newsbot_eval, tmp_path, capsys):
    path = write_questions(tmp_path, QUESTIONS)
    assert newsbot_eval("--questions", str(path), "--split", "test", data_dir=seed_index) == 0
    out = capsys.readouterr().out
    assert "1 questions: 0 answerable, 1 unanswerable" in out
    assert "near-topic declined" in out


def test_bad_usage_is_exit_2_and_a_wrong_index_exit_1(seed_index, newsbot_eval, tmp_path, capsys):
    assert newsbot_eval("--questions", str(tmp_path / "none.jsonl"), data_dir=seed_index) == 2
    assert "no question file" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "who?", "answerable": true, "keys": []}\n')
    assert newsbot_eval("--questions", str(bad), data_dir=seed_index) == 2
    assert "x: an answerable question needs" in capsys.readouterr().err
    path = write_questions(tmp_path, QUESTIONS)
    assert newsbot_eval(str(tmp_path), "--questions", str(path), data_dir=seed_index) == 2
    assert "not both" in capsys.readouterr().err
    assert newsbot_eval(data_dir=seed_index) == 2
    assert "DATASET_DIR or --questions FILE" in capsys.readouterr().err
    elsewhere = [{**q, "article": "Elsewhere: " + q["article"]} for q in QUESTIONS]
    (tmp_path / "other").mkdir()
    other = write_questions(tmp_path / "other", elsewhere)
    assert newsbot_eval("--questions", str(other), data_dir=seed_index) == 1
    assert "holds none of the articles" in capsys.readouterr().err
