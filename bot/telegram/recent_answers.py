"""The answers behind "Sources" buttons, so the callback can redraw the message.

Telegram's callback data holds at most 64 bytes, so the button carries a short key. The
recent answers stay in memory (bounded: the oldest are forgotten); when a `ShownArchive` is
given (the bot's SQLite state file) every answer is kept there too, so a button still works
after a restart and when another replica sharing that file receives the press. A button the
archive does not know either says the answer is too old.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from retrieval.types import Answer

logger = logging.getLogger(__name__)

MAX_ANSWERS = 5000
MAX_KEY_CHARS = 32  # ours are 8 + a few characters; longer ones are forged


class ShownArchive(Protocol):
    """Where shown answers outlive the process (the bot's SQLite state file)."""

    def keep_shown(self, key: str, answer: dict, *, answer_in_last: bool) -> None: ...

    def shown(self, key: str) -> tuple[dict, bool] | None: ...


@dataclass(frozen=True)
class Shown:
    """An answer behind a Sources button, and whether the button's message holds it."""

    answer: Answer
    answer_in_last: bool  # the button's message holds the answer text too


class RecentAnswers:
    """The recent answers by button key: in memory, bounded, and in the archive when given."""

    def __init__(self, maxsize: int = MAX_ANSWERS, archive: ShownArchive | None = None):
        self.maxsize = maxsize
        self.archive = archive
        self._items: OrderedDict[str, Shown] = OrderedDict()
        self._ids = itertools.count(1)
        # Unique per process, so keys of two replicas (or of before a restart) never collide.
        self._prefix = secrets.token_hex(4)

    async def put(self, answer: Answer, *, answer_in_last: bool) -> str:
        key = self._prefix + _base36(next(self._ids))
        self._items[key] = Shown(answer, answer_in_last)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)
        if self.archive is not None:
            try:
                await asyncio.to_thread(
                    self.archive.keep_shown, key, answer.to_dict(), answer_in_last=answer_in_last
                )
            except Exception as error:  # the button still works in this process
                logger.warning("cannot keep the answer behind a Sources button: %s", error)
        return key

    async def get(self, key: str) -> Shown | None:
        shown = self._items.get(key)
        if shown is not None or self.archive is None or not 0 < len(key) <= MAX_KEY_CHARS:
            return shown
        try:
            kept = await asyncio.to_thread(self.archive.shown, key)
            if kept is None:
                return None
            return Shown(Answer.from_dict(kept[0]), kept[1])
        except Exception as error:
            logger.warning("cannot read the answer behind a Sources button: %s", error)
            return None

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
