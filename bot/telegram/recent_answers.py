"""The answers behind "Sources" buttons, so the callback can redraw the message.

Telegram's callback data holds at most 64 bytes, so the button carries a short key. A client
can send any callback data it likes (PTB calls such data "tampered with"), so a key is
- unguessable: 128 random bits (`secrets`), never derived from another key, and
- bound: it is kept with the chat and the message that carry its button, and a press is
  honoured only on that very message. A key pressed anywhere else, forged, or unknown gets
  the same "too old" reply and reveals nothing.

The button goes out first and its key is kept once Telegram has said which message carries it
(`issue`, send, `keep`): until then no press can name that message anyway.

The recent answers stay in memory (bounded: the oldest are forgotten); when a `ShownArchive`
is given (the bot's SQLite state file) every answer is kept there too, so a button still works
after a restart and when another replica sharing that file receives the press.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from retrieval.types import Answer

logger = logging.getLogger(__name__)

MAX_ANSWERS = 5000
KEY_BYTES = 16  # 128 random bits; 22 characters of callback data
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")  # what `secrets.token_urlsafe(16)` gives


class ShownArchive(Protocol):
    """Where shown answers outlive the process (the bot's SQLite state file)."""

    def keep_shown(
        self, key: str, answer: dict, *, chat_id: int, message_id: int, answer_in_last: bool
    ) -> None: ...

    def shown(self, key: str, *, chat_id: int, message_id: int) -> tuple[dict, bool] | None: ...


@dataclass(frozen=True)
class Shown:
    """An answer behind a button, and the one message whose button may show it."""

    answer: Answer
    answer_in_last: bool  # the button's message holds the answer text too
    chat_id: int
    message_id: int


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def well_formed(key: str) -> bool:
    """A key this bot could have issued (older formats, a counter, are not honoured)."""
    return KEY_PATTERN.fullmatch(key) is not None


def pressed_on_its_message(shown: Shown, *, chat_id: int, message_id: int) -> bool:
    return shown.chat_id == chat_id and shown.message_id == message_id


class RecentAnswers:
    """The recent answers by button key: in memory, bounded, and in the archive when given."""

    def __init__(self, maxsize: int = MAX_ANSWERS, archive: ShownArchive | None = None):
        self.maxsize = maxsize
        self.archive = archive
        self._items: OrderedDict[str, Shown] = OrderedDict()

    def issue(self) -> str:
        """A fresh key for a button about to be sent; `keep` it once the message is out."""
        return new_key()

    async def keep(
        self, key: str, answer: Answer, *, chat_id: int, message_id: int, answer_in_last: bool
    ) -> None:
        """Remember the answer behind `key`, bound to the message that carries its button."""
        self._items[key] = Shown(answer, answer_in_last, chat_id, message_id)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)
        if self.archive is None:
            return
        try:
            await asyncio.to_thread(
                self.archive.keep_shown,
                key,
                answer.to_dict(),
                chat_id=chat_id,
                message_id=message_id,
                answer_in_last=answer_in_last,
            )
        except Exception as error:  # the button still works in this process
            logger.warning("cannot keep the answer behind a Sources button: %s", error)

    async def get(self, key: str, *, chat_id: int, message_id: int) -> Shown | None:
        """The answer behind `key` when pressed on the message it was issued for, else None."""
        if not well_formed(key):
            return None
        shown = self._items.get(key)
        if shown is not None:
            return (
                shown
                if pressed_on_its_message(shown, chat_id=chat_id, message_id=message_id)
                else None
            )
        if self.archive is None:
            return None
        try:
            kept = await asyncio.to_thread(
                self.archive.shown, key, chat_id=chat_id, message_id=message_id
            )
        except Exception as error:
            logger.warning("cannot read the answer behind a Sources button: %s", error)
            return None
        if kept is None:
            return None
        return Shown(Answer.from_dict(kept[0]), kept[1], chat_id, message_id)

    def __len__(self) -> int:
        return len(self._items)
