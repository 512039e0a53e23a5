"""Generated input through the file readers, the decoder, the sentence splitter, the chunker,
the address guard's parsing and the page and feed readers (hypothesis, a bounded number of
examples, in the default `pytest` run and the fast tier): nothing raises but the reported kinds,
every span and chunk stays inside the text, every spelling of an address means that address."""

from __future__ import annotations

import contextlib
import ipaddress
import tempfile
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_text
from ingest.files import SUPPORTED_SUFFIXES, decode_bytes, read_path
from ingest.netguard import AllowList, classify, parse_ip
from ingest.scraped import ContentError, extract_html
from ingest.web import Fetched, _read_feed_document
from retrieval.sentences import split_sentences

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# text that looks like news as well as junk: words, sentence marks, quotes, newlines, markup
TOKENS = [*"abcXYZ019 .!?…\"'“”‘’()[]\n\t:-#*{}<>/=,—", "Mr.", "U.S.", "<p>", "<div>", "# "]
TEXTISH = st.lists(st.sampled_from(TOKENS), max_size=200).map("".join)
ANY_TEXT = st.one_of(TEXTISH, st.text(max_size=300))
BLOBS = st.one_of(
    st.binary(max_size=2000),
    ANY_TEXT.map(lambda t: t.encode("utf-8")),
    st.tuples(ANY_TEXT, st.sampled_from(["cp1251", "shift_jis", "utf-16", "cp1252"])).map(
        lambda p: p[0].encode(p[1], errors="ignore")
    ),
)


def words(texts: list[str]) -> list[int]:
    return [len(t.split()) for t in texts]


def chars(texts: list[str]) -> list[int]:
    return [len(t) for t in texts]


@FUZZ
@given(data=BLOBS, suffix=st.sampled_from(SUPPORTED_SUFFIXES))
def test_readers_never_raise(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        collected = read_path(path)
    assert collected.articles or collected.failures
    assert all(f.reason and "unexpected error" not in f.reason for f in collected.failures)
    for article in collected.articles:
        assert article.title
        assert article.body


@FUZZ
@given(data=BLOBS, html=st.booleans(), declared=st.sampled_from([None, "utf-8", "koi8-r", "x"]))
def test_decoder_gives_text_or_a_reason(data: bytes, html: bool, declared: str | None) -> None:
    notes: list[str] = []
    try:
        text = decode_bytes(data, notes, declared=declared, html=html)
    except ContentError as error:
        reason = str(error)
    else:
        reason = None
        assert isinstance(text, str)
    assert reason is None or reason.strip()


@FUZZ
@given(text=ANY_TEXT)
def test_sentences_are_ordered_trimmed_spans(text: str) -> None:
    spans = split_sentences(text)
    last = 0
    for span in spans:
        assert last <= span.start < span.end <= len(text)
        piece = text[span.start : span.end]
        assert piece == piece.strip()
        last = span.end


@FUZZ
@given(
    text=ANY_TEXT,
    budget=st.integers(8, 64),
    target=st.integers(1, 64),
    overlap=st.integers(0, 3),
    counter=st.sampled_from([words, chars]),
)
def test_chunks_fit_the_budget_and_cover_the_text(text, budget, target, overlap, counter) -> None:
    chunks = chunk_text(text, count_tokens=counter, budget=budget, target=target, overlap=overlap)
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.tokens <= budget
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, c in enumerate(text) if not c.isspace())


# --- the address guard and the web readers ----


@FUZZ
@given(number=st.integers(0, 2**32 - 1), form=st.sampled_from(["dec", "hex", "oct", "dotted"]))
def test_every_spelling_of_an_ipv4_address_is_read_as_that_address(number: int, form: str):
    address = ipaddress.IPv4Address(number)
    written = {
        "dec": str(number),
        "hex": hex(number),
        "oct": "0" + oct(number)[2:] if number else "0",
        "dotted": str(address),
    }[form]
    assert parse_ip(written) == address
    assert parse_ip(f"[::ffff:{address}]") == ipaddress.IPv6Address(f"::ffff:{address}")
    kind = classify(address)
    assert classify(ipaddress.IPv6Address(f"::ffff:{address}")) == (
        f"IPv4-mapped {kind}" if kind else None
    )


@FUZZ
@given(text=st.text(max_size=60))
def test_address_parsing_and_allow_lists_never_raise_but_value_errors(text: str) -> None:
    ip = parse_ip(text)
    assert ip is None or classify(ip) is None or isinstance(classify(ip), str)
    reason = None
    try:
        AllowList.parse(text)
    except ValueError as error:
        reason = str(error)
    assert reason is None or "is not" in reason


FEEDISH = st.one_of(
    BLOBS,
    st.lists(
        st.sampled_from(
            [
                '<?xml version="1.0"?>',
                '<rss version="2.0">',
                "<channel>",
                "<title>Wire</title>",
                "<item>",
                "<title>Talks resume</title>",
                "<link>file:///etc/passwd</link>",
                "<link>javascript:alert(1)</link>",
                "<description>Delegates met. They agreed.</description>",
                "<pubDate>Tue, 10 Mar 2026 10:00:00 GMT</pubDate>",
                "<pubDate>not a date</pubDate>",
                "</item>",
                "</channel>",
                "</rss>",
                '<feed xmlns="http://www.w3.org/2005/Atom">',
                "<entry><title>A</title><summary>B.</summary></entry>",
                "</feed>",
                "<!DOCTYPE x [<!ENTITY a 'aaaa'>]>",
                "&a;",
                "<![CDATA[<p>x</p>]]>",
                "\x00",
                "<html><body><article><h1>T</h1><p>Text.</p></article></body></html>",
            ]
        ),
        max_size=40,
    ).map(lambda parts: "".join(parts).encode()),
)


@FUZZ
@given(
    body=FEEDISH,
    content_type=st.sampled_from(
        ["", "text/html", "application/rss+xml", "application/xml", "text/plain", "image/png"]
    ),
    charset=st.sampled_from([None, "utf-8", "koi8-r", "bogus"]),
)
def test_pages_and_feeds_give_articles_or_reasons(
    body: bytes, content_type: str, charset: str | None
) -> None:
    """A response body of any shape, read as a page and as a feed: articles, failures or
    notes, never an exception and never an "unexpected error". Entries link nowhere fetchable,
    so no request is made (the client has no route: any request would fail the test)."""
    fetched = Fetched("http://news.example/x", content_type, charset, body)

    def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"fetched {request.url}")

    with httpx.Client(transport=httpx.MockTransport(no_network)) as http:
        results = [
            _read_feed_document(
                fetched.url, fetched, http=http, outlet=None, origin="o", max_bytes=10**6
            )
        ]
    try:
        text = fetched.text([])
    except ContentError:
        pass
    else:
        with contextlib.suppress(ContentError):
            extract_html(text, url=fetched.url)
    for collected in results:
        assert all("unexpected error" not in f.reason for f in collected.failures)
        for article in collected.articles:
            assert article.title
