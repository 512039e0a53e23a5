"""Polite fetching: conditional GET (ETag / Last-Modified) for feeds and pages, and at most
`PER_HOST` requests at a time to one host — against a real loopback server that honours
validators, through the library and through the real `newsbot ingest` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from ingest.article import article_id
from ingest.pipeline import _recall
from ingest.validators import Validator, ValidatorStore
from ingest.web import PER_HOST, NotModified, fetch, read_feed, read_url

pytestmark = pytest.mark.integration

ETAG = '"v1"'
MODIFIED = "Tue, 03 Mar 2026 10:00:00 GMT"
PAGE = """<html><head><title>{title}</title><meta property="og:site_name" content="Lake Wire">
</head><body><article><h1>{title}</h1><p>{body}</p></article></body></html>"""
BODIES = {
    f"/pages/{n}.html": (
        f"Serra Valley talks, day {n}",
        f"Mediators met the delegations in Port Alva for the {n}th time on Monday. "
        "They agreed to continue the prisoner exchange talks next week. " * 3,
    )
    for n in range(1, 9)
}
SOLO = (  # a page that is a source of its own, in no feed
    "/solo.html",
    "Lake Council names a new envoy",
    "The Lake Council named Ana Ribeiro its envoy to the Serra Valley talks on Tuesday. " * 3,
)


@dataclass
class Site:
    """A loopback site: a feed of eight entries and their pages, each with an ETag."""

    base: str = ""
    requests: list[tuple[str, int]] = field(default_factory=list)  # (path, status)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0
    missing: set[str] = field(default_factory=set)  # pages that answer 404

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{title}</title><link>{self.base}{path}</link>"
            f"<pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate><description>{title}</description>"
            "</item>"
            for path, (title, _) in BODIES.items()
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Lake Wire</title>'
            f"<link>{self.base}/</link>{items}</channel></rss>"
        ).encode()

    def statuses(self, path: str) -> list[int]:
        return [status for p, status in self.requests if p == path]


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
            try:
                time.sleep(state.delay)
                self._reply()
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _reply(self) -> None:
            if self.path == "/feed.xml":
                body, kind = state.feed(), "application/rss+xml; charset=utf-8"
            elif self.path in state.missing:
                self._send(404, b"gone")
                return
            elif self.path in BODIES or self.path == SOLO[0]:
                title, text = BODIES.get(self.path) or SOLO[1:]
                body, kind = PAGE.format(title=title, body=text).encode(), "text/html"
            else:
                self._send(404, b"not found")
                return
            fresh = self.headers.get("If-None-Match") == ETAG or (
                self.headers.get("If-None-Match") is None
                and self.headers.get("If-Modified-Since") == MODIFIED
            )
            self._send(304 if fresh else 200, b"" if fresh else body, kind)

        def _send(self, status: int, body: bytes, kind: str = "text/plain") -> None:
            state.requests.append((self.path, status))
            self.send_response(status)
            self.send_header("ETag", ETAG)
            self.send_header("Last-Modified", MODIFIED)
            if status != 304:
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def test_a_fetch_with_validators_is_conditional(site: Site, http: httpx.Client) -> None:
    url = f"{site.base}/pages/1.html"
    fetched = fetch(http, url, max_bytes=1 << 20)
    assert fetched.validator == Validator(etag=ETAG, last_modified=MODIFIED)

    with pytest.raises(NotModified):
        fetch(http, url, max_bytes=1 << 20, validator=fetched.validator)
    with pytest.raises(NotModified):  # Last-Modified alone is enough for a server without ETags
        fetch(http, url, max_bytes=1 << 20, validator=Validator(last_modified=MODIFIED))
    assert site.statuses("/pages/1.html") == [200, 304, 304]
    # a stale validator gets the page
    assert fetch(http, url, max_bytes=1 << 20, validator=Validator(etag='"v0"')).content


def test_a_feed_not_modified_reads_nothing_more(site: Site, http: httpx.Client) -> None:
    url = f"{site.base}/feed.xml"
    first = read_feed(url, http=http)
    assert len(first.articles) == 8
    assert first.validators == {url: Validator(etag=ETAG, last_modified=MODIFIED)}
    site.requests.clear()

    again = read_feed(url, http=http, validators=first.validators)  # type: ignore[arg-type]

    assert again.not_modified == [url]
    assert again.articles == again.failures == []
    assert site.requests == [("/feed.xml", 304)]  # no entry page fetched


def test_a_feed_read_with_a_failure_is_not_remembered(site: Site, http: httpx.Client) -> None:
    """An entry whose page failed must be tried again next time, so no validator is kept."""
    url = f"{site.base}/feed.xml"
    site.missing.add("/pages/8.html")
    collected = read_feed(url, http=http)
    assert any(a.summary_only for a in collected.articles)  # page 8 was a 404: the summary
    assert collected.validators == {url: None}


def test_a_page_not_modified_keeps_its_article(site: Site, http: httpx.Client) -> None:
    url = f"{site.base}/pages/2.html"
    first = read_url(url, http=http)
    (article,) = first.articles
    validator = first.validators[url]
    assert validator is not None
    assert validator.article_id == article.id == article_id(url)

    again = read_url(url, http=http, validators={url: validator})

    assert again.articles == again.failures == []
    assert again.not_modified == [url]
    assert again.kept == [article.id]


def test_entry_pages_of_one_host_are_fetched_at_most_per_host_at_a_time(
    site: Site, http: httpx.Client
) -> None:
    site.delay = 0.2  # long enough that four workers would overlap
    collected = read_feed(f"{site.base}/feed.xml", http=http, workers=4)

    assert len(collected.articles) == 8
    assert site.most_in_flight == PER_HOST


def test_validators_survive_in_their_store(tmp_path: Path) -> None:
    store = ValidatorStore(tmp_path / "v.sqlite")
    assert store.load() == {}
    store.save({"https://a.example/feed": Validator(etag='"x"'), "https://b.example/p": None})
    store.save({"https://c.example/p": Validator(last_modified=MODIFIED, article_id="abc")})
    assert store.load() == {
        "https://a.example/feed": Validator(etag='"x"'),
        "https://c.example/p": Validator(last_modified=MODIFIED, article_id="abc"),
    }
    store.save({"https://a.example/feed": None})  # a feed read with failures forgets them
    assert list(store.load()) == ["https://c.example/p"]


def _ingest(data_dir: Path, cwd: Path, *sources: str) -> dict:
    env = {
        **os.environ,
        "NEWSBOT_DATA_DIR": str(data_dir),
        "NEWSBOT_FETCH_ALLOW_HOSTS": "127.0.0.1",
        "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", *sources, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_re_ingest_asks_conditionally_and_prunes_nothing(site: Site, tmp_path: Path) -> None:
    feed, page = f"{site.base}/feed.xml", f"{site.base}{SOLO[0]}"
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[sources]]\nname = "wire"\nfeed = "{feed}"\n\n'
        f'[[sources]]\nname = "envoy"\nurl = "{page}"\n'
    )
    data = tmp_path / "data"

    first = _ingest(data, tmp_path, "--sources", str(sources))
    assert first["added"] == 9  # eight entries and the page
    assert first["not_modified"] == 0
    site.requests.clear()

    second = _ingest(data, tmp_path, "--sources", str(sources))

    assert second["not_modified"] == 2
    assert second["added"] == second["updated"] == second["removed"] == 0
    assert second["unchanged"] == 1  # the page stands for its article; feeds never prune
    assert Counter(status for _, status in site.requests) == Counter({304: 2})
    status = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "status", "--json"],
            capture_output=True,
            text=True,
            env={**os.environ, "NEWSBOT_DATA_DIR": str(data)},
            cwd=tmp_path,
            check=True,
        ).stdout
    )
    assert status["articles"] == 9


def test_an_unreadable_validators_file_means_full_fetches_not_a_failed_ingest(
    tmp_path: Path, caplog
) -> None:
    broken = tmp_path / "v.sqlite"
    broken.write_bytes(b"not a database, whatever happened to it" * 100)

    assert _recall(ValidatorStore(broken)) == {}
    assert "could not read the feeds' validators" in caplog.text
