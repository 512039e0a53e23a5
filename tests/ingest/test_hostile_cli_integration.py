"""Hostile files and responses through the real `newsbot ingest` process: random bytes,
100k-deep JSON and HTML, a 20 MB line, broken JSONL lines among good ones, empty files, a gzip
bomb, XML entity expansion, a feed of 5,000 entries, slow drips, an undecodable page, and URLs
of other loopback addresses (directly and behind a redirect) with NEWSBOT_FETCH_ALLOW_HOSTS set
to the test server's 127.0.0.1 only. Each bad source is named with a reason, the good ones of
the same run are indexed, the exit code is 1, stderr has no traceback, and the process's peak
memory (max RSS) stays within a bound of an ingest of the good files alone, measured in the
same run (figures printed with `pytest -s`)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devkit.bot_process import NEWSBOT, SEED_TITLE, clean_env
from tests.ingest.test_fetch_guard_integration import Server, send
from tests.ingest.test_hostile import GOOD_TITLES, HOSTILE_FILES, write_hostile_files
from tests.ingest.test_hostile_web_integration import ROUTES, RUSSIAN, page

pytestmark = pytest.mark.integration
MB = 1024 * 1024
HEADROOM_MB = 400  # what the hostile inputs may add to the good files' peak memory


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    max_rss_mb: float


def run_newsbot(*args: str, cwd: Path, **env: str) -> Run:
    """`newsbot ARGS` to completion, with its peak resident memory (from wait4's rusage)."""
    out, err = cwd / "stdout", cwd / "stderr"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen(
            [*NEWSBOT, *args], cwd=cwd, env=clean_env(**env), stdout=stdout, stderr=stderr
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    kb = usage.ru_maxrss  # kilobytes on Linux
    return Run(process.returncode, out.read_text(), err.read_text(), kb / 1024)


@pytest.fixture(scope="module")
def other() -> Iterator[Server]:
    """On 127.0.0.2: never allowed, so never reached."""
    server = Server("127.0.0.2", {"/secret": send(200, b"<html>inside</html>")})
    yield server
    server.close()


@pytest.fixture(scope="module")
def site(other: Server) -> Iterator[Server]:
    good = page("Переговоры в Женеве возобновились", RUSSIAN).encode("cp1251")
    routes = {
        **ROUTES,
        "/good.html": send(200, good, "text/html"),  # no charset: detected
        "/to-other": send(302, Location=f"{other.base}/secret"),
    }
    server = Server("127.0.0.1", routes)
    yield server
    server.close()


HOSTILE_URLS = {
    "/bomb": "response too large (over 50.0 MB)",
    "/drip-body": "timed out (no complete response within 2 s)",
    "/drip-headers": "timed out (no complete response within 2 s)",
    "/undecodable.html": "cannot tell the text encoding",
    "/to-other": "refused: 127.0.0.2 is a private address (loopback)",
}


def test_hostile_sources_through_the_real_ingest(tmp_path: Path, site: Server, other: Server):
    news = write_hostile_files(tmp_path / "news")
    good = tmp_path / "good"
    good.mkdir()
    for name in ("good.md", "seed.txt"):
        (good / name).write_bytes((news / name).read_bytes())
    env = {
        "NEWSBOT_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "NEWSBOT_HTTP_TIMEOUT": "0.5",  # a whole fetch gets 4 of these
        "NEWSBOT_SOURCES": str(tmp_path / "none.toml"),
    }
    baseline = run_newsbot(
        "ingest", str(good), "--json", cwd=tmp_path, NEWSBOT_DATA_DIR=str(tmp_path / "d0"), **env
    )
    assert baseline.code == 0, baseline.stderr

    urls = [f"{site.base}{path}" for path in HOSTILE_URLS]
    urls += [
        f"{site.base}/good.html",
        f"{site.base}/laughs.xml",
        f"{site.base}/flood.xml",
        f"{site.base}/deep.html",
        f"{other.base}/secret",
        f"http://169.254.169.254:{site.port}/latest/meta-data/",
    ]
    data = tmp_path / "data"
    hostile = run_newsbot(
        "ingest", str(news), *urls, "--json", cwd=tmp_path, NEWSBOT_DATA_DIR=str(data), **env
    )
    print(
        f"\nmax RSS: good files alone {baseline.max_rss_mb:.0f} MB; with {len(HOSTILE_FILES)} "
        f"hostile files and {len(urls)} hostile or good URLs {hostile.max_rss_mb:.0f} MB"
    )

    assert hostile.code == 1
    assert "Traceback" not in hostile.stderr, hostile.stderr[-3000:]
    report = json.loads(hostile.stdout)
    failed: dict[str, list[str]] = {}
    for failure in report["failed"]:
        failed.setdefault(failure["source"], []).append(failure["reason"])
    assert {Path(s).name for s in failed if s.startswith(str(news))} == HOSTILE_FILES
    for path, reason in HOSTILE_URLS.items():
        assert failed[f"{site.base}{path}"][0].startswith(reason)
    assert failed[f"{other.base}/secret"][0].startswith("refused: 127.0.0.2 is a private")
    assert "(link-local)" in failed[f"http://169.254.169.254:{site.port}/latest/meta-data/"][0]
    assert failed[f"{site.base}/deep.html"][0] in (
        "no article text found in the page",
        "the page is nested too deeply to read",
    )
    assert other.hits == []
    assert all("unexpected error" not in r for rs in failed.values() for r in rs)
    assert any("the feed has 5000 entries: read the first 100" in n for n in report["notes"])
    assert any("A Very Long Line: text cut at " in n for n in report["notes"])

    status = run_newsbot("status", "--json", cwd=tmp_path, NEWSBOT_DATA_DIR=str(data), **env)
    indexed = json.loads(status.stdout)["articles"]
    assert indexed == report["added"]
    assert indexed >= len(GOOD_TITLES) + 1 + 100  # the good files, the cp1251 page, the flood
    for question, title in [
        ("Who is invited to Moscow?", SEED_TITLE),
        ("Где возобновились переговоры о прекращении огня?", "Переговоры в Женеве возобновились"),
    ]:
        asked = run_newsbot(
            "ask", question, "--json", cwd=tmp_path, NEWSBOT_DATA_DIR=str(data), **env
        )
        assert title in [c["title"] for c in json.loads(asked.stdout)["citations"]]
    assert hostile.max_rss_mb < baseline.max_rss_mb + HEADROOM_MB
