"""Faults under the command line, with real parts: a `chroma run` server killed and started
again under running `newsbot ask -` and `newsbot search -` processes, and a disk that fills up
during an ingest (a real tmpfs of fixed size). The bot's faults are in
tests/bot/end_to_end/test_e2e_faults_integration.py. Figures are printed (`pytest -s`), never
asserted."""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from devkit.bot_process import NEWSBOT, SEED, SEED_TITLE, clean_env, newsbot

pytestmark = pytest.mark.integration
MOSCOW = "Who is invited to Moscow?"


class LineProcess:
    """`newsbot ask -` or `newsbot search -`, fed one line at a time; `send` returns the
    JSON line it prints for it."""

    def __init__(self, *args: str, env: dict[str, str], cwd: Path):
        self.stderr_path = cwd / f"{args[0]}.stderr"
        with open(self.stderr_path, "w") as err:
            self.process = subprocess.Popen(
                [*NEWSBOT, *args],
                cwd=cwd,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def send(self, line: str, timeout: float = 180) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            raise AssertionError(f"no line back for {line!r}:\n{self.stderr()}") from None

    def close(self) -> int:
        """End of input: the exit code."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(60)
        return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(10)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()

    def stderr(self) -> str:
        return self.stderr_path.read_text()


def test_ask_and_search_lines_say_the_store_is_down_then_answers_resume(
    restartable_chroma, tmp_path
):
    chroma = restartable_chroma
    data = tmp_path / "data"
    done = newsbot("ingest", str(SEED), data_dir=data, cwd=tmp_path, **chroma.env)
    assert done.returncode == 0, done.stderr
    env = clean_env(NEWSBOT_DATA_DIR=str(data), **chroma.env)
    ask = LineProcess("ask", "-", env=env, cwd=tmp_path)
    search = LineProcess("search", "-", "--k", "2", env=env, cwd=tmp_path)
    try:
        assert ask.send(MOSCOW)["answered"] is True
        assert search.send("Zakharova")["results"][0]["title"] == SEED_TITLE

        chroma.kill()
        down_at = time.monotonic()
        down = [ask.send(MOSCOW) for _ in range(3)] + [search.send("Zakharova")]
        for line, key in zip(down, ["question"] * 3 + ["query"], strict=True):
            assert set(line) == {key, "error"}
            assert line[key] in (MOSCOW, "Zakharova")
            assert f"chroma server 127.0.0.1:{chroma.port}" in line["error"]
            assert "is the store running?" in line["error"]

        chroma.restart()
        up_at = time.monotonic()
        answer = ask.send(MOSCOW)
        answered_at = time.monotonic()
        assert answer["answered"] is True
        assert answer["citations"][0]["title"] == SEED_TITLE
        assert search.send("Zakharova")["results"][0]["title"] == SEED_TITLE
        print(
            f"\nChroma down {up_at - down_at:.1f} s (4 lines answered with the error); "
            f"first answer {answered_at - up_at:.2f} s after the server was back"
        )
        assert ask.close() == 1  # some lines failed: the store was down
        assert search.close() == 1
    finally:
        ask.kill()
        search.kill()
    for process in (ask, search):
        assert "Traceback" not in process.stderr()
        assert "cannot read the index" in process.stderr()  # the library's words: in the log


# -- a full disk ---------------------------------------------------------------------------


def can_mount_tmpfs(where: Path) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        return False
    subprocess.run(["umount", str(where)], check=True)
    return True


@dataclass
class FullDiskRun:
    data: Path
    cwd: Path
    news: Path
    filler: Path
    ingest: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def full_disk_run(tmp_path_factory):
    """On a 64 MB tmpfs (mounting needs root, or CAP_SYS_ADMIN: skipped without it): the seed
    ingested, the disk filled to 400 kB, then an ingest of 30 more articles."""
    root = tmp_path_factory.mktemp("full-disk")
    disk = root / "disk"
    if os.geteuid() != 0 or not can_mount_tmpfs(disk):
        pytest.skip("a full disk is simulated with a tmpfs, which needs root to mount")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], check=True)
    try:
        data = disk / "data"
        assert newsbot("ingest", str(SEED), data_dir=data, cwd=root).returncode == 0
        news = generated_articles(root / "news", 30)
        filler = fill(disk, 400_000)
        ingest = newsbot("ingest", str(news), data_dir=data, cwd=root)
        yield FullDiskRun(data, root, news, filler, ingest)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def generated_articles(folder: Path, count: int) -> Path:
    """`count` Markdown articles of distinct sentences (seven passages each)."""
    folder.mkdir()
    rng = random.Random(12)
    words = (
        "peace talks ceasefire delegation envoy minister rebels government treaty border "
        "refugees aid summit mediator accord monitors withdrawal prisoners elections"
    ).split()
    for i in range(count):
        sentences = [
            " ".join(rng.choice(words) for _ in range(18)).capitalize() + "." for _ in range(40)
        ]
        (folder / f"report-{i}.md").write_text(
            f"---\ntitle: Wire report {i}\nsource: Test Wire\ndate: 2024-01-{i % 28 + 1:02d}\n"
            "---\n\n" + " ".join(sentences) + "\n"
        )
    return folder


def fill(disk: Path, leave_bytes: int) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as out:
        out.write(b"\0" * (shutil.disk_usage(disk).free - leave_bytes))
    return filler


def test_a_full_disk_during_an_ingest_leaves_the_previous_index_serving(full_disk_run):
    run = full_disk_run
    assert run.ingest.returncode == 1
    print(f"\nthe ingest on a full disk stopped with: {run.ingest.stderr.strip().splitlines()[-1]}")

    # the previous generation still answers, on the still full disk
    asked = newsbot("ask", MOSCOW, "--json", data_dir=run.data, cwd=run.cwd)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["answered"] is True
    assert answer["citations"][0]["title"] == SEED_TITLE
    status = json.loads(newsbot("status", "--json", data_dir=run.data, cwd=run.cwd).stdout)
    assert status["articles"] == 1

    # with room again the same ingest goes through (the lock was released, the half-built
    # generation is cleaned up) and nothing of the seed was lost
    run.filler.unlink()
    again = newsbot("ingest", str(run.news), "--json", data_dir=run.data, cwd=run.cwd)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["added"] == 30
    status = json.loads(newsbot("status", "--json", data_dir=run.data, cwd=run.cwd).stdout)
    assert status["articles"] == 31


def test_a_full_disk_is_reported_in_one_line_without_a_traceback(full_disk_run):
    assert full_disk_run.ingest.returncode == 1
    assert "Traceback" not in full_disk_run.ingest.stderr
    assert full_disk_run.ingest.stderr.startswith("newsbot: ")
