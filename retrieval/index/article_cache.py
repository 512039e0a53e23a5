"""A local copy of the store's article records, caught up by each commit's changes.

Chroma returns metadata at roughly 0.2 ms a record, so reading every article of a large
archive costs seconds (5 s for 30k articles, measured). `status`, an ingest's planning and a
reader's start-up all need the live articles; this copy (SQLite under the data directory)
gives them in milliseconds and costs, per commit, only the records that commit changed.
Like the lexical index, it is a cache: applying a change twice is harmless, and one that is
lost or stale is rebuilt from the store.

Records are kept one column per field, not as JSON: every process start (an ingest, `status`,
a reader) reads all live records, and at 107k articles decoding JSON and running the frozen
dataclass's `__init__` cost ~2 s of a loaded machine, against ~0.8 s now (SQLite's rows and
one dict per record).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from contextlib import closing
from pathlib import Path

from retrieval.types import ArticleRecord

# 2: records carry story_id; 3: one column per field; 4: records carry their language
# (2 and 3 are converted in place)
SCHEMA = 4
FIELDS = tuple(f.name for f in dataclasses.fields(ArticleRecord))
_COLUMNS = ", ".join(FIELDS)
_MARKS = ", ".join("?" * (len(FIELDS) + 1))
_INSERT = f"INSERT OR REPLACE INTO records (key, {_COLUMNS}) VALUES ({_MARKS})"


def _row(record: ArticleRecord) -> tuple:
    return (record.key, *(getattr(record, name) for name in FIELDS))


def _record(row: tuple) -> ArticleRecord:
    """A record from its own row, without the frozen `__init__` (a setattr per field): the
    row holds exactly the fields that `_row` wrote."""
    record = object.__new__(ArticleRecord)
    object.__setattr__(record, "__dict__", dict(zip(FIELDS, row, strict=True)))
    return record


class ArticleCache:
    """The article records in SQLite, caught up by each commit's changes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute(f"CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, {_COLUMNS})")
            db.execute("CREATE INDEX IF NOT EXISTS records_removed ON records (removed)")
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            schema = int(row[0]) if row else None
            if schema == 2:  # the same records as JSON: converted, not read from the store
                old = db.execute("SELECT record FROM articles").fetchall()
                db.executemany(
                    _INSERT, [_row(ArticleRecord(**json.loads(record))) for (record,) in old]
                )
                db.execute("DROP TABLE articles")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
            elif schema == 3:  # records of before languages were detected: unknown, ""
                columns = {row[1] for row in db.execute("PRAGMA table_info(records)")}
                if "language" not in columns:
                    db.execute("ALTER TABLE records ADD COLUMN language TEXT NOT NULL DEFAULT ''")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
            elif schema != SCHEMA:
                db.execute("DROP TABLE IF EXISTS articles")
                db.execute("DELETE FROM records")
                db.execute("DELETE FROM meta")
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def _meta(self, key: str) -> str | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def synced(self) -> int:
        return int(self._meta("synced") or 0)

    def live(
        self,
        generation: int,
        identity: str,
        *,
        changes: Callable[[int, int], list[ArticleRecord]],
        everything: Callable[[int], list[ArticleRecord]],
    ) -> list[ArticleRecord]:
        """The article versions live at `generation`, after applying what changed since the
        copy was last synced (`changes(since, upto)`), or reloading it (`everything(upto)`)
        when it is empty or ahead of the store (rebuilt)."""
        with self._lock:
            synced = self.synced()
            if self._meta("identity") != identity:  # another index (rebuilt, or a new server)
                synced = 0
            if synced != generation:
                if synced == 0 or synced > generation:
                    self._replace(generation, everything(generation), identity)
                else:
                    self._apply(generation, changes(synced, generation))
            with closing(self._connect()) as db:
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM records "
                    "WHERE added <= ? AND (removed = 0 OR removed > ?)",
                    (generation, generation),
                ).fetchall()
        return [_record(row) for row in rows]

    def _apply(self, generation: int, records: Iterable[ArticleRecord]) -> None:
        with closing(self._connect()) as db, db:
            db.executemany(_INSERT, [_row(r) for r in records])
            # Versions retired before this generation are of no use to a reader at it.
            db.execute("DELETE FROM records WHERE removed > 0 AND removed <= ?", (generation,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('synced', ?)", (str(generation),))

    def _replace(self, generation: int, records: Iterable[ArticleRecord], identity: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM records")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('identity', ?)", (identity,))
        self._apply(generation, records)
