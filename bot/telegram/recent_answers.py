"""The answers behind recent "Sources" buttons, so the callback can redraw the message.

Telegram's callback data holds at most 64 bytes, so the button carries a short key. Bounded:
the oldest answers are forgotten; their buttons then say the answer is too old.
"""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from retrieval.types import Answer

MAX_ANSWERS = 5000


@dataclass(frozen=True)
class Shown:
    answer: Answer
    answer_in_last: bool  # the button's message holds the answer text too


class RecentAnswers:
    def __init__(self, maxsize: int = MAX_ANSWERS):
        self.maxsize = maxsize
        self._items: OrderedDict[str, Shown] = OrderedDict()
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(2)  # buttons from before a restart find nothing

    def put(self, answer: Answer, *, answer_in_last: bool) -> str:
        key = self._prefix + _base36(next(self._ids))
        self._items[key] = Shown(answer, answer_in_last)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Shown | None:
        return self._items.get(key)

    def __len__(self) -> int:
        return len(self._items)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out
