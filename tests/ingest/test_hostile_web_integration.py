"""Hostile responses from a real loopback server: slow drips, a gzip bomb, entity expansion,
a feed of 5,000 entries, 100k-deep HTML, pages in undeclared encodings. Each ends as a named
failure or a note, within a bounded time and memory, never an exception."""

from __future__ import annotations

import gzip
import random
import time
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from ingest.netguard import guarded_client
from ingest.web import MAX_FEED_ENTRIES, read_feed, read_url
from tests.ingest.test_fetch_guard_integration import Route, Server, send

pytestmark = pytest.mark.integration
TIMEOUT = 0.5  # the deadline of a whole fetch is 4 of these

RUSSIAN = (
    "Переговоры о прекращении огня возобновились в Женеве во вторник. Делегации обеих сторон "
    "заявили, что готовы обсуждать обмен пленными и гуманитарные коридоры. «Мы видим первые "
    "признаки доверия», — сказал посредник ООН, добавив, что следующий раунд пройдёт в марте."
)


def page(title: str, body: str, head: str = "") -> str:
    paragraphs = "".join(f"<p>{body}</p>" for _ in range(3))
    return (
        f"<!DOCTYPE html><html><head>{head}<title>{title}</title></head>"
        f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


def drip(chunks: list[bytes], pause: float) -> Route:
    def route(handler) -> None:
        for chunk in chunks:
            handler.wfile.write(chunk)
            handler.wfile.flush()
            time.sleep(pause)

    return route


def gzip_bomb(handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(BOMB)))
    handler.end_headers()
    handler.wfile.write(BOMB)


BOMB = gzip.compress(b"<html><body>" + b"\0" * (64 * 1024 * 1024), compresslevel=9)
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>Laughs &lol9;</title>'
    b"<item><title>Entry &lol9;</title><description>&lol9;</description></item>"
    b"</channel></rss>"
)


def big_feed(entries: int) -> bytes:
    items = "".join(
        f"<item><title>Report number {n} on the talks</title><guid>id-{n}</guid>"
        f"<description>Summary {n}: delegates met again and agreed to meet once more."
        "</description></item>"
        for n in range(entries)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Flood</title>{items}'
        "</channel></rss>"
    ).encode()


HEADERS = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 4000\r\n\r\n"
)
ROUTES: dict[str, Route] = {
    "/drip-body": drip([HEADERS] + [b"<p>peace</p>"] * 200, 0.2),
    "/drip-headers": drip([bytes([b]) for b in HEADERS], 0.2),
    "/bomb": gzip_bomb,
    "/laughs.xml": send(200, LAUGHS, "application/rss+xml"),
    "/flood.xml": send(200, big_feed(5000), "application/rss+xml"),
    "/deep.html": send(
        200,
        (
            "<html><head><title>A Deep Page About the Talks</title></head><body>"
            + "<div>" * 100_000
            + "talks " * 50
            + "</div>" * 100_000
            + "</body></html>"
        ).encode(),
    ),
    "/cp1251-undeclared.html": send(
        200, page("Переговоры в Женеве возобновились", RUSSIAN).encode("cp1251"), "text/html"
    ),
    "/meta-wins.html": send(
        200,
        page(
            "Переговоры в Женеве возобновились",
            RUSSIAN,
            head='<meta charset="x-mac-cyrillic">',
        ).encode("mac_cyrillic"),
        "text/html",
    ),
    "/undecodable.html": send(
        200,
        b"<html><head><title>T</title></head><body>"
        + random.Random(3).randbytes(3000).replace(b"\0", b"")
        + b"</body></html>",
        "text/html",
    ),
}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    server = Server("127.0.0.1", ROUTES)
    yield server
    server.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with guarded_client(allow="127.0.0.1", timeout=TIMEOUT) as client:
        yield client


def only_reason(collected) -> str:
    assert collected.articles == []
    (failure,) = collected.failures
    return failure.reason


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_slow_drip_hits_the_total_deadline(server: Server, http: httpx.Client, path) -> None:
    """Each byte comes within the read timeout (0.2 s < 0.5 s), so only a deadline on the
    whole fetch ends it: 4 × 0.5 s. (Without it the fetch would succeed, after 25 or 40 s.)"""
    reason = only_reason(read_url(f"{server.base}{path}", http=http))
    assert reason == "timed out (no complete response within 2 s)"


def test_gzip_bomb_stops_at_the_cap_on_decoded_bytes(server: Server, http: httpx.Client) -> None:
    assert len(BOMB) < 1024 * 1024  # under the cap as sent; 64 MB decoded
    tracemalloc.start()
    try:
        reason = only_reason(read_url(f"{server.base}/bomb", http=http, max_bytes=1024 * 1024))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert reason == "response too large (over 1.0 MB)"
    assert peak < 80 * 1024 * 1024  # a decoded read at most, never the whole bomb at once


def test_entity_expansion_in_a_feed_is_not_expanded(server: Server, http: httpx.Client) -> None:
    tracemalloc.start()
    try:
        collected = read_feed(f"{server.base}/laughs.xml", http=http)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 50 * 1024 * 1024
    assert all("lollol" not in a.title + a.body for a in collected.articles)
    assert collected.failures or collected.notes  # named, one way or the other


def test_a_feed_of_5000_entries_is_capped_with_a_note(server: Server, http: httpx.Client) -> None:
    url = f"{server.base}/flood.xml"
    collected = read_feed(url, http=http)

    assert len(collected.articles) == MAX_FEED_ENTRIES
    assert collected.articles[0].title == "Report number 0 on the talks"
    assert f"{url}: the feed has 5000 entries: read the first {MAX_FEED_ENTRIES}" in (
        collected.notes
    )


def test_100k_deep_html_is_a_named_failure(server: Server, http: httpx.Client) -> None:
    reason = only_reason(read_url(f"{server.base}/deep.html", http=http))
    assert reason in ("no article text found in the page", "the page is nested too deeply to read")


def test_page_without_a_charset_is_detected(server: Server, http: httpx.Client) -> None:
    url = f"{server.base}/cp1251-undeclared.html"
    collected = read_url(url, http=http)

    (article,) = collected.articles
    assert article.title == "Переговоры в Женеве возобновились"
    assert RUSSIAN in article.body
    assert collected.notes == [f"{url}: not valid UTF-8: detected Windows-1251"]


def test_meta_charset_wins_over_detection(server: Server, http: httpx.Client) -> None:
    """Detection reads these Mac Cyrillic bytes as Windows-1251 (wrongly); the page's own
    <meta charset> says otherwise and is believed."""
    collected = read_url(f"{server.base}/meta-wins.html", http=http)

    (article,) = collected.articles
    assert RUSSIAN in article.body
    assert collected.notes == []


def test_page_whose_encoding_cannot_be_told(server: Server, http: httpx.Client) -> None:
    reason = only_reason(read_url(f"{server.base}/undecodable.html", http=http))
    assert reason.startswith("cannot tell the text encoding: not UTF-8")
