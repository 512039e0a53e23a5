"""`newsbot` as a user runs it: real processes, the real model, a real Chroma on disk — embedded,
and a `chroma run` server on loopback. Includes killing an ingest with SIGKILL mid-way."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SEED, free_port

pytestmark = pytest.mark.integration
SEED_TITLE = "Russia Plans Afghan Conference To Advance Peace Talks"


def newsbot(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def env(tmp_path):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))
    }
    environment.update(
        NEWSBOT_DATA_DIR=str(tmp_path / "data"),
        NEWSBOT_SOURCES=str(tmp_path / "none.toml"),
        HF_HUB_OFFLINE="1",
    )
    return environment


def synthetic_articles(folder: Path, count: int, paragraphs: int = 12) -> None:
    """Distinct articles (no repeated sentence), enough to keep an ingest busy a while."""
    rng = random.Random(7)
    words = [f"{a}{b}" for a in ("ka", "lo", "mi", "zu", "re", "to") for b in range(60)]
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        body = "\n\n".join(
            " ".join(
                " ".join(rng.choice(words) for _ in range(14)).capitalize() + "." for _ in range(4)
            )
            for _ in range(paragraphs)
        )
        (folder / f"a{n:03}.md").write_text(f"# Synthetic report {n}\n\n{body}\n")


def status(env) -> dict:
    result = newsbot("status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_ingest_status_search_json_and_exit_codes(env, tmp_path):
    missing = tmp_path / "missing.txt"
    result = newsbot("ingest", str(SEED), str(missing), "--json", env=env)
    assert result.returncode == 1, result.stderr  # a source failed
    report = json.loads(result.stdout)
    assert set(report) >= {"added", "updated", "unchanged", "removed", "failed"}
    assert (report["added"], report["unchanged"]) == (1, 0)
    assert report["failed"][0]["source"] == str(missing)
    assert report["failed"][0]["reason"]

    rerun = newsbot("ingest", str(SEED), "--json", env=env)
    assert rerun.returncode == 0
    assert json.loads(rerun.stdout)["unchanged"] == 1
    assert json.loads(rerun.stdout)["embedded"] == 0

    info = status(env)
    assert (info["articles"], info["model"]) == (1, "all-MiniLM-L6-v2")
    assert info["last_ingest"]["unchanged"] == 1
    assert info["chunks"] > 1

    found = newsbot("search", "Zakharova statement", "--k", "2", "--json", env=env)
    assert found.returncode == 0, found.stderr
    payload = json.loads(found.stdout)
    assert payload["query"] == "Zakharova statement"
    first = payload["results"][0]
    assert set(first) == {
        "rank",
        "score",
        "article_id",
        "title",
        "source",
        "published_at",
        "url",
        "text",
    }
    assert first["rank"] == 1
    assert first["title"] == SEED_TITLE
    assert "Zakharova" in first["text"]
    assert first["text"] in SEED.read_text()

    human = newsbot("ingest", str(SEED), env=env)
    assert "unchanged 1" in human.stdout

    assert newsbot("search", "x", "--k", "0", env=env).returncode == 2
    assert newsbot("ingest", "--bogus", env=env).returncode == 2
    assert newsbot("search", "   ", env=env).returncode == 2


def test_commands_on_a_missing_index_say_so(env):
    result = newsbot("search", "anything", env=env)
    assert result.returncode == 1
    assert "newsbot ingest" in result.stderr
    assert "Traceback" not in result.stderr


def _index_rows(data_dir: Path) -> int:
    """Records in the embedded Chroma, read straight from its SQLite catalogue (a client
    would take seconds to start, and the window is short): rises as an ingest writes."""
    database = data_dir / "chroma" / "chroma.sqlite3"
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]


@pytest.mark.slow
def test_killed_ingest_leaves_the_previous_index_whole(env, tmp_path):
    assert newsbot("ingest", str(SEED), env=env).returncode == 0
    before = status(env)
    live = before["collection"]
    rows = _index_rows(tmp_path / "data")
    news = tmp_path / "news"
    synthetic_articles(news, 40)

    # Killed while embedding (early), then killed while the next generation is being written.
    for moment in ("embedding", "indexing"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "ingest", str(SEED), str(news), "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 240
        if moment == "embedding":
            time.sleep(8)
        else:
            while _index_rows(tmp_path / "data") <= rows:
                assert proc.poll() is None, "the ingest finished before it could be killed"
                assert time.monotonic() < deadline
                time.sleep(0.01)
        assert proc.poll() is None, "the ingest finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

        after = status(env)
        assert after["collection"] == live, moment
        assert (after["articles"], after["chunks"]) == (before["articles"], before["chunks"])
        hit = newsbot("search", "Kabulov", "--json", env=env)
        assert json.loads(hit.stdout)["results"][0]["title"] == SEED_TITLE

    # The lock died with the process: the next ingest runs, cleans up and completes.
    done = newsbot("ingest", str(SEED), str(news), "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["added"], report["unchanged"]) == (40, 1)
    final = status(env)
    assert final["articles"] == 41
    assert final["collection"] != live


def test_against_a_chroma_server(env, chroma_server, tmp_path):
    env.update(NEWSBOT_CHROMA_HOST="127.0.0.1", NEWSBOT_CHROMA_PORT=str(chroma_server[1]))
    first = newsbot("ingest", str(SEED), "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["added"] == 1
    again = json.loads(newsbot("ingest", str(SEED), "--json", env=env).stdout)
    assert (again["unchanged"], again["embedded"]) == (1, 0)
    info = status(env)
    assert info["articles"] == 1
    assert "chroma server" in info["store"]
    assert not (tmp_path / "data" / "chroma").exists()  # nothing went to the embedded store
    hit = json.loads(newsbot("search", "Who is invited to Moscow?", "--json", env=env).stdout)
    assert hit["results"][0]["title"] == SEED_TITLE


def test_unreachable_chroma_server_is_one_clear_line(env):
    env.update(NEWSBOT_CHROMA_HOST="127.0.0.1", NEWSBOT_CHROMA_PORT=str(free_port()))
    result = newsbot("status", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Chroma" in result.stderr or "chroma" in result.stderr
