"""Several processes, one Chroma server: an ingester and readers on their own data
directories (as bot replicas on other machines), all real processes and a real `chroma run`."""

from __future__ import annotations

import time

import pytest

from devkit.bot_process import SEED, SEED_TITLE, clean_env, newsbot
from tests.test_faults_integration import LineProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOHA = "Who met again in Doha on Friday?"


def test_readers_on_other_machines_serve_each_commit_within_seconds(chroma_server, tmp_path):
    _, port = chroma_server
    server = {"NEWSBOT_CHROMA_HOST": "127.0.0.1", "NEWSBOT_CHROMA_PORT": str(port)}
    ingester = tmp_path / "ingester"
    done = newsbot("ingest", str(SEED), data_dir=ingester, cwd=tmp_path, **server)
    assert done.returncode == 0, done.stderr
    readers = [
        LineProcess(
            "ask",
            "-",
            env=clean_env(NEWSBOT_DATA_DIR=str(tmp_path / name), **server),
            cwd=tmp_path,
        )
        for name in ("replica-a", "replica-b")
    ]
    try:
        for reader in readers:  # each catches its own lexical index up from the store
            assert reader.send("Who is invited to Moscow?")["citations"][0]["title"] == SEED_TITLE
            assert reader.send(DOHA)["answered"] is False
        news = tmp_path / "news"
        news.mkdir()
        (news / "doha.md").write_text(
            "---\ntitle: Doha talks resume\nsource: Peace Wire\ndate: 2021-03-12\n---\n\n"
            "Negotiators for the Afghan government and the Taliban met again in Doha on "
            "Friday. Abdullah Abdullah said the talks would continue next week.\n"
        )
        done = newsbot("ingest", str(news), data_dir=ingester, cwd=tmp_path, **server)
        assert done.returncode == 0, done.stderr
        committed = time.monotonic()
        for reader in readers:
            answer = reader.send(DOHA)
            assert answer["answered"] is True, answer
            assert answer["citations"][0]["title"] == "Doha talks resume"
        served = time.monotonic() - committed
        print(f"\nboth replicas answered from the new commit {served:.2f} s after it")
        assert all(reader.close() == 0 for reader in readers)
    finally:
        for reader in readers:
            reader.kill()
    for reader in readers:
        assert "Traceback" not in reader.stderr()


def wait_for_lease(port: int, process, timeout: float = 240) -> bool:
    """Whether `process` came to hold an ingest lease in the server (read as Chroma has it)."""
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for collection in client.list_collections():
            if collection.name.endswith("-lease") and collection.get(ids=["ingest"])["ids"]:
                return True
        time.sleep(0.2)
    return False


def test_one_ingester_at_a_time_across_machines(chroma_server, tmp_path):
    """Two ingests on two data directories (no shared lock file): the lease in the store
    lets one run; the other is refused with one clear line."""
    import subprocess

    from devkit.bot_process import NEWSBOT

    _, port = chroma_server
    server = {"NEWSBOT_CHROMA_HOST": "127.0.0.1", "NEWSBOT_CHROMA_PORT": str(port)}
    news = tmp_path / "news"
    news.mkdir()
    for i in range(30):
        (news / f"r{i}.md").write_text(
            f"---\ntitle: Report {i}\n---\n\n" + " ".join(f"Sentence {i} {j}." for j in range(300))
        )
    first = subprocess.Popen(
        [*NEWSBOT, "ingest", str(news)],
        cwd=tmp_path,
        env=clean_env(NEWSBOT_DATA_DIR=str(tmp_path / "one"), **server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for_lease(port, first), "the first ingest never took the lease"
        second = newsbot("ingest", str(SEED), data_dir=tmp_path / "two", cwd=tmp_path, **server)
        _, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert second.returncode != 0, "the second ingest ran while the first held the lease"
    assert "another ingest" in second.stderr
    assert "Traceback" not in second.stderr
