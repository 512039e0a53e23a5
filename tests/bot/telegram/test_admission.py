"""Whether a question is taken (admission.admit): pure, over a rate limiter with a fixed clock."""

from __future__ import annotations

from bot.telegram import replies
from bot.telegram.admission import Refusal, admit
from bot.telegram.ratelimit import RateLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock, per_user: int = 2, per_chat: int = 10) -> RateLimiter:
    return RateLimiter(per_user=per_user, per_chat=per_chat, window=60.0, clock=clock)


def ask(question: str, rate: RateLimiter, *, user: int | None = 1, chat: int | None = 1):
    return admit(question, user_id=user, chat_id=chat, limiter=rate, max_chars=20)


def test_a_question_within_the_limits_is_taken():
    assert ask("Who met in Doha?", limiter(Clock())) is None


def test_an_empty_question_gets_the_hint_and_costs_no_allowance():
    rate = limiter(Clock(), per_user=1)
    assert ask("", rate) == Refusal("empty", replies.EMPTY_HINT)
    assert ask("Who met in Doha?", rate) is None  # the one allowed question is still there


def test_an_empty_question_gets_the_callers_hint():
    refusal = admit(
        "", user_id=1, chat_id=1, limiter=limiter(Clock()), max_chars=20, empty_hint="inline hint"
    )
    assert refusal == Refusal("empty", "inline hint")


def test_a_question_over_the_length_is_refused_with_the_limit_and_costs_no_allowance():
    rate = limiter(Clock(), per_user=1)
    refusal = ask("x" * 21, rate)
    assert refusal == Refusal("too_long", replies.TOO_LONG.format(n=20))
    assert ask("x" * 20, rate) is None  # exactly the limit is taken


def test_past_the_rate_the_refusal_says_how_long_to_wait():
    clock = Clock()
    rate = limiter(clock, per_user=2)
    assert ask("one", rate) is None
    clock.now += 10
    assert ask("two", rate) is None
    clock.now += 0.5
    refusal = ask("three", rate)
    assert refusal is not None
    assert refusal.reason == "rate_limited"
    assert refusal.retry_after == 49.5  # the first question leaves the window at 1060
    assert refusal.text == replies.RATE_LIMITED.format(s=50)  # whole seconds, rounded up
    clock.now += 49.5
    assert ask("three", rate) is None


def test_the_chat_limit_holds_across_users_and_a_missing_side_is_not_limited():
    rate = limiter(Clock(), per_user=5, per_chat=1)
    assert ask("one", rate, user=1) is None
    refused = ask("two", rate, user=2)
    assert refused is not None
    assert refused.reason == "rate_limited"
    assert ask("inline", rate, user=3, chat=None) is None  # inline queries have no chat
