"""Article pages and feeds through a real httpx.Client against a real loopback server."""

from __future__ import annotations

import httpx
import pytest

from ingest.article import article_id
from ingest.web import read_feed, read_url

pytestmark = pytest.mark.integration


def only_reason(collected) -> str:
    assert collected.articles == []
    (failure,) = collected.failures
    return failure.reason


# --- article pages ----


def test_article_page(web_server: str, http: httpx.Client) -> None:
    url = f"{web_server}/articles/doha.html"
    collected = read_url(url, http=http, outlet="ignored: the page names its site")

    assert collected.failures == []
    assert collected.notes == []
    (article,) = collected.articles
    assert article.title == "Envoys Meet in Doha as Ceasefire Talks Resume"
    assert article.body.startswith("Negotiators from both delegations returned to the table")
    assert article.source == "Peace Wire"
    assert article.author == "Leila Haddad"
    assert article.published_at == "2021-03-10T14:30:00+03:00"
    assert article.url == url
    assert article.id == article_id(url)
    assert article.origin == url


def test_redirect_chain_records_the_final_url(web_server: str, http: httpx.Client) -> None:
    url = f"{web_server}/redirect/3"
    (article,) = read_url(url, http=http, outlet="Geneva Desk", origin="my-origin").articles

    assert article.title == "Geneva Round Ends Without Agreement on Prisoner Exchange"
    assert article.url == f"{web_server}/articles/geneva.html"
    assert article.id == article_id(url)  # from the URL as given: stable across runs
    assert article.origin == "my-origin"
    assert article.source == "Geneva Desk"  # the page names no site
    assert article.published_at is None  # the page has no date: none is invented
    assert article.attribution == "With reporting by Jonas Weber in Geneva"


def test_page_without_site_name_or_outlet_uses_the_host(
    web_server: str, http: httpx.Client
) -> None:
    (article,) = read_url(f"{web_server}/articles/geneva.html", http=http).articles

    assert article.source == web_server.removeprefix("http://").split(":")[0]


def test_charset_from_the_http_header(web_server: str, http: httpx.Client) -> None:
    (article,) = read_url(f"{web_server}/articles/bogota.html", http=http).articles

    assert article.title == "Bogotá Talks Resume With Guerrilla Delegation"
    assert "communiqué" in article.body
    assert article.source == "Andes Daily"


def test_html_without_content_type_is_sniffed(web_server: str, http: httpx.Client) -> None:
    (article,) = read_url(f"{web_server}/articles/untyped", http=http).articles

    assert article.title == "Envoys Meet in Doha as Ceasefire Talks Resume"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/status/404", "HTTP 404 Not Found"),
        ("/status/500", "HTTP 500 Internal Server Error"),
        ("/loop/a", "too many redirects (more than 5)"),
        ("/files/report.pdf", "not an HTML page (content type application/pdf)"),
        ("/files/map.png", "not an HTML page (content type image/png)"),
        ("/articles/empty.html", "no article text found in the page"),
    ],
)
def test_broken_pages(web_server: str, http: httpx.Client, path: str, reason: str) -> None:
    collected = read_url(f"{web_server}{path}", http=http)

    assert only_reason(collected) == reason
    assert collected.failures[0].source == f"{web_server}{path}"


def test_slow_page_times_out(web_server: str, http: httpx.Client) -> None:
    reason = only_reason(read_url(f"{web_server}/slow", http=http))

    assert reason == "timed out (no response within 0.5 s)"  # it gave up; it did not wait


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/big", "response too large (64.0 KB, limit 16.0 KB)"),  # declared Content-Length
        ("/big-unsized", "response too large (over 16.0 KB)"),  # counted while reading
    ],
)
def test_size_cap(web_server: str, http: httpx.Client, path: str, reason: str) -> None:
    assert only_reason(read_url(f"{web_server}{path}", http=http, max_bytes=16 * 1024)) == reason


def test_unreachable_and_invalid_urls(http: httpx.Client) -> None:
    refused = only_reason(read_url("http://127.0.0.1:9/article", http=http))
    assert refused.startswith("could not fetch (ConnectError")
    assert only_reason(read_url("ftp://example.org/a", http=http)) == (
        "refused: only http and https URLs are fetched (got ftp:)"
    )


def test_url_serving_a_feed_is_read_as_a_feed(web_server: str, http: httpx.Client) -> None:
    collected = read_url(f"{web_server}/latest", http=http)

    assert [a.url for a in collected.articles] == [
        f"{web_server}/articles/doha.html",
        f"{web_server}/articles/geneva.html",
    ]
    assert {a.origin for a in collected.articles} == {f"{web_server}/latest"}


# --- feeds ----


def test_rss_feed(web_server: str, http: httpx.Client) -> None:
    url = f"{web_server}/feeds/rss.xml"
    collected = read_feed(url, http=http, outlet="fallback")

    assert collected.failures == []
    assert collected.notes == []
    doha, geneva = collected.articles
    assert doha.title == "Envoys Meet in Doha as Ceasefire Talks Resume"
    assert doha.published_at == "2021-03-10T14:30:00+03:00"  # the page's own date wins
    assert doha.source == "Peace Wire"
    assert doha.id == article_id(f"{web_server}/articles/doha.html")
    assert geneva.published_at == "2021-03-12T16:45:00+00:00"  # the page has none: the entry's
    assert geneva.source == "Peace Wire"  # the page names no site: the feed's title
    assert geneva.author == "Peace Wire Desk"
    assert geneva.body.startswith("The latest round of United Nations-sponsored consultations")
    assert {a.origin for a in collected.articles} == {url}


def test_atom_feed(web_server: str, http: httpx.Client) -> None:
    collected = read_feed(f"{web_server}/feeds/atom.xml", http=http)

    assert collected.failures == []
    moscow, geneva = collected.articles
    assert moscow.title == "Moscow Hosts Regional Talks on Afghanistan"
    assert moscow.published_at == "2021-03-18T09:15:00+00:00"
    assert moscow.author == "Anna Petrova"
    assert moscow.source == "Ceasefire Monitor"
    assert geneva.url == f"{web_server}/articles/geneva.html"  # after two redirects
    assert geneva.id == article_id(f"{web_server}/redirect/2")  # from the entry's link
    assert geneva.published_at == "2021-03-12T16:00:00+00:00"  # entry's <updated>, in UTC
    assert geneva.source == "Ceasefire Monitor"


def test_feed_entries_in_order_whatever_the_threads(web_server: str, http: httpx.Client) -> None:
    url = f"{web_server}/feeds/rss.xml"
    serial = read_feed(url, http=http, workers=1)
    pooled = read_feed(url, http=http, workers=4)

    assert [a.id for a in serial.articles] == [a.id for a in pooled.articles]
    assert [a.content_hash for a in serial.articles] == [a.content_hash for a in pooled.articles]


def test_entry_pages_that_404_fall_back_to_the_summary(web_server: str, http: httpx.Client) -> None:
    collected = read_feed(f"{web_server}/feeds/dead-links.xml", http=http)

    (article,) = collected.articles
    link = f"{web_server}/missing/istanbul.html"
    note = "could not read the page (HTTP 404 Not Found): used the feed summary"
    assert article.title == "Talks in Istanbul Postponed Again"
    assert article.body == (
        "A planned conference in Istanbul was postponed after the Taliban said they would not "
        "attend.\n\nOrganisers did not give a new date."
    )
    assert article.url == link
    assert article.published_at == "2021-04-12T08:00:00+00:00"
    assert article.source == "Stale Wire"
    assert article.notes == (note,)
    assert collected.notes == [f"{link}: {note}"]
    # the second entry has no summary to fall back on
    assert [(f.source, f.reason) for f in collected.failures] == [
        (
            f"{web_server}/missing/kabul.html",
            "HTTP 404 Not Found, and the feed entry has no summary",
        )
    ]


def test_malformed_feed(web_server: str, http: httpx.Client) -> None:
    reason = only_reason(read_feed(f"{web_server}/feeds/broken.xml", http=http))

    assert reason.startswith("malformed feed with no entries (SAXParseException")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/files/report.pdf", "not an RSS or Atom feed (content type application/pdf)"),
        ("/status/404", "HTTP 404 Not Found"),
        ("/slow", "timed out (no response within 0.5 s)"),
    ],
)
def test_not_a_feed(web_server: str, http: httpx.Client, path: str, reason: str) -> None:
    assert only_reason(read_feed(f"{web_server}{path}", http=http)) == reason


def test_html_page_given_as_a_feed(web_server: str, http: httpx.Client) -> None:
    reason = only_reason(read_feed(f"{web_server}/articles/doha.html", http=http))

    assert reason == "not an RSS or Atom feed (got an HTML page)"


def test_xml_that_is_not_a_feed(web_server: str, http: httpx.Client) -> None:
    assert (
        only_reason(read_feed(f"{web_server}/sitemap.xml", http=http)) == "not an RSS or Atom feed"
    )


def test_feed_without_entries_is_complete_with_a_note(web_server: str, http: httpx.Client) -> None:
    url = f"{web_server}/feeds/empty.xml"
    collected = read_feed(url, http=http)

    assert collected.articles == []
    assert collected.failures == []
    assert collected.notes == [f"{url}: the feed has no entries"]


def test_a_feed_skips_entries_indexed_with_the_same_feed_date(
    web_server: str, http: httpx.Client
) -> None:
    url = f"{web_server}/feeds/rss.xml"
    first = read_feed(url, http=http, outlet="fallback")
    doha, geneva = first.articles
    assert doha.feed_date is not None
    assert geneva.feed_date is not None
    # Doha indexed with its feed date; Geneva with another (its feed entry was updated).
    known = {doha.id: doha.feed_date, geneva.id: "2020-01-01T00:00:00+00:00"}
    again = read_feed(url, http=http, outlet="fallback", known=known)
    assert again.skipped == 1
    assert [a.id for a in again.articles] == [geneva.id]
    assert again.failures == []
