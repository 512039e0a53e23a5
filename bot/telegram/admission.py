"""Whether a question is taken: one check for messages and inline queries alike (length, then
the per-user and per-chat rate limits). Pure over the limiter's state: no Telegram here."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.telegram import replies
from bot.telegram.ratelimit import RateLimiter


@dataclass(frozen=True)
class Refusal:
    """Why a question is not taken, and the sentence that tells the user."""

    reason: str  # "empty", "too_long" or "rate_limited"
    text: str  # the HTML sentence to send
    retry_after: float = 0.0


def admit(
    question: str,
    *,
    user_id: int | None,
    chat_id: int | None,
    limiter: RateLimiter,
    max_chars: int,
    empty_hint: str = replies.EMPTY_HINT,
) -> Refusal | None:
    """None when the question may be answered; else why not. A refused question that is
    empty or too long costs no rate-limit allowance."""
    if not question:
        return Refusal("empty", empty_hint)
    if len(question) > max_chars:
        return Refusal("too_long", replies.TOO_LONG.format(n=max_chars))
    decision = limiter.check(user_id, chat_id)
    if not decision.allowed:
        wait = math.ceil(decision.retry_after)
        return Refusal("rate_limited", replies.RATE_LIMITED.format(s=wait), decision.retry_after)
    return None
