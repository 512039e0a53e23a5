"""The follows database's schema: `MIGRATIONS[i]` brings version i to i + 1 (SQLite's
`user_version`); a migration is only ever appended."""

from __future__ import annotations

import json

import numpy as np

from retrieval.stories.subject import Subject

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
    # Button keys bound to the chat and message that carry them (issue 20). Keys kept before
    # were a counter and bound to nothing: they are dropped, so their buttons say "too old".
    """
    DROP TABLE shown;
    CREATE TABLE shown (
        key TEXT PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        answer TEXT NOT NULL,
        answer_in_last INTEGER NOT NULL,
        shown_at REAL NOT NULL
    );
    CREATE INDEX shown_by_age ON shown (shown_at);
    """,
    # what each follow is about (retrieval/subject.py): names, stories, the seeds' centre
    """
    ALTER TABLE follows ADD COLUMN subject TEXT;
    ALTER TABLE follows ADD COLUMN centre BLOB;
    """,
)


def decode_subject(data: str | None, centre: bytes | None) -> Subject:
    """A follow's subject from its `subject` (JSON) and `centre` (float32 bytes) columns."""
    vector = np.frombuffer(centre, dtype=np.float32) if centre else None
    return Subject.from_json(json.loads(data), vector) if data else Subject()
