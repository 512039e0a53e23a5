"""Articles from the web: article pages and RSS/Atom feeds, through an injected `httpx.Client`.

Nothing here builds a client: the caller owns it (its timeout, redirect limit, headers); the one
newsbot uses is `ingest.netguard.guarded_client`, which refuses private addresses and every
scheme but http(s), redirects included. Each fetch also has a total deadline (`DEADLINE_FACTOR`
times the client's timeout), so a server that drips its response cannot hold it for ever, and
reads at most `max_bytes` of the decoded body (a gzip bomb stops at the cap).
Redirects are followed and the final URL is recorded on the article; article ids come from the
URL as given (the spec's URL, the feed entry's link), so they stay stable whether or not a
page redirects or can be reached on a given run.

Every problem becomes one `SourceFailure` with a clear reason: an HTTP error status, a
timeout, too many redirects, a refused address, a content type that is not a page or feed, a
response over the size cap, a page whose encoding cannot be told, a page without an article, a
malformed feed. A feed entry whose page cannot be read falls back to the entry's summary: the
article carries a note and so does the result. A feed's first `MAX_FEED_ENTRIES` entries are
read, and a note says how many were left.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import feedparser
import httpx

from ingest.article import Article, SourceFailure, article_id
from ingest.files import DEFAULT_MAX_BYTES, cap_article, decode_bytes, human_size
from ingest.netguard import BlockedError, DeadlineExceeded, fetch_deadline
from ingest.scraped import (
    Collected,
    ContentError,
    ScrapedPage,
    extract_html,
    html_to_text,
    normalize_date,
)
from ingest.validators import Validator

logger = logging.getLogger(__name__)

MAX_WORKERS = 4
PER_HOST = 2  # requests in flight at once to one host: polite to the sites a feed links to
MAX_FEED_ENTRIES = 100  # entries read from one feed (feeds list the newest first)
DEADLINE_FACTOR = 4  # a whole fetch (redirects, headers, body) gets this many client timeouts
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+xml"}
)
XML_TYPES = frozenset({"application/xml", "text/xml"})
_ACCEPT_PAGE = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
_ACCEPT_FEED = (
    "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5"
)
_SNIFF_BYTES = 2048


class FetchError(Exception):
    """A URL that could not be fetched; the message is the reason, fit for a report."""


class NotModified(Exception):
    """The server answered a conditional GET with 304: nothing changed since last time."""


@dataclass(frozen=True)
class Fetched:
    """A successful response: final URL after redirects, media type, charset, body bytes."""

    url: str
    content_type: str  # lowercased, without parameters; "" when the server sent none
    charset: str | None
    content: bytes
    validator: Validator | None = None  # its ETag / Last-Modified, for the next conditional GET

    def text(self, notes: list[str] | None = None) -> str:
        """The body as text: by its byte order mark, else the charset of the HTTP header, else
        its `<meta charset>`, else UTF-8, else the detected encoding (a note says which).
        Raises `ContentError` when the encoding cannot be told."""
        return decode_bytes(
            self.content, notes if notes is not None else [], declared=self.charset, html=True
        )

    def kind(self) -> str | None:
        """What the body is: "html", "feed", or None for anything else (a PDF, an image)."""
        head = self.content[:_SNIFF_BYTES].lower()
        looks_feed = any(marker in head for marker in (b"<rss", b"<feed", b"<rdf:rdf"))
        looks_html = b"<html" in head or b"<!doctype html" in head
        if self.content_type in FEED_TYPES:
            return "feed"
        if self.content_type in XML_TYPES:
            return "feed" if looks_feed else None
        if self.content_type in HTML_TYPES:
            return "feed" if looks_feed and not looks_html else "html"
        if self.content_type in ("", "text/plain", "application/octet-stream"):
            if looks_feed and not looks_html:
                return "feed"
            if looks_html:
                return "html"
        return None


def fetch(
    http: httpx.Client,
    url: str,
    *,
    max_bytes: int,
    accept: str = _ACCEPT_PAGE,
    deadline: float | None = None,
    validator: Validator | None = None,
) -> Fetched:
    """GET `url`, following redirects, reading at most `max_bytes` of the decoded body, all
    within `deadline` seconds (default: `DEADLINE_FACTOR` times the client's timeout); raises
    `FetchError`. With a `validator` the GET is conditional: `NotModified` on a 304."""
    seconds = deadline if deadline is not None else _default_deadline(http)
    headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate"}
    if validator is not None:
        headers.update(validator.request_headers())
    try:
        with (
            fetch_deadline(seconds) as at,
            http.stream("GET", url, follow_redirects=True, headers=headers) as response,
        ):
            if response.status_code == 304 and validator is not None:
                raise NotModified(url)
            if not 200 <= response.status_code < 300:
                phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
                raise FetchError(f"HTTP {response.status_code}{phrase}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(
                    f"response too large ({human_size(int(declared))}, "
                    f"limit {human_size(max_bytes)})"
                )
            inflate = _Inflater(response.headers.get("content-encoding", ""))
            body = bytearray()
            for raw in response.iter_raw():
                for piece in inflate(raw):  # the cap counts decoded bytes, piece by piece
                    body += piece
                    if len(body) > max_bytes:
                        raise FetchError(f"response too large (over {human_size(max_bytes)})")
                if at is not None and time.monotonic() > at:  # a client without the guard
                    raise FetchError(f"timed out (no complete response within {seconds:g} s)")
            body += inflate.flush()
            if len(body) > max_bytes:
                raise FetchError(f"response too large (over {human_size(max_bytes)})")
            media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            return Fetched(
                url=str(response.url),
                content_type=media_type,
                charset=response.charset_encoding,
                content=bytes(body),
                validator=Validator.of(response.headers),
            )
    except BlockedError as error:
        raise FetchError(str(error)) from None
    except httpx.TooManyRedirects:
        raise FetchError(f"too many redirects (more than {http.max_redirects})") from None
    except httpx.TimeoutException as error:
        if isinstance(error.__cause__, DeadlineExceeded):
            raise FetchError(f"timed out (no complete response within {seconds:g} s)") from None
        raise FetchError(f"timed out ({_timeout_text(http, error)})") from None
    except httpx.DecodingError as error:
        raise FetchError(f"could not decode the response ({error})") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
        raise FetchError(f"invalid URL ({error})") from None
    except httpx.HTTPError as error:
        raise FetchError(f"could not fetch ({type(error).__name__}: {error})") from None


def read_url(
    url: str,
    *,
    http: httpx.Client,
    outlet: str | None = None,
    origin: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    validators: Mapping[str, Validator] | None = None,
) -> Collected:
    """One article page; a URL that turns out to serve a feed is read as a feed.

    The outlet is the page's site name, else `outlet`, else the URL's host name. With
    `validators` (URL -> what the server said last time) the GET is conditional; a page not
    modified since is reported as such, and the article it gave is kept as it is indexed.
    """
    origin = origin or url
    collected = Collected()
    validator = (validators or {}).get(url)
    try:
        fetched = fetch(http, url, max_bytes=max_bytes, validator=validator)
    except NotModified:
        collected.not_modified.append(url)
        if validator is not None and validator.article_id:
            collected.kept.append(validator.article_id)
        return collected
    except FetchError as error:
        collected.failures.append(SourceFailure(url, str(error)))
        return collected
    kind = fetched.kind()
    if kind == "feed":
        return _read_feed_document(
            url, fetched, http=http, outlet=outlet, origin=origin, max_bytes=max_bytes
        )
    if kind != "html":
        reason = f"not an HTML page (content type {fetched.content_type or 'unknown'})"
        collected.failures.append(SourceFailure(url, reason))
        return collected
    page_notes: list[str] = []
    try:
        page = extract_html(fetched.text(page_notes), url=fetched.url)
    except ContentError as error:
        collected.failures.append(SourceFailure(url, str(error)))
        return collected
    except Exception as error:  # a bug or a library surprise: report it, keep going
        logger.exception("unexpected error reading %s", url)
        reason = f"unexpected error ({type(error).__name__}: {error}); see the log"
        collected.failures.append(SourceFailure(url, reason))
        return collected
    if not page.title:
        collected.failures.append(SourceFailure(url, "the page has no title"))
        return collected
    collected.validators[url] = (
        replace(fetched.validator, article_id=article_id(url)) if fetched.validator else None
    )
    article, cut = cap_article(
        Article(
            id=article_id(url),
            title=page.title,
            body=page.body,
            origin=origin,
            source=page.sitename or outlet or _host(fetched.url),
            url=fetched.url,
            published_at=page.date,
            author=page.author,
            attribution=page.attribution,
            notes=tuple(page_notes),
        )
    )
    collected.articles.append(article)
    collected.notes.extend(f"{url}: {note}" for note in [*page_notes, *([cut] if cut else [])])
    return collected


def read_feed(
    url: str,
    *,
    http: httpx.Client,
    outlet: str | None = None,
    origin: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    workers: int = MAX_WORKERS,
    max_entries: int = MAX_FEED_ENTRIES,
    known: Mapping[str, str] | None = None,
    validators: Mapping[str, Validator] | None = None,
) -> Collected:
    """The entries of an RSS or Atom feed (the first `max_entries`), each entry's page fetched
    and extracted — except entries already indexed (`known`: article id -> feed date) whose
    feed date did not change: a feed re-read every half hour lists mostly those.

    With `validators` the feed's GET is conditional: a feed not modified since the last run
    reads nothing more. Its new validators are kept only when every entry was read in full,
    so an entry that failed is tried again next time.

    Entry pages are fetched by up to `workers` threads (at most 4), at most `PER_HOST` at a
    time from one host; articles keep feed order. The outlet is the page's site name, else the
    feed's title, else `outlet`, else the host.
    """
    origin = origin or url
    try:
        fetched = fetch(
            http,
            url,
            max_bytes=max_bytes,
            accept=_ACCEPT_FEED,
            validator=(validators or {}).get(url),
        )
    except NotModified:
        return Collected(not_modified=[url])
    except FetchError as error:
        return Collected(failures=[SourceFailure(url, str(error))])
    return _read_feed_document(
        url,
        fetched,
        http=http,
        outlet=outlet,
        origin=origin,
        max_bytes=max_bytes,
        workers=workers,
        max_entries=max_entries,
        known=known,
    )


def _read_feed_document(
    url: str,
    fetched: Fetched,
    *,
    http: httpx.Client,
    outlet: str | None,
    origin: str,
    max_bytes: int,
    workers: int = MAX_WORKERS,
    max_entries: int = MAX_FEED_ENTRIES,
    known: Mapping[str, str] | None = None,
) -> Collected:
    collected = Collected()
    if fetched.kind() is None and fetched.content_type not in XML_TYPES:
        reason = f"not an RSS or Atom feed (content type {fetched.content_type or 'unknown'})"
        collected.failures.append(SourceFailure(url, reason))
        return collected
    headers = {"content-location": fetched.url}
    if fetched.content_type:
        charset = f"; charset={fetched.charset}" if fetched.charset else ""
        headers["content-type"] = fetched.content_type + charset
    try:
        parsed = feedparser.parse(fetched.content, response_headers=headers)
    except RecursionError:
        collected.failures.append(SourceFailure(url, "malformed feed (nested too deeply to read)"))
        return collected
    # a malformed feed can yield empty shells of entries: keep those with something to read
    entries = [
        entry
        for entry in parsed.get("entries", [])
        if entry.get("title") or entry.get("link") or _entry_summary(entry)
    ]
    if len(entries) > max_entries:
        collected.notes.append(
            f"{url}: the feed has {len(entries)} entries: read the first {max_entries}"
        )
        entries = entries[:max_entries]
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not entries:
        if fetched.kind() == "html":
            collected.failures.append(
                SourceFailure(url, "not an RSS or Atom feed (got an HTML page)")
            )
        elif problem is not None:
            reason = f"malformed feed with no entries ({_describe(problem)})"
            collected.failures.append(SourceFailure(url, reason))
        elif not parsed.get("version"):
            collected.failures.append(SourceFailure(url, "not an RSS or Atom feed"))
        else:
            collected.notes.append(f"{url}: the feed has no entries")
        return collected
    if problem is not None:
        collected.notes.append(
            f"{url}: malformed feed ({_describe(problem)}); read {len(entries)} entries anyway"
        )
    read_in_full = not collected.notes  # nothing malformed or left out so far
    feed_title = _text(parsed.get("feed", {}).get("title"))
    position_of = {id(entry): i for i, entry in enumerate(entries)}
    if known:
        fresh = [e for i, e in enumerate(entries) if not _indexed_unchanged(e, i, url, known)]
        collected.skipped = len(entries) - len(fresh)
        entries = fresh

    host_slots: dict[str, threading.Semaphore] = {}
    slots_lock = threading.Lock()

    def read_entry(item: tuple[int, dict]) -> tuple[Article | SourceFailure, str | None]:
        index, entry = item
        with slots_lock:
            slot = host_slots.setdefault(
                _host(_text(entry.get("link")) or url), threading.Semaphore(PER_HOST)
            )
        with slot:
            return _read_entry(
                index,
                entry,
                feed_url=url,
                http=http,
                outlet=feed_title or outlet,
                origin=origin,
                max_bytes=max_bytes,
            )

    indexed = [(position_of[id(entry)], entry) for entry in entries]
    if workers > 1 and len(indexed) > 1:
        with ThreadPoolExecutor(max_workers=min(workers, MAX_WORKERS, len(indexed))) as pool:
            results = list(pool.map(read_entry, indexed))  # map keeps feed order
    else:
        results = [read_entry(item) for item in indexed]
    for item, note in results:
        if isinstance(item, SourceFailure):
            collected.failures.append(item)
        else:
            item, cut = cap_article(item)
            collected.articles.append(item)
            if cut:
                collected.notes.append(f"{item.url or url}: {cut}")
        if note:
            collected.notes.append(note)
    in_full = read_in_full and not collected.failures
    in_full = in_full and not any(a.summary_only for a in collected.articles)
    collected.validators[url] = fetched.validator if in_full else None
    return collected


def _entry_locator(entry: dict, index: int, feed_url: str) -> str:
    """What identifies an entry's article: its link, else the feed and the entry's id."""
    link = _text(entry.get("link"))
    if link and not link.startswith(("http://", "https://")):
        link = None
    return link or f"{feed_url}#{_text(entry.get('id')) or index}"


def _entry_date(entry: dict) -> str | None:
    # dict.get: feedparser's own get maps a missing updated_parsed to published_parsed with a
    # DeprecationWarning (found by the fuzz test); published_parsed was tried first anyway
    return normalize_date(entry.get("published_parsed") or dict.get(entry, "updated_parsed"))


def _indexed_unchanged(entry: dict, index: int, feed_url: str, known: Mapping[str, str]) -> bool:
    recorded = known.get(article_id(_entry_locator(entry, index, feed_url)))
    return recorded is not None and recorded == (_entry_date(entry) or "")


def _read_entry(
    index: int,
    entry: dict,
    *,
    feed_url: str,
    http: httpx.Client,
    outlet: str | None,
    origin: str,
    max_bytes: int,
) -> tuple[Article | SourceFailure, str | None]:
    """One feed entry as an article, from its page or else its summary (with a note)."""
    link = _text(entry.get("link"))
    if link and not link.startswith(("http://", "https://")):
        link = None
    label = link or f"{feed_url} (entry {index})"
    title = _text(entry.get("title"))
    entry_date = _entry_date(entry)
    entry_author = _entry_author(entry)
    locator = _entry_locator(entry, index, feed_url)
    fallback = outlet or _host(link or feed_url)

    reason = "the entry has no link"
    page_notes: list[str] = []
    if link:
        try:
            page, final_url = _fetch_page(http, link, max_bytes=max_bytes, notes=page_notes)
        except (FetchError, ContentError) as error:
            reason = str(error)
        except Exception as error:  # a bug or a library surprise: fall back, keep going
            logger.exception("unexpected error reading %s", link)
            reason = f"unexpected error ({type(error).__name__}); see the log"
        else:
            if not (title or page.title):
                return SourceFailure(label, "neither the entry nor its page has a title"), None
            article = Article(
                id=article_id(locator),
                title=title or page.title or "",
                body=page.body,
                origin=origin,
                source=page.sitename or fallback,
                url=final_url,
                published_at=page.date or entry_date,
                author=page.author or entry_author,
                attribution=page.attribution,
                notes=tuple(page_notes),
                feed_date=entry_date or "",
            )
            return article, "; ".join(f"{label}: {note}" for note in page_notes) or None

    summary = _entry_summary(entry)
    if not summary:
        return SourceFailure(label, f"{reason}, and the feed entry has no summary"), None
    if not title:
        return SourceFailure(label, f"{reason}, and the feed entry has no title"), None
    note = f"could not read the page ({reason}): used the feed summary"
    article = Article(
        id=article_id(locator),
        title=title,
        body=summary,
        origin=origin,
        source=fallback,
        url=link,
        published_at=entry_date,
        author=entry_author,
        notes=(note,),
        summary_only=True,
        feed_date=entry_date or "",
    )
    return article, f"{label}: {note}"


def _fetch_page(
    http: httpx.Client, url: str, *, max_bytes: int, notes: list[str]
) -> tuple[ScrapedPage, str]:
    fetched = fetch(http, url, max_bytes=max_bytes)
    if fetched.kind() != "html":
        raise FetchError(f"not an HTML page (content type {fetched.content_type or 'unknown'})")
    return extract_html(fetched.text(notes), url=fetched.url), fetched.url


def _entry_summary(entry: dict) -> str:
    """The fullest text the feed gives for an entry: its content, else its summary."""
    candidates = [part.get("value", "") for part in entry.get("content", []) or []]
    candidates.append(entry.get("summary", "") or "")
    texts = [html_to_text(value) for value in candidates if isinstance(value, str) and value]
    return max(texts, key=len, default="")


_EMAIL_AND_NAME = re.compile(r"^\S+@\S+\s+\((?P<name>[^)]+)\)$")


def _entry_author(entry: dict) -> str | None:
    """The entry's author; RSS's "desk@example.org (Desk Name)" gives "Desk Name"."""
    author = _text(entry.get("author"))
    match = _EMAIL_AND_NAME.match(author or "")
    return _text(match["name"]) if match else author


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _host(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def _describe(error: object) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


_PIECE = 64 * 1024


class _Inflater:
    """Undoes a gzip or deflate Content-Encoding in pieces of at most 64 KB, so a gzip bomb
    never sits in memory decoded (httpx's own decoder inflates a whole read at once)."""

    def __init__(self, content_encoding: str):
        encoding = content_encoding.strip().lower()
        if encoding in ("", "identity"):
            self._inflater = None
        elif encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self._inflater = zlib.decompressobj()
            self._raw_deflate_ok = True
        else:
            raise FetchError(f"unsupported content encoding {content_encoding!r}")
        self._encoding = encoding

    def __call__(self, data: bytes) -> Iterator[bytes]:
        if self._inflater is None:
            yield data
            return
        try:
            while data:
                try:
                    piece = self._inflater.decompress(data, _PIECE)
                except zlib.error:
                    if self._encoding != "deflate" or not self._raw_deflate_ok:
                        raise
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # deflate without header
                    piece = self._inflater.decompress(data, _PIECE)
                self._raw_deflate_ok = False
                data = self._inflater.unconsumed_tail
                yield piece
                if self._inflater.eof:
                    return
        except zlib.error as error:
            raise FetchError(f"could not decode the response ({self._encoding}: {error})") from None

    def flush(self) -> bytes:
        if self._inflater is None:
            return b""
        try:
            return self._inflater.flush(_PIECE)
        except zlib.error as error:
            raise FetchError(f"could not decode the response ({self._encoding}: {error})") from None


def _default_deadline(http: httpx.Client) -> float | None:
    timeout = http.timeout
    parts = [t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool) if t]
    return DEADLINE_FACTOR * max(parts) if parts else None


def _timeout_text(http: httpx.Client, error: httpx.TimeoutException) -> str:
    timeout = http.timeout
    seconds = {
        httpx.ConnectTimeout: timeout.connect,
        httpx.ReadTimeout: timeout.read,
        httpx.WriteTimeout: timeout.write,
        httpx.PoolTimeout: timeout.pool,
    }.get(type(error))
    what = {
        httpx.ConnectTimeout: "no connection",
        httpx.ReadTimeout: "no response",
        httpx.WriteTimeout: "request not sent",
        httpx.PoolTimeout: "no free connection",
    }.get(type(error), "no response")
    return f"{what} within {seconds:g} s" if seconds is not None else what
