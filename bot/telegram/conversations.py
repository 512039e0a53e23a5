"""The last few question/answer turns per conversation, for follow-up questions. Bounded:
a few turns per conversation, turns expire, and the least recently used conversations are
forgotten past a maximum. Used from the event loop only (not thread-safe by design)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

MAX_CONVERSATIONS = 10_000
TURN_TTL = 30 * 60.0  # seconds: a question an hour later starts afresh


class Conversations:
    """The last few turns per conversation, bounded in turns, age and conversations."""

    def __init__(
        self,
        turns: int,
        *,
        max_conversations: int = MAX_CONVERSATIONS,
        ttl: float = TURN_TTL,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.turns = turns
        self.max_conversations = max_conversations
        self.ttl = ttl
        self.clock = clock
        self._turns: OrderedDict[Hashable, deque[tuple[float, str, str]]] = OrderedDict()

    def history(self, key: Hashable) -> list[tuple[str, str]]:
        """(question, answer) turns of this conversation, oldest first."""
        turns = self._turns.get(key)
        if not turns:
            return []
        oldest = self.clock() - self.ttl
        while turns and turns[0][0] < oldest:
            turns.popleft()
        return [(question, answer) for _, question, answer in turns]

    def add(self, key: Hashable, question: str, answer: str) -> None:
        if self.turns <= 0:
            return
        turns = self._turns.pop(key, None) or deque(maxlen=self.turns)
        turns.append((self.clock(), question, answer))
        self._turns[key] = turns  # most recently used last
        while len(self._turns) > self.max_conversations:
            self._turns.popitem(last=False)

    def __len__(self) -> int:
        return len(self._turns)
