"""Follows and pushes, kept in SQLite (WAL, one transaction per change) so that they survive
restarts and `kill -9`.

- `follows`: the topics each chat follows, with the topic's embedding (computed once, at
  /follow).
- `pending`: pushes planned but not yet delivered: (chat, story, the generation that brought
  it) and the message to send. Planning and delivery are separate steps, so a process killed
  between them loses nothing: the next one sends what is pending.
- `pushed`: per chat, the stories already pushed and which of their articles it saw, so a
  story is never pushed twice and an updated one says only what is new.
- `chats`: per chat, the generation it last saw (pushed or /whatsnew), for "what's new".
- `meta`: `generation`, the last committed index generation planned for.
- `shown`: the answers behind "Sources" buttons (JSON) for `SHOWN_DAYS`, so a button still
  works after a restart, and on another replica that shares this file.

Several processes may share one file (bot replicas on one host): planning a generation range
is claimed with compare-and-set on `generation` inside a write transaction, and each pending
push is claimed by one sender for `CLAIM_SECONDS`, so exactly one process sends each push. A
sender killed after Telegram accepted a message but before it recorded it sends that message
again once its claim lapses: a push may repeat in that window, it is never lost.

The schema is versioned with SQLite's `user_version`; `MIGRATIONS[i]` brings version i to
i + 1.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CLAIM_SECONDS = 60.0

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE follows (
        chat_id INTEGER NOT NULL,
        topic TEXT NOT NULL,
        topic_key TEXT NOT NULL,
        vector BLOB NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (chat_id, topic_key)
    );
    CREATE TABLE chats (
        chat_id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        seen_generation INTEGER NOT NULL DEFAULT 0,
        last_push_at REAL
    );
    CREATE TABLE pushed (
        chat_id INTEGER NOT NULL,
        story_id TEXT NOT NULL,
        articles TEXT NOT NULL,
        pushed_at REAL NOT NULL,
        PRIMARY KEY (chat_id, story_id)
    );
    CREATE TABLE pending (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id INTEGER NOT NULL,
        story_id TEXT NOT NULL,
        topic_key TEXT NOT NULL,
        generation INTEGER NOT NULL,
        articles TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at REAL NOT NULL,
        not_before REAL NOT NULL DEFAULT 0,
        claimed_by TEXT,
        UNIQUE (chat_id, story_id, generation)
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    """
    CREATE TABLE shown (
        key TEXT PRIMARY KEY,
        answer TEXT NOT NULL,
        answer_in_last INTEGER NOT NULL,
        shown_at REAL NOT NULL
    );
    CREATE INDEX shown_by_age ON shown (shown_at);
    """,
)
SHOWN_DAYS = 30.0  # how long a "Sources" button keeps working


def topic_key(topic: str) -> str:
    """How two spellings of one topic compare: case and spacing ignored."""
    return " ".join(topic.casefold().split())


@dataclass(frozen=True)
class Follow:
    """A topic one chat follows, with its embedding."""

    chat_id: int
    topic: str
    vector: np.ndarray
    created_at: float

    @property
    def key(self) -> str:
        return topic_key(self.topic)


@dataclass(frozen=True)
class PlannedPush:
    """A story to send to a chat: `articles` are the article keys it now has (what the chat
    will have seen once it is sent); `message` is what the sender needs (JSON-able)."""

    chat_id: int
    story_id: str
    topic_key: str
    articles: tuple[str, ...]
    message: dict


@dataclass(frozen=True)
class PendingPush:
    """A push planned for one chat and story, waiting to be sent (claimed once)."""

    id: int
    chat_id: int
    story_id: str
    topic_key: str
    generation: int
    articles: tuple[str, ...]
    message: dict
    created_at: float


@dataclass(frozen=True)
class ChatSummary:
    """One chat for operators (`newsbot follows`)."""

    chat_id: int
    kind: str
    topics: tuple[str, ...]
    last_push_at: float | None
    pending: int
    pushed_stories: int

    def to_dict(self) -> dict:
        return {
            "chat_id": self.chat_id,
            "kind": self.kind,
            "topics": list(self.topics),
            "last_push_at": self.last_push_at,
            "pending": self.pending,
            "pushed_stories": self.pushed_stories,
        }


class FollowLimitError(Exception):
    """The chat already follows as many topics as it may."""


class FollowStore:
    """One SQLite file; safe to use from several threads and several processes."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: other processes wait for it)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _migrate(self) -> None:
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise RuntimeError(f"{self.path} was written by a newer newsbot (schema {version})")
            for number in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    @property
    def schema_version(self) -> int:
        return int(self._read("PRAGMA user_version")[0][0])

    # -- follows ---------------------------------------------------------------------------

    def add_follow(
        self, chat_id: int, kind: str, topic: str, vector: np.ndarray, *, limit: int
    ) -> bool:
        """Follow `topic` in the chat; False when it already follows it. FollowLimitError when
        the chat follows `limit` topics already."""
        key = topic_key(topic)
        blob = np.asarray(vector, dtype=np.float32).tobytes()
        with self._write() as db:
            if db.execute(
                "SELECT 1 FROM follows WHERE chat_id = ? AND topic_key = ?", (chat_id, key)
            ).fetchone():
                return False
            (count,) = db.execute(
                "SELECT COUNT(*) FROM follows WHERE chat_id = ?", (chat_id,)
            ).fetchone()
            if count >= limit:
                raise FollowLimitError(f"chat {chat_id} follows {count} topics already")
            db.execute(
                "INSERT INTO follows (chat_id, topic, topic_key, vector, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (chat_id, topic, key, blob, self.clock()),
            )
            db.execute(
                "INSERT INTO chats (chat_id, kind) VALUES (?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET kind = excluded.kind",
                (chat_id, kind),
            )
        return True

    def follows(self, chat_id: int | None = None) -> list[Follow]:
        """The chat's follows in the order they were made (every chat's when None)."""
        where, params = ("WHERE chat_id = ?", (chat_id,)) if chat_id is not None else ("", ())
        rows = self._read(
            f"SELECT chat_id, topic, vector, created_at FROM follows {where} "
            "ORDER BY chat_id, created_at, rowid",
            params,
        )
        return [
            Follow(chat, topic, np.frombuffer(blob, dtype=np.float32), created)
            for chat, topic, blob, created in rows
        ]

    def remove_follow(self, chat_id: int, which: str) -> Follow | None:
        """Unfollow by topic or by its number in `follows(chat_id)` (1-based); the follow
        removed, None when nothing matched. Its pending pushes go with it."""
        current = self.follows(chat_id)
        target: Follow | None = None
        if which.strip().isdigit():
            n = int(which.strip())
            target = current[n - 1] if 1 <= n <= len(current) else None
        else:
            target = next((f for f in current if f.key == topic_key(which)), None)
        if target is None:
            return None
        with self._write() as db:
            db.execute(
                "DELETE FROM follows WHERE chat_id = ? AND topic_key = ?", (chat_id, target.key)
            )
            db.execute(
                "DELETE FROM pending WHERE chat_id = ? AND topic_key = ?", (chat_id, target.key)
            )
        return target

    def drop_chat(self, chat_id: int) -> int:
        """Forget a chat's follows and pending pushes (it blocked the bot); how many follows."""
        with self._write() as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM follows WHERE chat_id = ?", (chat_id,)
            ).fetchone()
            db.execute("DELETE FROM follows WHERE chat_id = ?", (chat_id,))
            db.execute("DELETE FROM pending WHERE chat_id = ?", (chat_id,))
        return int(count)

    # -- planning --------------------------------------------------------------------------

    def generation(self) -> int | None:
        """The last index generation planned for; None before the first."""
        rows = self._read("SELECT value FROM meta WHERE key = 'generation'")
        return int(rows[0][0]) if rows else None

    def start_at(self, generation: int) -> int:
        """Plan from `generation` on unless a generation is recorded already (the archive
        that was there before anyone followed anything is never pushed); the one in force."""
        with self._write() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('generation', ?) "
                "ON CONFLICT (key) DO NOTHING",
                (str(generation),),
            )
            (value,) = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(value)

    def pushed_articles(self, chat_id: int, story_id: str) -> frozenset[str] | None:
        """The article keys of a story the chat was pushed; None if it never was."""
        rows = self._read(
            "SELECT articles FROM pushed WHERE chat_id = ? AND story_id = ?", (chat_id, story_id)
        )
        if not rows:
            return None
        return frozenset(json.loads(rows[0][0]))

    def record_plan(self, since: int, upto: int, pushes: Sequence[PlannedPush]) -> bool:
        """Record the pushes planned for the generations after `since` up to `upto`, only if
        no one planned them meanwhile (compare-and-set on the recorded generation); False
        when someone did, and nothing is written."""
        now = self.clock()
        with self._write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            if row is None or int(row[0]) != since:
                return False
            for push in pushes:
                db.execute(
                    "INSERT INTO pending (chat_id, story_id, topic_key, generation, articles, "
                    "message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (
                        push.chat_id,
                        push.story_id,
                        push.topic_key,
                        upto,
                        json.dumps(list(push.articles)),
                        json.dumps(push.message),
                        now,
                    ),
                )
            db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(upto),))
        return True

    # -- sending ---------------------------------------------------------------------------

    def claim(self, owner: str, limit: int = 100) -> list[PendingPush]:
        """Up to `limit` pending pushes nobody holds, oldest first, now held by `owner` for
        CLAIM_SECONDS."""
        now = self.clock()
        with self._write() as db:
            rows = db.execute(
                "SELECT id, chat_id, story_id, topic_key, generation, articles, message, "
                "created_at FROM pending WHERE not_before <= ? ORDER BY id LIMIT ?",
                (now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE pending SET claimed_by = ?, not_before = ? WHERE id = ?",
                [(owner, now + CLAIM_SECONDS, row[0]) for row in rows],
            )
        return [
            PendingPush(
                id=row[0],
                chat_id=row[1],
                story_id=row[2],
                topic_key=row[3],
                generation=row[4],
                articles=tuple(json.loads(row[5])),
                message=json.loads(row[6]),
                created_at=row[7],
            )
            for row in rows
        ]

    def delivered(self, push: PendingPush) -> None:
        """The push went out: remember the story's articles for the chat, drop the row."""
        now = self.clock()
        with self._write() as db:
            row = db.execute(
                "SELECT articles FROM pushed WHERE chat_id = ? AND story_id = ?",
                (push.chat_id, push.story_id),
            ).fetchone()
            seen = set(json.loads(row[0])) if row else set()
            seen.update(push.articles)
            db.execute(
                "INSERT INTO pushed (chat_id, story_id, articles, pushed_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (chat_id, story_id) DO UPDATE SET articles = excluded.articles, "
                "pushed_at = excluded.pushed_at",
                (push.chat_id, push.story_id, json.dumps(sorted(seen)), now),
            )
            db.execute("DELETE FROM pending WHERE id = ?", (push.id,))
            db.execute(
                "UPDATE chats SET last_push_at = ?, seen_generation = MAX(seen_generation, ?) "
                "WHERE chat_id = ?",
                (now, push.generation, push.chat_id),
            )

    def discard(self, push: PendingPush) -> None:
        """A push that is not to be sent (its follow is gone, or it was already sent)."""
        with self._write() as db:
            db.execute("DELETE FROM pending WHERE id = ?", (push.id,))

    def postpone(self, push: PendingPush, seconds: float) -> None:
        """Try this push again after `seconds` (flood control, a network error)."""
        with self._write() as db:
            db.execute(
                "UPDATE pending SET claimed_by = NULL, not_before = ? WHERE id = ?",
                (self.clock() + seconds, push.id),
            )

    def still_follows(self, chat_id: int, key: str) -> bool:
        return bool(
            self._read("SELECT 1 FROM follows WHERE chat_id = ? AND topic_key = ?", (chat_id, key))
        )

    # -- what's new ------------------------------------------------------------------------

    def seen_generation(self, chat_id: int) -> int:
        rows = self._read("SELECT seen_generation FROM chats WHERE chat_id = ?", (chat_id,))
        return int(rows[0][0]) if rows else 0

    def mark_seen(self, chat_id: int, kind: str, generation: int) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO chats (chat_id, kind, seen_generation) VALUES (?, ?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET "
                "seen_generation = MAX(seen_generation, excluded.seen_generation)",
                (chat_id, kind, generation),
            )

    # -- the answers behind "Sources" buttons ----------------------------------------------

    def keep_shown(self, key: str, answer: dict, *, answer_in_last: bool) -> None:
        """Keep an answer for its button; answers older than `SHOWN_DAYS` go."""
        now = self.clock()
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO shown VALUES (?, ?, ?, ?)",
                (key, json.dumps(answer), int(answer_in_last), now),
            )
            db.execute("DELETE FROM shown WHERE shown_at < ?", (now - SHOWN_DAYS * 86400,))

    def shown(self, key: str) -> tuple[dict, bool] | None:
        """The answer kept for `key` and whether its message holds the answer text too."""
        rows = self._read(
            "SELECT answer, answer_in_last FROM shown WHERE key = ? AND shown_at >= ?",
            (key, self.clock() - SHOWN_DAYS * 86400),
        )
        return (json.loads(rows[0][0]), bool(rows[0][1])) if rows else None

    # -- operators -------------------------------------------------------------------------

    def overview(self) -> list[ChatSummary]:
        """Every chat that follows something or has pushes pending."""
        topics: dict[int, list[str]] = {}
        for follow in self.follows():
            topics.setdefault(follow.chat_id, []).append(follow.topic)
        pending = dict(self._read("SELECT chat_id, COUNT(*) FROM pending GROUP BY chat_id"))
        pushed = dict(self._read("SELECT chat_id, COUNT(*) FROM pushed GROUP BY chat_id"))
        chats = {
            chat_id: (kind, last)
            for chat_id, kind, last in self._read("SELECT chat_id, kind, last_push_at FROM chats")
        }
        out = []
        for chat_id in sorted(set(topics) | set(pending)):
            kind, last = chats.get(chat_id, ("private", None))
            out.append(
                ChatSummary(
                    chat_id=chat_id,
                    kind=kind,
                    topics=tuple(topics.get(chat_id, ())),
                    last_push_at=last,
                    pending=int(pending.get(chat_id, 0)),
                    pushed_stories=int(pushed.get(chat_id, 0)),
                )
            )
        return out
