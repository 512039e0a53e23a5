"""Where articles come from: source specs, the sources file, and reading one source.

A sources file is TOML with one `[[sources]]` table per source:

    [[sources]]
    name = "rferl-seed"
    path = "seed"              # relative to this file's directory
    outlet = "RFE/RL"          # optional: the outlet when the articles do not name one

    [[sources]]
    name = "peace-wire"
    feed = "https://peacewire.example/rss.xml"   # or url = "https://.../article"

`read_source` never raises for bad input: what cannot be read becomes a `SourceFailure` in the
result, and `SourceResult.complete` says whether the whole source was read (only then may the
pipeline prune articles the source no longer has).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

import httpx

from ingest.article import Article, SourceFailure
from ingest.files import DEFAULT_MAX_BYTES, read_path
from ingest.validators import Validator
from ingest.web import read_feed, read_url
from retrieval.errors import SourcesFileError

SourceKind = Literal["path", "url", "feed"]
LOCATION_KEYS: tuple[SourceKind, ...] = get_args(SourceKind)
_ALLOWED_KEYS = frozenset({"name", "outlet", *LOCATION_KEYS})
_FEED_SUFFIXES = (".rss", ".xml", ".atom")
_FEED_PARTS = ("/feed", "/rss")


@dataclass(frozen=True)
class SourceSpec:
    """One source: a local path (file or directory), an article URL or a feed URL.

    `name` is empty for a bare command-line argument. `location` is an absolute path for
    "path" sources. `outlet` names the outlet for articles that do not name one themselves.
    """

    name: str
    kind: SourceKind
    location: str
    outlet: str | None = None

    @property
    def origin(self) -> str:
        """The canonical key stored as every article's `origin`."""
        if self.kind == "path":
            return str(Path(self.location).expanduser().resolve())
        return self.location.strip()

    @property
    def label(self) -> str:
        """How to name the source to a person."""
        return self.name or self.location


@dataclass
class SourceResult:
    """What reading one source gave: articles, failures, and non-fatal notes."""

    spec: SourceSpec
    articles: list[Article] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: int = 0  # feed entries not fetched again (indexed, feed date unchanged)
    not_modified: list[str] = field(default_factory=list)  # URLs answered 304
    kept: list[str] = field(default_factory=list)  # indexed articles a 304 page stands for
    validators: dict[str, Validator | None] = field(default_factory=dict)  # to remember

    @property
    def complete(self) -> bool:
        """True when nothing failed: only then is the source's article list the whole truth."""
        return not self.failures


def is_http_url(value: str) -> bool:
    parts = urlsplit(value.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def looks_like_feed_url(url: str) -> bool:
    """Ends with .rss/.xml/.atom, or has /feed or /rss in its path."""
    path = urlsplit(url.strip()).path.lower()
    return path.rstrip("/").endswith(_FEED_SUFFIXES) or any(part in path for part in _FEED_PARTS)


def spec_from_argument(arg: str) -> SourceSpec:
    """A spec for a command-line argument: an http(s) URL (a feed when it looks like one), or
    else a path, made absolute against the current directory."""
    value = arg.strip()
    if is_http_url(value):
        return SourceSpec(
            name="", kind="feed" if looks_like_feed_url(value) else "url", location=value
        )
    return SourceSpec(name="", kind="path", location=str(Path(value).expanduser().absolute()))


def parse_sources_file(path: str | Path) -> list[SourceSpec]:
    """The sources a TOML file lists; raises `SourcesFileError` with a clear message."""
    file = Path(path).expanduser()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesFileError(f"sources file not found: {file}") from None
    except OSError as error:
        raise SourcesFileError(f"cannot read sources file {file}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise SourcesFileError(f"{file}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise SourcesFileError(f"{file}: invalid TOML: {error}") from None
    tables = data.get("sources")
    if not isinstance(tables, list) or not tables:
        raise SourcesFileError(f"{file}: no [[sources]] tables")
    base = file.resolve().parent
    specs: list[SourceSpec] = []
    names: set[str] = set()
    for index, table in enumerate(tables, start=1):
        spec = _spec_from_table(table, base=base, where=f"{file}: source #{index}")
        if spec.name in names:
            raise SourcesFileError(f"{file}: source #{index}: name {spec.name!r} is used twice")
        names.add(spec.name)
        specs.append(spec)
    return specs


def _spec_from_table(table: object, *, base: Path, where: str) -> SourceSpec:
    if not isinstance(table, dict):
        raise SourcesFileError(f"{where}: not a table")
    unknown = sorted(set(table) - _ALLOWED_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_ALLOWED_KEYS))
        raise SourcesFileError(f"{where}: unknown key {unknown[0]!r} (allowed: {allowed})")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SourcesFileError(f"{where}: missing 'name'")
    where = f"{where} ({name!r})"
    present = [key for key in LOCATION_KEYS if key in table]
    if len(present) != 1:
        found = f" (found {' and '.join(present)})" if present else ""
        raise SourcesFileError(f"{where}: needs exactly one of path, url, feed{found}")
    kind = present[0]
    location = table[kind]
    if not isinstance(location, str) or not location.strip():
        raise SourcesFileError(f"{where}: '{kind}' must be a non-empty string")
    outlet = table.get("outlet")
    if outlet is not None and (not isinstance(outlet, str) or not outlet.strip()):
        raise SourcesFileError(f"{where}: 'outlet' must be a non-empty string")
    if kind == "path":
        location = str((base / Path(location).expanduser()).absolute())
    elif not is_http_url(location):
        raise SourcesFileError(f"{where}: '{kind}' must be an http(s) URL, got {location!r}")
    return SourceSpec(
        name=name.strip(),
        kind=kind,
        location=location.strip(),
        outlet=outlet.strip() if outlet else None,
    )


def read_source(
    spec: SourceSpec,
    *,
    http: httpx.Client | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    known: Mapping[str, str] | None = None,
    validators: Mapping[str, Validator] | None = None,
) -> SourceResult:
    """Read one source. `http` is required for "url" and "feed" sources. `known` (article id
    -> the feed date it was indexed with) lets a feed skip entries it need not fetch again;
    `validators` (URL -> ETag / Last-Modified) make the GET of a feed or page conditional."""
    outlet = spec.outlet or spec.name or None
    if spec.kind == "path":
        collected = read_path(spec.location, outlet=outlet, origin=spec.origin, max_bytes=max_bytes)
    else:
        if http is None:
            raise ValueError(f"reading {spec.kind} sources needs an httpx.Client")
        if spec.kind == "feed":
            collected = read_feed(
                spec.location,
                http=http,
                outlet=outlet,
                origin=spec.origin,
                max_bytes=max_bytes,
                known=known,
                validators=validators,
            )
        else:
            collected = read_url(
                spec.location,
                http=http,
                outlet=outlet,
                origin=spec.origin,
                max_bytes=max_bytes,
                validators=validators,
            )
    return SourceResult(
        spec=spec,
        articles=collected.articles,
        failures=collected.failures,
        notes=collected.notes,
        skipped=collected.skipped,
        not_modified=collected.not_modified,
        kept=collected.kept,
        validators=collected.validators,
    )
