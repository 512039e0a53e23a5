"""Per-user and per-chat question limits: sliding one-minute windows, pure, with an injectable
clock. A question counts against both its user and its chat, and only when both allow it."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass

WINDOW = 60.0  # seconds
MAX_KEYS = 50_000  # past this many tracked users/chats, idle ones are forgotten


@dataclass(frozen=True)
class Decision:
    """Whether a question may be asked now, and if not, when."""

    allowed: bool
    retry_after: float = 0.0  # seconds until the next question would be allowed


class SlidingWindow:
    """At most `limit` events per key within any `window` seconds."""

    def __init__(self, limit: int, window: float = WINDOW):
        self.limit = limit
        self.window = window
        self._events: dict[Hashable, deque[float]] = {}

    def wait(self, key: Hashable, now: float) -> float:
        """Seconds until `key` may have another event (0: now)."""
        events = self._events.get(key)
        if not events:
            return 0.0
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) < self.limit:
            return 0.0
        return events[0] + self.window - now

    def record(self, key: Hashable, now: float) -> None:
        if len(self._events) >= MAX_KEYS and key not in self._events:
            self._forget_idle(now)
        self._events.setdefault(key, deque()).append(now)

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, ev in self._events.items() if not ev or ev[-1] <= now - self.window]
        for key in idle:
            del self._events[key]

    def __len__(self) -> int:
        return len(self._events)


class RateLimiter:
    """Per-user and per-chat sliding windows; a question counts only when both allow it."""

    def __init__(
        self,
        *,
        per_user: int,
        per_chat: int,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.users = SlidingWindow(per_user, window)
        self.chats = SlidingWindow(per_chat, window)
        self.clock = clock

    def check(self, user_id: int | None, chat_id: int | None) -> Decision:
        """Allow and count one question, or say how long to wait. A missing user (channel
        posts) or chat (inline queries) is simply not limited on that side."""
        now = self.clock()
        wait = max(
            self.users.wait(user_id, now) if user_id is not None else 0.0,
            self.chats.wait(chat_id, now) if chat_id is not None else 0.0,
        )
        if wait > 0:
            return Decision(False, wait)
        if user_id is not None:
            self.users.record(user_id, now)
        if chat_id is not None:
            self.chats.record(chat_id, now)
        return Decision(True)
