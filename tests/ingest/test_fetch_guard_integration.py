"""The guard against real loopback servers: what a default client never reaches, and what the
allow list lets through (only what it lists, not another loopback address behind a redirect or
a feed entry)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from ingest.netguard import guarded_client
from ingest.web import fetch, read_feed, read_url
from tests.ingest.conftest import CLIENT_TIMEOUT, WEB

pytestmark = pytest.mark.integration

Route = Callable[[BaseHTTPRequestHandler], None]


class Server:
    """A loopback HTTP server that records every request (path and Host header)."""

    def __init__(self, host: str, routes: dict[str, Route]):
        self.hits: list[tuple[str, str]] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append((self.path, self.headers.get("Host", "")))
                route = routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.host, self.port = self.server.server_address[:2]
        self.base = f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def send(
    status: int, body: bytes = b"", content_type: str = "text/html; charset=utf-8", **headers: str
) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(body)

    return route


DOHA = (WEB / "doha.html").read_bytes()
REDIRECT_TO = {"beside": ""}  # where /to-beside redirects, set by the test using it


@pytest.fixture(scope="module")
def other() -> Iterator[Server]:
    """A second loopback server on 127.0.0.2: never allowed, so never reached."""
    server = Server("127.0.0.2", {"/secret": send(200, DOHA)})
    yield server
    server.close()


@pytest.fixture(scope="module")
def site(other: Server) -> Iterator[Server]:
    """The allowed server on 127.0.0.1: a page, a redirect and a feed pointing at `other`."""
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Envoys Meet in Doha as Ceasefire Talks Resume</title>
<link>http://127.0.0.1:PORT/doha.html</link></item>
<item><title>An Entry Pointing Inside</title><link>{other.base}/secret</link>
<description>A summary of the entry that points at another loopback address.</description>
</item></channel></rss>"""
    routes: dict[str, Route] = {"/doha.html": send(200, DOHA)}
    routes["/to-other"] = send(302, Location=f"{other.base}/secret")
    routes["/to-ipv6"] = send(302, Location=f"http://[::1]:{other.port}/secret")
    routes["/to-file"] = send(302, Location="file:///etc/passwd")
    routes["/to-beside"] = lambda handler: send(302, Location=REDIRECT_TO["beside"])(handler)
    server = Server("127.0.0.1", routes)
    routes["/feed.xml"] = send(
        200, feed.replace("PORT", str(server.port)).encode(), "application/rss+xml"
    )
    yield server
    server.close()


def refused(collected) -> str:
    assert collected.articles == []
    (failure,) = collected.failures
    return failure.reason


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "127.1",
        "2130706433",
        "0x7f000001",
        "0.0.0.0",
        "0",
        "[::]",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "017700000001",
        "0177.1",
        "LocalHost",
    ],
)
def test_default_client_reaches_no_loopback_form(site: Server, host: str) -> None:
    before = len(site.hits)
    with guarded_client(timeout=CLIENT_TIMEOUT) as http:
        reason = refused(read_url(f"http://{host}:{site.port}/doha.html", http=http))

    assert reason.startswith("refused: ")
    assert "a private address (" in reason
    assert reason.endswith("set NEWSBOT_FETCH_ALLOW_HOSTS to allow it")
    assert len(site.hits) == before  # nothing reached the server


def test_without_the_guard_the_same_request_gets_through(site: Server) -> None:
    """The control: a plain client reads what the guarded one refused."""
    with httpx.Client(timeout=CLIENT_TIMEOUT, trust_env=False) as plain:
        fetched = fetch(plain, f"http://127.1:{site.port}/doha.html", max_bytes=10**6)
    assert b"Doha" in fetched.content


def test_allowed_host_is_read(site: Server) -> None:
    with guarded_client(allow="127.0.0.1", timeout=CLIENT_TIMEOUT) as http:
        collected = read_url(f"{site.base}/doha.html", http=http)
    (article,) = collected.articles
    assert article.title == "Envoys Meet in Doha as Ceasefire Talks Resume"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/to-other", "refused: 127.0.0.2 is a private address (loopback)"),
        ("/to-ipv6", "refused: ::1 is a private address (loopback)"),
        ("/to-file", "refused: only http and https URLs are fetched (got file:)"),
    ],
)
def test_redirect_from_an_allowed_host_to_another_is_refused(
    site: Server, other: Server, path: str, reason: str
) -> None:
    before = len(other.hits)
    with guarded_client(allow="127.0.0.1", timeout=CLIENT_TIMEOUT) as http:
        assert refused(read_url(f"{site.base}{path}", http=http)).startswith(reason)
    assert len(other.hits) == before


def test_feed_entry_pointing_at_another_loopback_address(site: Server, other: Server) -> None:
    before = len(other.hits)
    with guarded_client(allow="127.0.0.1", timeout=CLIENT_TIMEOUT) as http:
        collected = read_feed(f"{site.base}/feed.xml", http=http)

    doha, inside = collected.articles
    assert doha.title == "Envoys Meet in Doha as Ceasefire Talks Resume"
    assert not doha.summary_only
    assert inside.summary_only  # the page was never fetched: only the feed's own summary
    assert inside.notes[0].startswith(
        "could not read the page (refused: 127.0.0.2 is a private address (loopback)"
    )
    assert len(other.hits) == before


def test_a_name_is_connected_at_the_address_that_was_checked(other: Server) -> None:
    """A public-looking name resolving to a private address is refused; allowed, the request
    goes to exactly the checked address and still names the host (Host header; SNI alike)."""
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[tuple]:
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port))]

    url = f"http://news.example:{other.port}/secret"
    with guarded_client(resolver=resolve, timeout=CLIENT_TIMEOUT) as http:
        reason = refused(read_url(url, http=http))
    assert reason.startswith("refused: news.example resolves to 127.0.0.2, a private address")

    with guarded_client(allow="news.example", resolver=resolve, timeout=CLIENT_TIMEOUT) as http:
        (article,) = read_url(url, http=http).articles
    assert article.title == "Envoys Meet in Doha as Ceasefire Talks Resume"
    assert other.hits[-1] == ("/secret", f"news.example:{other.port}")
    assert calls == ["news.example", "news.example"]  # once per connection


def test_an_allowed_host_on_every_port_or_on_one(site: Server) -> None:
    """`127.0.0.1` allows every service on that host (a redirect to another port goes through);
    `127.0.0.1:PORT` allows that port only: the same redirect is refused, nothing reached."""
    beside = Server("127.0.0.1", {"/admin": send(200, DOHA)})  # e.g. a Chroma server's port
    try:
        site_routes_redirect = f"{site.base}/to-beside"
        REDIRECT_TO["beside"] = f"http://localhost:{beside.port}/admin"
        with guarded_client(allow="127.0.0.1", timeout=CLIENT_TIMEOUT) as http:
            (article,) = read_url(site_routes_redirect, http=http).articles
        assert article.title == "Envoys Meet in Doha as Ceasefire Talks Resume"
        assert len(beside.hits) == 1

        allow = f"127.0.0.1:{site.port}"
        with guarded_client(allow=allow, timeout=CLIENT_TIMEOUT) as http:
            assert len(read_url(f"{site.base}/doha.html", http=http).articles) == 1
            reason = refused(read_url(site_routes_redirect, http=http))
        assert reason == (
            "refused: localhost resolves to 127.0.0.1, a private address (loopback) allowed by "
            f"NEWSBOT_FETCH_ALLOW_HOSTS only on other ports than {beside.port}"
        )
        assert len(beside.hits) == 1
    finally:
        beside.close()
