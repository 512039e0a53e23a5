"""A real HTTP server on loopback serving article pages, feeds and broken cases."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from ingest.netguard import guarded_client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WEB = FIXTURES / "web"
FILES = FIXTURES / "files"
CLIENT_TIMEOUT = 0.5
SLOW_SECONDS = 1.5
BIG_BYTES = 64 * 1024

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    content_type: str | None = HTML
    body: bytes = b""
    location: str | None = None
    delay: float = 0.0
    send_length: bool = True


def _fixture(name: str, content_type: str | None = HTML) -> Callable[[str], Reply]:
    def reply(base: str) -> Reply:
        body = (WEB / name).read_bytes().replace(b"{{BASE}}", base.encode())
        return Reply(content_type=content_type, body=body)

    return reply


def _redirect(target: str) -> Callable[[str], Reply]:
    return lambda base: Reply(status=302, content_type=None, location=target)


def _status(code: int) -> Callable[[str], Reply]:
    return lambda base: Reply(status=code, body=b"<html><body>error</body></html>")


_BIG = b"<html><body><article>" + b"<p>peace talks</p>" * (BIG_BYTES // 18) + b"</article></body>"

ROUTES: dict[str, Callable[[str], Reply]] = {
    "/articles/doha.html": _fixture("doha.html"),
    "/articles/geneva.html": _fixture("geneva.html", "text/html"),
    "/articles/moscow.html": _fixture("moscow.html"),
    "/articles/bogota.html": _fixture("bogota_cp1252.html", "text/html; charset=windows-1252"),
    "/articles/empty.html": _fixture("no_article.html"),
    "/articles/untyped": _fixture("doha.html", None),
    "/feeds/rss.xml": _fixture("rss.xml", "application/rss+xml; charset=utf-8"),
    "/feeds/atom.xml": _fixture("atom.xml", "application/atom+xml"),
    "/feeds/broken.xml": _fixture("broken.xml", "application/rss+xml"),
    "/feeds/dead-links.xml": _fixture("dead_links.xml", "application/rss+xml"),
    "/latest": _fixture("rss.xml", "application/xml"),
    "/redirect/3": _redirect("/redirect/2"),
    "/redirect/2": _redirect("/redirect/1"),
    "/redirect/1": _redirect("/articles/geneva.html"),
    "/loop/a": _redirect("/loop/b"),
    "/loop/b": _redirect("/loop/a"),
    "/status/404": _status(404),
    "/status/500": _status(500),
    "/slow": lambda base: Reply(body=(WEB / "doha.html").read_bytes(), delay=SLOW_SECONDS),
    "/files/report.pdf": lambda base: Reply(
        content_type="application/pdf", body=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
    ),
    "/files/map.png": lambda base: Reply(content_type="image/png", body=b"\x89PNG\r\n\x1a\n"),
    "/feeds/empty.xml": lambda base: Reply(
        content_type="application/rss+xml",
        body=b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet Wire</title>'
        b"<link>http://quiet.example/</link><description>nothing yet</description>"
        b"</channel></rss>",
    ),
    "/sitemap.xml": lambda base: Reply(
        content_type="application/xml",
        body=b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>http://quiet.example/a</loc></url></urlset>",
    ),
    "/big": lambda base: Reply(body=_BIG),
    "/big-unsized": lambda base: Reply(body=_BIG, send_length=False),
}


class _Handler(BaseHTTPRequestHandler):
    server_version = "newsbot-test/1.0"

    def do_GET(self) -> None:
        base = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}"
        route = ROUTES.get(self.path)
        if route is None and self.path.startswith("/missing/"):
            route = _status(404)
        reply = route(base) if route else Reply(status=404, body=b"not found")
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        if reply.location:
            self.send_header("Location", reply.location)
        if reply.send_length:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        # the client may have given up (the timeout test): nothing to do then
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up early is expected in these tests


@pytest.fixture(scope="session")
def web_server() -> Iterator[str]:
    """Base URL ("http://127.0.0.1:PORT") of a loopback server serving `ROUTES`."""
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


LOOPBACK_ALLOWED = "127.0.0.1"  # what an operator sets NEWSBOT_FETCH_ALLOW_HOSTS to


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """newsbot's guarded client, allowed only the loopback server's 127.0.0.1, with a short
    timeout and a small redirect limit."""
    with guarded_client(allow=LOOPBACK_ALLOWED, timeout=CLIENT_TIMEOUT, max_redirects=5) as client:
        yield client
