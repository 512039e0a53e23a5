"""Articles from local files and directories.

Supported: `.txt` (scraped pages, see `ingest.scraped`), `.md` (optional front matter, else the
first `# ` heading is the title), `.html`/`.htm` (trafilatura), `.json` (a list of records, one
record, or `{"articles": [...]}`) and `.jsonl` (one record per line). A record has `title`,
`body` (or `text`) and optionally `url`, `source`, `published_at` (or `date`), `author`, `id`.

Every problem becomes one `SourceFailure` with a clear reason and never stops the rest: a bad
file among good ones, a bad record among good ones. Nothing here prints or raises for bad input.

Text is decoded by `decode_bytes` (files and web pages alike): a byte order mark, else a declared
charset (an HTTP header, an HTML `<meta charset>`), else UTF-8, else the encoding
charset-normalizer detects (with a note). Text whose encoding cannot be told confidently is
reported, never decoded into garbage.

An article's text is kept to `MAX_ARTICLE_CHARS` (`cap_article`, for files and web pages alike):
the longest news features run to about 70,000 characters, while a hostile 20 MB line would
otherwise become 30,000 passages and half an hour of embedding. Longer text is cut, with a note.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import charset_normalizer

from ingest.article import Article, SourceFailure, article_id
from ingest.scraped import (
    Collected,
    ContentError,
    ScrapedPage,
    extract_html,
    normalize_date,
    parse_scraped,
)

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_ARTICLE_CHARS = 200_000  # about 30,000 words; MultiHop-RAG's longest article has 71,034
SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".json", ".jsonl")
FRONT_MATTER_KEYS = ("title", "date", "published_at", "url", "source", "author")


def read_path(
    path: str | Path,
    *,
    outlet: str | None = None,
    origin: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Collected:
    """Read a file, or a directory recursively, into articles.

    `outlet` is the outlet for articles that do not name one themselves (a record's `source`,
    a page's site name); when None, the name of the file's parent directory is used.
    `origin` is stored on every article (default: the absolute path given).
    """
    root = Path(path).expanduser()
    root = root.resolve() if root.exists() else root.absolute()
    origin = origin or str(root)
    collected = Collected()
    if not root.exists():
        collected.failures.append(SourceFailure(str(root), "no such file or directory"))
        return collected
    if root.is_dir():
        files = list(_walk(root))
        if not files:
            reason = "directory has no supported files (" + ", ".join(SUPPORTED_SUFFIXES) + ")"
            collected.failures.append(SourceFailure(str(root), reason))
        for file in files:
            collected.extend(_read_one(file, outlet=outlet, origin=origin, max_bytes=max_bytes))
        return collected
    return _read_one(root, outlet=outlet, origin=origin, max_bytes=max_bytes)


def _walk(directory: Path, seen: set[Path] | None = None) -> Iterator[Path]:
    """Supported files under `directory`, sorted, skipping hidden files and directories
    (and directories already walked, so a symlink loop ends)."""
    seen = seen if seen is not None else set()
    if directory.resolve() in seen:
        return
    seen.add(directory.resolve())
    try:
        entries = sorted(directory.iterdir(), key=lambda p: p.name)
    except OSError:
        logger.warning("cannot list %s", directory, exc_info=True)
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk(entry, seen)
        elif entry.is_file() and entry.suffix.lower() in SUPPORTED_SUFFIXES:
            yield entry


def _read_one(file: Path, *, outlet: str | None, origin: str, max_bytes: int) -> Collected:
    collected = Collected()
    source = str(file)
    try:
        articles, notes = _read_file(file, outlet=outlet, origin=origin, max_bytes=max_bytes)
    except ContentError as error:
        collected.failures.append(SourceFailure(source, str(error)))
        return collected
    except OSError as error:
        collected.failures.append(SourceFailure(source, f"cannot read: {error.strerror}"))
        return collected
    except Exception as error:  # a bug or a library surprise: report it, keep going
        logger.exception("unexpected error reading %s", file)
        reason = f"unexpected error ({type(error).__name__}: {error}); see the log"
        collected.failures.append(SourceFailure(source, reason))
        return collected
    for item in articles:
        if isinstance(item, SourceFailure):
            collected.failures.append(item)
        else:
            item, cut = cap_article(item)
            collected.articles.append(item)
            if cut:
                notes.append(cut)
    collected.notes.extend(f"{file}: {note}" for note in notes)
    return collected


def cap_article(article: Article, limit: int = MAX_ARTICLE_CHARS) -> tuple[Article, str | None]:
    """`article` with its text cut to `limit` characters (at a space when one is near), and the
    note saying so; unchanged with None when it fits."""
    body = article.body
    if len(body) <= limit:
        return article, None
    cut = body[:limit]
    space = cut.rfind(" ", limit - 1000)
    cut = (cut[:space] if space > 0 else cut).rstrip()
    note = f"text cut at {len(cut):,} characters (it has {len(body):,}): longer than any article"
    if article.title:
        note = f"{article.title[:80]}: {note}"
    return replace(article, body=cut, notes=(*article.notes, note)), note


def _read_file(
    file: Path, *, outlet: str | None, origin: str, max_bytes: int
) -> tuple[list[Article | SourceFailure], list[str]]:
    suffix = file.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        kind = suffix or file.name
        raise ContentError(f"unsupported file type '{kind}' (supported: {supported})")
    if not file.is_file():
        raise ContentError("not a regular file")
    size = file.stat().st_size
    if size > max_bytes:
        raise ContentError(f"file too large ({human_size(size)}, limit {human_size(max_bytes)})")
    data = file.read_bytes()
    if not data.strip():
        raise ContentError("file is empty")
    outlet = outlet or file.parent.name or "unknown"
    file_notes: list[str] = []  # about the whole file: every article from it carries them

    def article(page: ScrapedPage, key: str | None, notes: list[str]) -> Article:
        locator = page.url or (f"{file}#{key}" if key is not None else str(file))
        return Article(
            id=article_id(locator),
            title=page.title or "",
            body=page.body,
            origin=origin,
            source=page.sitename or outlet,
            url=page.url,
            published_at=page.date,
            author=page.author,
            attribution=page.attribution,
            notes=tuple(file_notes + notes),
        )

    text = decode_bytes(data, file_notes, html=suffix in (".html", ".htm"))
    if not text.strip():
        raise ContentError("file is empty")
    if suffix in (".html", ".htm"):
        page = extract_html(text)
        if not page.title:
            raise ContentError("the page has no title")
        return [article(page, None, [])], file_notes
    if suffix in (".txt", ".md"):
        notes: list[str] = []
        page = parse_scraped(text) if suffix == ".txt" else parse_markdown(text, notes)
        return [article(page, None, notes)], file_notes + notes

    records = _json_records(text) if suffix == ".json" else _jsonl_records(text)
    items: list[Article | SourceFailure] = []
    all_notes = list(file_notes)
    seen: dict[str, str] = {}
    for label, key, record in records:
        notes = []
        try:
            if isinstance(record, ContentError):
                raise record
            page, own_key = parse_record(record, notes)
        except ContentError as error:
            items.append(SourceFailure(str(file), f"{label}: {error}"))
            continue
        all_notes.extend(f"{label}: {note}" for note in notes)
        item = article(page, own_key or key, notes)
        if item.id in seen:
            all_notes.append(f"{label}: same article as {seen[item.id]} (same URL or id); skipped")
            continue
        seen[item.id] = label
        items.append(item)
    return items, all_notes


# --- text encodings ----

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# With fewer bytes outside ASCII than this, only a single-byte encoding is believed: a few bytes
# read as one or two CJK characters are a guess, not a detection.
MIN_DETECTION_BYTES = 8
# Detections whose mess ratio (charset-normalizer's "chaos") is above this are not trusted.
MAX_CHAOS = 0.1
_CHAOS_TIE = 0.02
# Among detections that fit about equally well, the encoding of most legacy text wins.
_PREFERRED = (
    "cp1252",
    "cp1251",
    "cp932",
    "shift_jis",
    "euc_jp",
    "gb18030",
    "gbk",
    "big5",
    "cp949",
    "euc_kr",
    "iso8859_7",
    "cp1253",
    "cp1250",
    "iso8859_2",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "cp1258",
    "koi8_r",
    "koi8_u",
    "cp874",
    "iso8859_15",
)
_NAMES = {
    "cp1250": "Windows-1250",
    "cp1251": "Windows-1251",
    "cp1252": "Windows-1252",
    "cp1253": "Windows-1253",
    "cp1254": "Windows-1254",
    "cp1255": "Windows-1255",
    "cp1256": "Windows-1256",
    "cp1257": "Windows-1257",
    "cp1258": "Windows-1258",
    "cp932": "Shift_JIS (Windows-31J)",
    "shift_jis": "Shift_JIS",
    "iso8859_7": "ISO-8859-7",
    "koi8_r": "KOI8-R",
}
_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_META_SCAN_BYTES = 4096
_LABELS = {"x-mac-cyrillic": "mac_cyrillic", "x-sjis": "cp932", "windows-31j": "cp932"}


def decode_bytes(
    data: bytes, notes: list[str], *, declared: str | None = None, html: bool = False
) -> str:
    """`data` as text: by its byte order mark, else its `declared` charset (an HTTP header),
    else (for HTML) its `<meta charset>`, else UTF-8, else the detected encoding.

    A note is appended to `notes` when the encoding was detected, or when a declared one did
    not fit. Raises `ContentError` for binary data and for text whose encoding cannot be told
    confidently.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding).lstrip("\ufeff")
            except UnicodeDecodeError:
                name = encoding.upper().removesuffix("-SIG")
                raise ContentError(
                    f"starts with a {name} byte order mark but is not {name}"
                ) from None
    if b"\x00" in data:
        raise ContentError("binary file (contains NUL bytes), not text")
    labels = [("declared charset", declared)]
    if html:
        match = _META_CHARSET.search(data[:_META_SCAN_BYTES])
        labels.append(("<meta> charset", match.group(1).decode("ascii") if match else None))
    for what, label in labels:
        codec = _codec(label)
        if codec is None:
            continue
        try:
            return data.decode(codec)
        except UnicodeDecodeError as error:
            notes.append(f"{what} {label} does not fit (undecodable byte at offset {error.start})")
            break  # the first declaration that names a known codec is the one that counts
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start
    return _detect(data, offset, notes)


def _codec(label: str | None) -> str | None:
    """Python's codec for a charset label; labels browsers read as Windows-1252 (Latin-1,
    ASCII) map to it, and UTF-16 in an ASCII-compatible declaration means UTF-8."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(_LABELS.get(label, label)).name
    except LookupError:
        return None
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return "utf-8"
    return name


def _detect(data: bytes, offset: int, notes: list[str]) -> str:
    outside_ascii = len(data.translate(None, bytes(range(128))))
    not_utf8 = f"not UTF-8 (undecodable byte at offset {offset})"
    matches = list(charset_normalizer.from_bytes(data))
    least = min((match.chaos for match in matches), default=1.0)
    if not matches:
        raise ContentError(f"cannot tell the text encoding: {not_utf8}, and no known one fits")
    if least > MAX_CHAOS:
        raise ContentError(
            f"cannot tell the text encoding: {not_utf8}, and every encoding tried reads as "
            f"garbage (best: {matches[0].encoding})"
        )
    fitting: list[str] = []
    for match in matches:
        if match.chaos <= least + _CHAOS_TIE:
            fitting.extend(
                e for e in (match.encoding, *match.could_be_from_charset) if e not in fitting
            )
    ranked = sorted(
        fitting, key=lambda e: _PREFERRED.index(e) if e in _PREFERRED else len(_PREFERRED)
    )
    for encoding in ranked:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if outside_ascii < MIN_DETECTION_BYTES and len(text) != len(data):
            continue  # a multi-byte encoding read from a handful of bytes is a guess
        notes.append(f"not valid UTF-8: detected {_NAMES.get(encoding, encoding)}")
        return text
    if outside_ascii < MIN_DETECTION_BYTES:
        raise ContentError(
            f"cannot tell the text encoding: {not_utf8}, and {outside_ascii} bytes outside "
            "ASCII are too few to detect it"
        )
    raise ContentError(f"cannot tell the text encoding: {not_utf8}")


def human_size(size: int) -> str:
    """A size for people: "52.4 MB", "12.0 KB", "300 bytes"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"


# --- Markdown ----


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split YAML-ish front matter (`key: value` lines between `---` lines) from the text.

    Only flat `key: value` pairs are read; quotes around a value are removed; keys are
    lowercased. Text without front matter gives `({}, text)`. Raises `ContentError` when a
    front matter block is opened but never closed.
    """
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise ContentError("front matter opened with '---' is never closed")
    meta: dict[str, str] = {}
    for line in lines[1:end]:
        if not line.strip() or line.lstrip().startswith("#") or ":" not in line:
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if value:
            meta[key.strip().lower()] = value
    return meta, "\n".join(lines[end + 1 :])


def parse_markdown(text: str, notes: list[str] | None = None) -> ScrapedPage:
    """Title, body and metadata of a Markdown article.

    The title is the front matter's `title`, else the first `# ` heading (removed from the
    body). Front matter may also give `date`/`published_at`, `url`, `source`, `author`.
    Raises `ContentError` when there is no title or no body; a date that cannot be read is
    left empty with a note appended to `notes`.
    """
    meta, rest = parse_front_matter(text)
    lines = rest.splitlines()
    title = meta.get("title")
    if not title:
        for index, line in enumerate(lines):
            if line.startswith("# "):
                title = line[2:].strip().rstrip("#").strip()
                del lines[index]
                break
    if not title:
        raise ContentError("no title (no front matter 'title' and no '# ' heading)")
    body = _paragraphs("\n".join(lines))
    if not body:
        raise ContentError("no article text")
    url = meta.get("url")
    raw_date = meta.get("published_at") or meta.get("date")
    published_at = normalize_date(raw_date)
    if raw_date and published_at is None and notes is not None:
        notes.append(f"unrecognised date {raw_date!r}: left empty")
    return ScrapedPage(
        title=" ".join(title.split()),
        body=body,
        author=meta.get("author"),
        date=published_at,
        sitename=meta.get("source"),
        url=url if url and url.startswith(("http://", "https://")) else None,
    )


_BLOCK_START = re.compile(r"^\s*([-*+>#|]|\d+[.)])\s")


def _paragraphs(text: str) -> str:
    """Paragraphs separated by exactly one blank line; hard-wrapped lines are joined, while
    lines that start a list item, quote, heading or table row stay on their own line."""
    blocks: list[list[list[str]]] = [[]]  # blocks of lines, each line the parts joined into it
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            if blocks[-1]:
                blocks.append([])
        elif blocks[-1] and not _BLOCK_START.match(raw):
            blocks[-1][-1].append(line)  # joined once at the end: linear in the text
        else:
            blocks[-1].append([line])
    return "\n\n".join("\n".join(" ".join(parts) for parts in lines) for lines in blocks if lines)


# --- JSON records ----

Record = tuple[str, str, Any]  # (label for reports, key for ids, the record or a ContentError)
_TOO_DEEP = "invalid JSON: nested too deeply to read"


def _json_records(text: str) -> list[Record]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ContentError(
            f"invalid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except RecursionError:
        raise ContentError(_TOO_DEEP) from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    if isinstance(data, dict):
        return [("record 0", "0", data)]
    if not isinstance(data, list):
        raise ContentError(
            'JSON holds no records (expected a list, an object or {"articles": [...]})'
        )
    if not data:
        raise ContentError("JSON holds an empty list of records")
    return [(f"record {index}", str(index), record) for index, record in enumerate(data)]


def _jsonl_records(text: str) -> list[Record]:
    records: list[Record] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label = f"record {len(records)} (line {number})"
        try:
            record: Any = json.loads(line)
        except json.JSONDecodeError as error:
            record = ContentError(f"invalid JSON: {error.msg} (column {error.colno})")
        except RecursionError:
            record = ContentError(_TOO_DEEP)
        records.append((label, f"line{number}", record))
    return records


def parse_record(record: object, notes: list[str] | None = None) -> tuple[ScrapedPage, str | None]:
    """The article in one JSON record, and its own `id` when it has one.

    Raises `ContentError` for a record that is not an object or lacks a title or body; a date
    or URL that cannot be read is left empty with a note appended to `notes`.
    """
    notes = notes if notes is not None else []
    if not isinstance(record, dict):
        raise ContentError(f"not an object (got {_json_type(record)})")
    title = _text_field(record, "title")
    body_key = "body" if record.get("body") is not None else "text"
    body = _text_field(record, body_key)
    if not title:
        raise ContentError("missing title")
    if not body:
        raise ContentError("missing body (or text)")
    raw_date = record.get("published_at", record.get("date"))
    published_at = normalize_date(raw_date)
    if raw_date not in (None, "") and published_at is None:
        notes.append(f"unrecognised date {raw_date!r}: left empty")
    url = _text_field(record, "url")
    if url and not url.startswith(("http://", "https://")):
        notes.append(f"not an http(s) URL {url!r}: left empty")
        url = None
    record_id = record.get("id")
    page = ScrapedPage(
        title=" ".join(title.split()),
        body=_paragraphs(body),
        author=_text_field(record, "author"),
        date=published_at,
        sitename=_text_field(record, "source"),
        url=url,
        attribution=_text_field(record, "attribution"),
    )
    key = str(record_id) if isinstance(record_id, str | int) and str(record_id) else None
    return page, key


def _text_field(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ContentError(f"'{key}' must be text (got {_json_type(value)})")
    return value.strip() or None


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")
