"""Conditional GET: what a server said of a feed or page last time (ETag, Last-Modified).

A feed re-read every half hour is mostly unchanged; a server that knows its validators answers
`304 Not Modified` with no body, and the ingest reads nothing more of that source. Validators
are remembered per URL under the data directory (SQLite) and only after the run that read them
committed: a run that failed or was killed must not teach the next one to skip what it never
indexed. A page's validator names the article it gave, and is used only while that article is
indexed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Validator:
    """A response's validators, and the article its page gave (None for a feed)."""

    etag: str | None = None
    last_modified: str | None = None
    article_id: str | None = None

    @classmethod
    def of(cls, headers: httpx.Headers) -> Validator | None:
        """The validators of a response, or None when it sent neither."""
        etag = headers.get("etag") or None
        last_modified = headers.get("last-modified") or None
        if etag is None and last_modified is None:
            return None
        return cls(etag=etag, last_modified=last_modified)

    def request_headers(self) -> dict[str, str]:
        """The headers that make a GET conditional on these validators."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class ValidatorStore:
    """Validators by URL in one SQLite file. Small: one row per feed or article-URL source."""

    def __init__(self, path: Path):
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS validators (url TEXT PRIMARY KEY, etag TEXT,"
            " last_modified TEXT, article_id TEXT)"
        )
        return connection

    def load(self) -> dict[str, Validator]:
        if not self.path.exists():
            return {}
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT url, etag, last_modified, article_id FROM validators"
            ).fetchall()
        return {url: Validator(etag, modified, article) for url, etag, modified, article in rows}

    def save(self, validators: Mapping[str, Validator | None]) -> None:
        """Remember these validators; a URL mapped to None forgets its old ones."""
        if not validators:
            return
        connection = self._connect()
        try:
            with connection:
                for url, v in validators.items():
                    if v is None:
                        connection.execute("DELETE FROM validators WHERE url = ?", (url,))
                    else:
                        connection.execute(
                            "INSERT OR REPLACE INTO validators VALUES (?, ?, ?, ?)",
                            (url, v.etag, v.last_modified, v.article_id),
                        )
        finally:
            connection.close()
