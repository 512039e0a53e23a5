"""The answers behind "Sources" buttons: in memory, and kept in the bot's SQLite state file so
a button works after a restart or on another replica sharing that file; only on the message
it was issued for, with a key nobody can guess."""

from __future__ import annotations

import sqlite3

from bot.follows.store import MIGRATIONS, SHOWN_DAYS, FollowStore
from bot.telegram.recent_answers import RecentAnswers, new_key, well_formed
from retrieval.types import Answer, Citation

CITATION = Citation(
    n=1,
    title="Russia invites Taliban and Afghan government to Moscow talks",
    source="Wire",
    published_at="2018-08-21T10:00:00+00:00",
    url="https://wire.example/moscow",
    quote="Afghanistan, the Taliban, India, Iran, China and Pakistan are invited to Moscow.",
    article_id="seed",
)
ANSWER = Answer("Who is invited to Moscow?", "The Taliban and others. [1]", True, (CITATION,))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


HERE = {"chat_id": 1001, "message_id": 7}


async def kept(answers: RecentAnswers, *, chat_id: int = 1001, message_id: int = 7) -> str:
    key = answers.issue()
    await answers.keep(key, ANSWER, chat_id=chat_id, message_id=message_id, answer_in_last=False)
    return key


def test_keys_are_random_128_bits_and_share_nothing():
    keys = [new_key() for _ in range(2000)]
    assert len(set(keys)) == len(keys)
    assert all(well_formed(k) for k in keys)
    assert all(len(f"hide:{k}".encode()) <= 64 for k in keys)  # Telegram's callback data cap
    # no common prefix beyond chance: two keys of one process tell nothing about a third
    assert len({k[:4] for k in keys}) > 1900
    for old in ("3f9a0c1e1", "3f9a0c1e2z", "", "x" * 5000, "../../etc/passwd", keys[0] + "0"):
        assert not well_formed(old)


async def test_an_answer_is_shown_only_on_the_message_its_key_was_issued_for(tmp_path):
    for answers in (
        RecentAnswers(),
        RecentAnswers(archive=FollowStore(tmp_path / "state.sqlite")),
    ):
        mine = await kept(answers)
        theirs = await kept(answers, chat_id=2002, message_id=7)
        shown = await answers.get(mine, **HERE)
        assert shown is not None
        assert shown.answer == ANSWER
        assert await answers.get(theirs, **HERE) is None  # another chat's real key
        assert await answers.get(mine, chat_id=2002, message_id=7) is None  # in another chat
        assert await answers.get(mine, chat_id=1001, message_id=8) is None  # another message
        assert await answers.get(mine[:-1] + ("A" if mine[-1] != "A" else "B"), **HERE) is None


async def test_a_button_works_after_a_restart_and_on_another_replica_in_its_own_chat(tmp_path):
    clock = Clock()
    path = tmp_path / "follows.sqlite"
    before = RecentAnswers(archive=FollowStore(path, clock=clock))
    key = await kept(before)
    other = await kept(before, chat_id=2002, message_id=3)
    for after in (
        RecentAnswers(archive=FollowStore(path, clock=clock)),  # restarted
        RecentAnswers(archive=FollowStore(path, clock=clock)),  # a replica on the same file
    ):
        shown = await after.get(key, **HERE)
        assert shown is not None
        assert shown.answer == ANSWER
        assert shown.answer_in_last is False
        assert await after.get(other, **HERE) is None
        assert await after.get(key, chat_id=2002, message_id=3) is None
        assert await after.get(key, chat_id=1001, message_id=8) is None
        assert await after.get(new_key(), **HERE) is None
    assert len(before) == 2


async def test_kept_answers_expire_and_forged_keys_find_nothing(tmp_path):
    clock = Clock()
    store = FollowStore(tmp_path / "follows.sqlite", clock=clock)
    key = await kept(RecentAnswers(archive=store))
    fresh = RecentAnswers(archive=store)
    for forged in ("", "x" * 5000, key + "0", "'; DROP TABLE shown; --", "A" * 22):
        assert await fresh.get(forged, **HERE) is None
    assert (await fresh.get(key, **HERE)) is not None
    clock.now += SHOWN_DAYS * 86400 + 1
    assert await fresh.get(key, **HERE) is None
    await kept(fresh)  # keeping one clears the expired
    assert store._read("SELECT COUNT(*) FROM shown")[0][0] == 1


def test_keys_kept_by_the_previous_version_expire(tmp_path):
    """A state file written before keys were bound: its keys (a counter, bound to no chat) are
    dropped by the migration, so their buttons say "too old"."""
    path = tmp_path / "follows.sqlite"
    db = sqlite3.connect(path)
    for statement in ";".join(MIGRATIONS[:2]).split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("PRAGMA user_version = 2")
    db.execute("INSERT INTO shown VALUES ('3f9a0c1e1', '{}', 1, 1e12)")
    db.commit()
    db.close()
    store = FollowStore(path)
    assert store.schema_version == len(MIGRATIONS)
    assert store._read("SELECT COUNT(*) FROM shown")[0][0] == 0


class Broken:
    def keep_shown(self, key, answer, *, chat_id, message_id, answer_in_last):
        raise OSError("disk full")

    def shown(self, key, *, chat_id, message_id):
        raise OSError("disk full")


async def test_an_archive_that_fails_leaves_the_buttons_of_this_process_working():
    answers = RecentAnswers(archive=Broken())
    key = await kept(answers)
    shown = await answers.get(key, **HERE)
    assert shown is not None
    assert shown.answer == ANSWER
    assert await answers.get(new_key(), **HERE) is None


async def test_memory_is_bounded_without_an_archive():
    answers = RecentAnswers(maxsize=2)
    keys = [await kept(answers) for _ in range(3)]
    assert len(answers) == 2
    assert await answers.get(keys[0], **HERE) is None
    assert await answers.get(keys[2], **HERE) is not None
