"""`newsbot eval` on a tiny MultiHop-RAG-format dataset: a real ingest (subprocess), the real
model and a real Chroma; the figures must be sane and bad usage must get the right exit code."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli, runtime
from bot.cli.eval_cmd import cmd_eval
from bot.settings import Settings

pytestmark = pytest.mark.integration

ARTICLES = [
    {
        "title": "Valley Council Approves Glacier Lake Dam",
        "source": "Alpine Gazette",
        "published_at": "2023-10-03T09:00:00+00:00",
        "url": "https://alpine.example/dam",
        "author": "Lena Brandt",
        "category": "business",
        "body": "The Valley Council approved the Glacier Lake dam on Tuesday after a two-year "
        "review. The dam will cost 40 million euros and supply power to 12,000 homes. "
        "Construction starts next spring, the council said.",
    },
    {
        "title": "Robotics Firm Tessaro Opens Lisbon Factory",
        "source": "Tech Daily",
        "published_at": "2023-11-14T12:30:00+00:00",
        "url": "https://techdaily.example/tessaro",
        "author": None,
        "category": "technology",
        "body": "Tessaro, a robotics firm, opened its first factory in Lisbon on Monday. The "
        "factory will employ 800 workers by 2025. Chief executive Marta Quill said the plant "
        "builds warehouse robots.",
    },
    {
        "title": "Marathon Record Falls in Rotterdam",
        "source": "Sport Wire",
        "published_at": "2023-12-04T16:00:00+00:00",
        "url": "https://sportwire.example/rotterdam",
        "author": "Tom Okafor",
        "category": "sports",
        "body": "Kenyan runner Daniel Kipsang broke the Rotterdam marathon record on Sunday. He "
        "finished in 2 hours, 3 minutes and 12 seconds. The previous record had stood since "
        "2019.",
    },
    {
        "title": "Bakers Protest Flour Prices in Naples",
        "source": "Sud News",
        "published_at": "2023-10-20T07:45:00+00:00",
        "url": "https://sudnews.example/flour",
        "author": None,
        "category": "business",
        "body": "Hundreds of bakers marched through Naples on Friday against rising flour "
        "prices. The union said prices have doubled in a year.",
    },
]


def evidence(article: int, fact: str) -> dict:
    a = ARTICLES[article]
    keys = ("title", "source", "url", "author", "category", "published_at")
    assert fact in a["body"]
    return {**{k: a[k] for k in keys}, "fact": fact}


# Index 0 is the test split (i % 5 == 0); 1..4 are dev.
QUERIES = [
    {
        "query": "In which city did Tessaro open its first factory?",
        "answer": "Lisbon",
        "question_type": "inference_query",
        "evidence_list": [
            evidence(1, "Tessaro, a robotics firm, opened its first factory in Lisbon on Monday.")
        ],
    },
    {
        "query": "How many homes will the Glacier Lake dam supply with power?",
        "answer": "12,000",
        "question_type": "inference_query",
        "evidence_list": [
            evidence(0, "The dam will cost 40 million euros and supply power to 12,000 homes.")
        ],
    },
    {
        "query": "Who broke the Rotterdam marathon record?",
        "answer": "Daniel Kipsang",
        "question_type": "inference_query",
        "evidence_list": [
            evidence(
                2, "Kenyan runner Daniel Kipsang broke the Rotterdam marathon record on Sunday."
            )
        ],
    },
    {
        "query": "Did both the Alpine Gazette and Tech Daily report on a new building project?",
        "answer": "Yes",
        "question_type": "comparison_query",
        "evidence_list": [
            evidence(
                0,
                "The Valley Council approved the Glacier Lake dam on Tuesday after a "
                "two-year review.",
            ),
            evidence(1, "Tessaro, a robotics firm, opened its first factory in Lisbon on Monday."),
        ],
    },
    {
        "query": "What did the mayor of Atlantis say about the submarine festival?",
        "answer": "Insufficient information.",
        "question_type": "null_query",
        "evidence_list": [],
    },
]


def write_dataset(folder: Path, queries: list[dict], articles: list[dict] = ARTICLES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.json").write_text(json.dumps(articles), encoding="utf-8")
    (folder / "MultiHopRAG.json").write_text(json.dumps(queries), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[Path, Path]:
    """(dataset dir, data dir) with the dataset's corpus ingested by a real `newsbot ingest`."""
    root = tmp_path_factory.mktemp("eval")
    dataset = write_dataset(root / "dataset", QUERIES)
    data_dir = root / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    env.update(
        NEWSBOT_DATA_DIR=str(data_dir),
        NEWSBOT_SOURCES=str(root / "none.toml"),
        HF_HUB_OFFLINE="1",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", str(dataset / "corpus.json"), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == len(ARTICLES)
    return dataset, data_dir


@pytest.fixture
def newsbot_eval(monkeypatch, embedder):
    """`newsbot eval ARGS` against a data dir, in-process through the CLI, with the session's
    model (loaded once)."""
    monkeypatch.setattr(runtime, "load_embedder", lambda name: embedder)

    def run(*argv: str, data_dir: Path) -> int:
        monkeypatch.setenv("NEWSBOT_DATA_DIR", str(data_dir))
        return cli.main(["eval", *argv])

    return run


def test_dev_split_figures_are_sane(indexed, newsbot_eval, capsys):
    dataset, data_dir = indexed
    assert newsbot_eval(str(dataset), "--split", "dev", "--json", data_dir=data_dir) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["split"], report["queries"], report["answerable"], report["null"]) == (
        "dev",
        4,
        3,
        1,
    )
    # Each fact is verbatim in a short article: it must be found, and near the top.
    assert report["hits_at_10"] == 1.0
    assert report["hits_at_4"] == 1.0
    assert report["mrr_at_10"] >= 0.5
    assert report["doc_recall_at_10"] == 1.0
    assert set(report["by_type"]) == {"inference_query", "comparison_query"}
    declining = report["declining"]
    assert declining["true_positives"] + declining["false_negatives"] == 1
    assert 0.0 <= report["answer_containment"] <= 1.0
    assert report["median_search_seconds"] > 0
    # Each answer is a sentence of these short articles: it quotes its gold fact.
    assert report["by_type"]["inference_query"]["evidence_in_answer"] == 1.0
    assert report["evidence_in_answer"] >= 2 / 3
    assert 0 < report["median_answer_chars"] <= 400


def test_test_split_with_limit_renders_a_table(indexed, newsbot_eval, capsys):
    dataset, data_dir = indexed
    assert newsbot_eval(str(dataset), "--split", "test", "--limit", "1", data_dir=data_dir) == 0
    out = capsys.readouterr().out
    assert "1 queries: 1 answerable, 0 null; k=10" in out
    assert "all answerable" in out
    assert "Hits@10" in out
    assert "evidence" in out
    assert "median answer:" in out
    argv = ("--split", "test", "--limit", "1", "--json", "--per-query")
    assert newsbot_eval(str(dataset), *argv, data_dir=data_dir) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert (result["index"], result["facts"], result["answered"]) == (0, 1, True)
    assert result["quoted"] == 1  # "Tessaro, a robotics firm, opened its first factory in …"
    assert result["answer_chars"] == len(result["answer"])


def test_an_index_without_the_dataset_articles_is_exit_1(indexed, newsbot_eval, tmp_path, capsys):
    _, data_dir = indexed
    other = [
        {
            **q,
            "evidence_list": [
                {**e, "title": f"Elsewhere: {e['title']}"} for e in q["evidence_list"]
            ],
        }
        for q in QUERIES
    ]
    dataset = write_dataset(tmp_path / "other", other)
    assert newsbot_eval(str(dataset), data_dir=data_dir) == 1
    err = capsys.readouterr().err
    assert "holds none of the dataset's articles" in err
    assert "newsbot ingest" in err


def test_no_index_at_all_is_a_clear_error(newsbot_eval, tmp_path, capsys):
    dataset = write_dataset(tmp_path / "dataset", QUERIES)
    assert newsbot_eval(str(dataset), data_dir=tmp_path / "empty") == 1
    assert "newsbot ingest" in capsys.readouterr().err


def test_bad_usage_is_exit_2(newsbot_eval, tmp_path, capsys):
    data_dir = tmp_path / "data"
    assert newsbot_eval(str(tmp_path / "missing"), data_dir=data_dir) == 2
    assert "no dataset directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert newsbot_eval(str(tmp_path / "empty"), data_dir=data_dir) == 2
    assert "MultiHopRAG.json" in capsys.readouterr().err
    dataset = write_dataset(tmp_path / "dataset", QUERIES)
    assert newsbot_eval(str(dataset), "--k", "0", data_dir=data_dir) == 2
    assert newsbot_eval(str(dataset), "--limit", "0", data_dir=data_dir) == 2
    with pytest.raises(SystemExit) as exit_info:
        newsbot_eval(str(dataset), "--split", "train", data_dir=data_dir)
    assert exit_info.value.code == 2
    # A Namespace built by hand (not through argparse) is checked too.
    args = argparse.Namespace(dataset=dataset, split="train", k=10, limit=None, json=False)
    assert cmd_eval(args, Settings(_env_file=None, data_dir=data_dir)) == 2
