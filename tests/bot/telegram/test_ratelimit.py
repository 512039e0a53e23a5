"""Rate limits and conversation memory: pure, with a fake clock."""

from __future__ import annotations

from bot.telegram.conversations import Conversations
from bot.telegram.ratelimit import RateLimiter, SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_per_user_limit_and_retry_after():
    clock = Clock()
    limiter = RateLimiter(per_user=2, per_chat=100, clock=clock)
    assert limiter.check(1, 10).allowed
    clock.now += 10
    assert limiter.check(1, 10).allowed
    denied = limiter.check(1, 11)
    assert not denied.allowed
    assert denied.retry_after == 50
    assert limiter.check(2, 10).allowed  # another user
    clock.now += 50
    assert limiter.check(1, 10).allowed


def test_per_chat_limit_counts_all_members():
    clock = Clock()
    limiter = RateLimiter(per_user=10, per_chat=3, clock=clock)
    assert all(limiter.check(user, -5).allowed for user in (1, 2, 3))
    assert not limiter.check(4, -5).allowed
    assert limiter.check(4, 4).allowed  # the same user elsewhere


def test_denied_questions_do_not_count():
    clock = Clock()
    limiter = RateLimiter(per_user=1, per_chat=1, clock=clock)
    assert limiter.check(1, 1).allowed
    for _ in range(5):
        assert not limiter.check(1, 1).allowed
    clock.now += 60
    assert limiter.check(1, 1).allowed


def test_missing_user_or_chat_is_not_limited_on_that_side():
    limiter = RateLimiter(per_user=1, per_chat=1, clock=Clock())
    assert limiter.check(None, 5).allowed
    assert not limiter.check(None, 5).allowed
    assert limiter.check(9, None).allowed
    assert not limiter.check(9, None).allowed


def test_idle_keys_are_forgotten(monkeypatch):
    monkeypatch.setattr("bot.telegram.ratelimit.MAX_KEYS", 3)
    window = SlidingWindow(1)
    for key in range(3):
        window.record(key, 0.0)
    window.record(99, 100.0)
    assert len(window) == 1


def test_conversations_keep_recent_turns_bounded():
    clock = Clock()
    memory = Conversations(2, max_conversations=2, ttl=600, clock=clock)
    for i in range(3):
        memory.add("a", f"q{i}", f"a{i}")
    assert memory.history("a") == [("q1", "a1"), ("q2", "a2")]
    memory.add("b", "qb", "ab")
    memory.add("c", "qc", "ac")  # "a" is the least recently used
    assert memory.history("a") == []
    assert len(memory) == 2
    clock.now += 601
    assert memory.history("c") == []


def test_no_history_when_turns_is_zero():
    memory = Conversations(0)
    memory.add("a", "q", "a")
    assert memory.history("a") == []
