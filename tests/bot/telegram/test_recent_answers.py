"""The answers behind "Sources" buttons: in memory, and kept in the bot's SQLite state file so
a button works after a restart or on another replica sharing that file."""

from __future__ import annotations

from bot.follows.store import SHOWN_DAYS, FollowStore
from bot.telegram.recent_answers import RecentAnswers
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


async def test_a_button_works_after_a_restart_and_on_another_replica(tmp_path):
    clock = Clock()
    path = tmp_path / "follows.sqlite"
    before = RecentAnswers(archive=FollowStore(path, clock=clock))
    key = await before.put(ANSWER, answer_in_last=False)
    for after in (
        RecentAnswers(archive=FollowStore(path, clock=clock)),  # restarted
        RecentAnswers(archive=FollowStore(path, clock=clock)),  # a replica on the same file
    ):
        shown = await after.get(key)
        assert shown is not None
        assert shown.answer == ANSWER
        assert shown.answer_in_last is False
        assert await after.get("00000000zz") is None
    assert len(before) == 1


async def test_kept_answers_expire_and_forged_keys_find_nothing(tmp_path):
    clock = Clock()
    store = FollowStore(tmp_path / "follows.sqlite", clock=clock)
    key = await RecentAnswers(archive=store).put(ANSWER, answer_in_last=True)
    fresh = RecentAnswers(archive=store)
    for forged in ("", "x" * 5000, key + "0", "'; DROP TABLE shown; --"):
        assert await fresh.get(forged) is None
    assert (await fresh.get(key)) is not None
    clock.now += SHOWN_DAYS * 86400 + 1
    assert await fresh.get(key) is None
    await fresh.put(ANSWER, answer_in_last=True)  # keeping one clears the expired
    assert store._read("SELECT COUNT(*) FROM shown")[0][0] == 1


class Broken:
    def keep_shown(self, key, answer, *, answer_in_last):
        raise OSError("disk full")

    def shown(self, key):
        raise OSError("disk full")


async def test_an_archive_that_fails_leaves_the_buttons_of_this_process_working():
    answers = RecentAnswers(archive=Broken())
    key = await answers.put(ANSWER, answer_in_last=True)
    shown = await answers.get(key)
    assert shown is not None
    assert shown.answer == ANSWER
    assert await answers.get("deadbeef1") is None


async def test_memory_is_bounded_without_an_archive():
    answers = RecentAnswers(maxsize=2)
    keys = [await answers.put(ANSWER, answer_in_last=True) for _ in range(3)]
    assert len(answers) == 2
    assert await answers.get(keys[0]) is None
    assert await answers.get(keys[2]) is not None
