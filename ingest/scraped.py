"""Pure building blocks shared by the file and web readers: no I/O here.

- `parse_scraped` turns a scraped plain-text page (site chrome, headline, paragraphs, a closing
  "Based on reporting by ..." line) into a `ScrapedPage`.
- `extract_html` turns an HTML page into a `ScrapedPage` with trafilatura.
- `normalize_date` turns whatever a source calls a date into ISO 8601 with a timezone, or None.
- `ContentError` is raised for content that cannot become an article; its message is the reason.
- `Collected` is what a reader hands back: articles, failures and non-fatal notes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import trafilatura
from lxml import html as lxml_html
from trafilatura.settings import Document

from ingest.article import Article, SourceFailure
from ingest.validators import Validator

# A page whose main text has fewer words than this holds no article (a 404 page, a menu).
MIN_BODY_WORDS = 20
# A headline has at least this many words and at most that many, and no final period.
TITLE_MIN_WORDS = 3
TITLE_MAX_WORDS = 25
# Kana and Han characters: Chinese and Japanese are written without spaces between words.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Site chrome is only looked for among the first and last this many non-blank lines.
CHROME_ZONE = 10

# Lines that are site chrome when they make up a whole line (compared lowercased, with
# surrounding punctuation stripped). Short on purpose: a real sentence never matches.
CHROME_LINES = frozenset(
    {
        "accessibility links",
        "skip to main content",
        "skip to content",
        "skip to navigation",
        "skip navigation",
        "breaking news",
        "share",
        "share this",
        "share this article",
        "share this story",
        "share on facebook",
        "share on twitter",
        "share on whatsapp",
        "share via email",
        "copy link",
        "link copied",
        "tweet",
        "email",
        "print",
        "print this page",
        "comments",
        "comment",
        "advertisement",
        "advertising",
        "sponsored",
        "sponsored content",
        "related",
        "related articles",
        "related stories",
        "related content",
        "related topics",
        "more on this",
        "more on this story",
        "read more",
        "see also",
        "most read",
        "most popular",
        "top stories",
        "latest news",
        "trending",
        "subscribe",
        "newsletter",
        "sign up",
        "sign in",
        "log in",
        "menu",
        "search",
        "close",
        "back to top",
        "follow us",
        "listen",
        "listen to this article",
        "accept",
        "accept all",
        "accept cookies",
        "accept all cookies",
        "reject all",
        "manage cookies",
        "cookie settings",
        "manage preferences",
        "got it",
        "please enable javascript",
        "loading",
        "facebook",
        "twitter",
        "whatsapp",
        "telegram",
        "linkedin",
        "reddit",
    }
)
_CHROME_PATTERNS = (
    # cookie banners speak of "we", "our" or "this site", or ask to accept or continue
    re.compile(r"\b(we|this (web)?site) uses? cookies\b"),
    re.compile(r"^(by (continuing|using)|to (continue|use)|please accept)\b.*\bcookies?\b"),
    re.compile(r"\bour (cookie|privacy) (policy|notice|settings)\b"),
    re.compile(r"^(image|photo|picture|video) (source|caption|copyright)\b"),
    re.compile(r"^(copyright\s*)?(©|\(c\))|^copyright \d{4}\b"),
    re.compile(r"\ball rights reserved\b"),
)
_CHROME_PATTERN_MAX_WORDS = 40

_ATTRIBUTION = re.compile(
    r"^(based on|with|additional|compiled from) reporting (by|from)\b"
    r"|^reporting by\b"
    r"|^compiled (by|from)\b"
    r"|^with (files|input|contributions|material) from\b",
    re.IGNORECASE,
)
_ATTRIBUTION_MAX_WORDS = 40


class ContentError(ValueError):
    """Content that cannot become an article; the message is the reason, fit for a report."""


@dataclass(frozen=True)
class ScrapedPage:
    """What a page says about its article; `date`, `author`, `sitename`, `url` when it says."""

    title: str | None
    body: str
    attribution: str | None = None
    author: str | None = None
    date: str | None = None  # ISO 8601 with timezone
    sitename: str | None = None
    url: str | None = None


@dataclass
class Collected:
    """What reading a source (or part of one) produced; `notes` are non-fatal remarks."""

    articles: list[Article] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: int = 0  # feed entries not fetched: indexed already, feed date unchanged
    # Conditional GET: URLs the server said were not modified, the indexed articles such a
    # page stands for (unchanged, so never pruned), and validators to remember once committed
    # (None: forget the old ones).
    not_modified: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    validators: dict[str, Validator | None] = field(default_factory=dict)

    def extend(self, other: Collected) -> None:
        self.skipped += other.skipped
        self.not_modified.extend(other.not_modified)
        self.kept.extend(other.kept)
        self.validators.update(other.validators)
        self.articles.extend(other.articles)
        self.failures.extend(other.failures)
        self.notes.extend(other.notes)


# --- scraped plain text ----


def _normal(line: str) -> str:
    return " ".join(line.lower().split()).strip(" \t:|•·»›>-–—")


def is_chrome(line: str) -> bool:
    """Whether a whole line is site chrome ("Share", "Skip to main content", a cookie banner)."""
    text = _normal(line)
    if not text:
        return True
    if text in CHROME_LINES:
        return True
    if len(text.split()) > _CHROME_PATTERN_MAX_WORDS:
        return False
    return any(pattern.search(text) for pattern in _CHROME_PATTERNS)


def word_count(text: str) -> int:
    """Words of `text` in any script: spaced words, plus a word for every two characters of
    Chinese or Japanese, which are written without spaces (one line of Japanese is one
    "word" to `split`, and a headline would never have the three words a title needs)."""
    unspaced = len(_UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    spaced = [word for word in text.split() if not _UNSPACED.search(word)]
    return len(spaced) + (unspaced + 1) // 2


def looks_like_title(line: str) -> bool:
    """A short line without a final period: a headline rather than a sentence or a label."""
    if not TITLE_MIN_WORDS <= word_count(line) <= TITLE_MAX_WORDS:
        return False
    return not line.rstrip().endswith((".", ",", ";", ":", "。", "、", "،", "؛"))


def is_attribution(line: str) -> bool:
    """A closing credit line such as "Based on reporting by AFP, AP and Reuters"."""
    return len(line.split()) <= _ATTRIBUTION_MAX_WORDS and bool(_ATTRIBUTION.match(line.strip()))


def _drop_chrome(lines: list[str]) -> list[str]:
    """Drop chrome lines among the first and last `CHROME_ZONE` lines, never in between."""
    last = len(lines) - 1
    return [
        line
        for i, line in enumerate(lines)
        if not ((i < CHROME_ZONE or last - i < CHROME_ZONE) and is_chrome(line))
    ]


def parse_scraped(text: str) -> ScrapedPage:
    """Headline, body and attribution of a scraped plain-text page.

    Each non-blank line is a paragraph. Site chrome near the top and bottom is dropped; the
    headline is the first remaining line that reads like a title (what comes before it is
    chrome the list does not know); closing attribution lines become `attribution`.
    Raises `ContentError` when no headline or no text is found.
    """
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = _drop_chrome([line for line in lines if line])
    if not lines:
        raise ContentError("no text left after removing site chrome")
    for index, line in enumerate(lines[:CHROME_ZONE]):
        if looks_like_title(line):
            title = line
            paragraphs = lines[index + 1 :]
            break
        if word_count(line) > TITLE_MAX_WORDS:
            raise ContentError("no headline found: the text starts with a paragraph")
    else:
        raise ContentError("no headline found near the top")
    credits: list[str] = []
    while paragraphs and is_attribution(paragraphs[-1]):
        credits.insert(0, paragraphs.pop())
    if not paragraphs:
        raise ContentError("no article text after the headline")
    return ScrapedPage(
        title=title,
        body="\n\n".join(paragraphs),
        attribution=" ".join(credits) or None,
    )


# --- HTML ----


def extract_html(page: str | bytes, *, url: str | None = None) -> ScrapedPage:
    """Main text and metadata of an HTML page, with trafilatura.

    The date comes from the page's own metadata (meta tags, JSON-LD, <time>, the URL), never
    from guessing in free text. `url` is the page's canonical URL when it declares one.
    Raises `ContentError` when the page holds no article text.
    """
    params = {
        "original_date": True,
        "extensive_search": False,
        "max_date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    }
    try:
        document = trafilatura.bare_extraction(
            page,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            date_extraction_params=params,
        )
    except RecursionError:
        raise ContentError("the page is nested too deeply to read") from None
    # a Document, or None when nothing was found (a dict comes only with as_dict=True)
    text = document.text if isinstance(document, Document) else None
    if not isinstance(document, Document) or text is None or not text.strip():
        raise ContentError("no article text found in the page")
    title = _clean(document.title)
    paragraphs = [" ".join(line.split()) for line in text.splitlines()]
    paragraphs = [line for line in paragraphs if line]
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    credits: list[str] = []
    while paragraphs and is_attribution(paragraphs[-1]):
        credits.insert(0, paragraphs.pop())
    body = "\n\n".join(paragraphs)
    if word_count(body) < MIN_BODY_WORDS:
        raise ContentError("no article text found in the page")
    return ScrapedPage(
        title=title,
        body=body,
        attribution=" ".join(credits) or None,
        author=_clean(document.author),
        date=normalize_date(document.date),
        sitename=_real_sitename(document.sitename, (url, document.url)),
        url=_clean(document.url),
    )


def _real_sitename(sitename: object, urls: tuple[str | None, ...]) -> str | None:
    """The page's site name, unless it is only the host name trafilatura fell back to."""
    name = _clean(sitename)
    if name is None:
        return None
    hosts = set()
    for url in urls:
        if url:
            parts = urlsplit(url)
            hosts.update({parts.netloc.lower(), (parts.hostname or "").lower()})
    bare = name.lower().removeprefix("www.")
    return None if bare in {host.removeprefix("www.") for host in hosts} else name


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed summary), paragraphs joined by blank lines."""
    if "<" not in fragment:
        return "\n\n".join(p for p in (" ".join(x.split()) for x in fragment.split("\n\n")) if p)
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml raises several types on junk; plain text is the safe answer
        return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for element in root.iter("p", "li", "h1", "h2", "h3", "h4", "blockquote", "div"):
        element.tail = "\n\n" + (element.tail or "")
    blocks = (" ".join(block.split()) for block in re.split(r"\n\s*\n", root.text_content()))
    return "\n\n".join(block for block in blocks if block)


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


# --- dates ----


def normalize_date(value: object) -> str | None:
    """ISO 8601 with a timezone (UTC when the value has none), or None when not a date.

    Accepts ISO 8601 strings (also "2023-11-27 08:45:59.000000000Z"), RFC 2822 strings
    ("Tue, 09 Mar 2021 10:00:00 GMT"), `datetime`, `date`, `time.struct_time` (as feedparser
    gives, in UTC) and Unix seconds. Never invents a date: what it cannot read gives None.
    """
    parsed: datetime | None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, time.struct_time):
        parsed = datetime(*value[:6], tzinfo=UTC)
    elif isinstance(value, int | float):
        try:
            parsed = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str):
        parsed = _parse_date_string(value)
    else:
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat(timespec="seconds")


_FRACTION = re.compile(r"(\d{2}:\d{2}:\d{2})[.,](\d+)")


def _parse_date_string(value: str) -> datetime | None:
    text = value.strip()
    if not text:
        return None
    iso = _FRACTION.sub(lambda m: f"{m.group(1)}.{m.group(2)[:6].ljust(6, '0')}", text)
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
