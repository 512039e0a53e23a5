"""Long polling: getUpdates in a loop, each update handed to the application's queue.

PTB's own polling loop (`Application.run_polling`) waits out its back-off after a failed
getUpdates (1 s growing 1.5x to 30 s) in a sleep that a stop does not interrupt: stopping after
a Bot API outage took up to 30 s, and the bot noticed Telegram was back only when the back-off
ran out. Here the back-off grows 1.5x from 1 s to `MAX_BACKOFF` and ends at once when the bot
stops. A failed getUpdates goes to the error handler (one warning line, `bot.telegram.errors`).

Also `QuietRequest`: a reverse proxy in front of the Bot API answers an outage with an HTML
page (nginx's "502 Bad Gateway"); PTB logs each such body as an ERROR with a `JSONDecodeError`
traceback before raising the `NetworkError` the bot handles. That body is logged at DEBUG.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import suppress

from telegram.error import InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.telegram.retry import retry_after_seconds

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 5.0
POLL_TIMEOUT = 10  # seconds Telegram holds a getUpdates open when there is nothing new
CONFIRM_SECONDS = 1.5  # a stop's last getUpdates (confirming what was fetched) waits no longer


def next_backoff(previous: float) -> float:
    """The wait after one more failed getUpdates: 1 s, then 1.5x, at most `MAX_BACKOFF`."""
    return min(MAX_BACKOFF, max(FIRST_BACKOFF, previous * 1.5))


class QuietRequest(HTTPXRequest):
    """PTB's HTTPX request; a response body that is not JSON is logged at DEBUG, not as an
    ERROR with a traceback (the error raised for it is the same)."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict:
        try:
            return json.loads(payload.decode("utf-8", "replace"))
        except ValueError as error:
            logger.debug("the Bot API answered with %d bytes that are not JSON", len(payload))
            raise TelegramError("Invalid server response") from error


class Poller:
    """getUpdates until `stopping` is set; `confirm` tells Telegram what was fetched."""

    def __init__(
        self, application: Application, *, allowed_updates: list[str], timeout: int = POLL_TIMEOUT
    ):
        self.application = application
        self.allowed_updates = allowed_updates
        self.timeout = timeout
        self.offset: int | None = None
        self.unconfirmed = False  # updates fetched, and no getUpdates sent since

    async def start(self, *, drop_pending_updates: bool) -> None:
        """No webhook may be set while polling (Telegram refuses getUpdates then)."""
        await self.application.bot.delete_webhook(drop_pending_updates=drop_pending_updates)

    async def run(self, stopping: asyncio.Event) -> None:
        backoff = 0.0
        while not stopping.is_set():
            wait = 0.0
            try:
                await self._poll()
            except InvalidToken:
                logger.error("Telegram no longer accepts TELEGRAM_BOT_TOKEN: stopping")
                stopping.set()
            except RetryAfter as error:
                wait = retry_after_seconds(error)
            except TimedOut:
                pass  # the long poll itself timed out: poll again at once
            except TelegramError as error:
                await self.application.process_error(update=None, error=error)
                backoff = next_backoff(backoff)
                wait = backoff
            else:
                backoff = 0.0
            if wait > 0:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), wait)

    async def _poll(self) -> None:
        # Telegram confirms what was fetched as soon as it receives a getUpdates with a later
        # offset: this call does, even if the bot stops while it is held open.
        self.unconfirmed = False
        updates = await self.application.bot.get_updates(
            offset=self.offset, timeout=self.timeout, allowed_updates=self.allowed_updates
        )
        for update in updates:
            await self.application.update_queue.put(update)
            self.offset = update.update_id + 1
            self.unconfirmed = True

    async def confirm(self) -> None:
        """One short getUpdates with the latest offset, so that what was fetched is not
        delivered again after a restart; given up quickly when Telegram does not answer."""
        if not self.unconfirmed:
            return
        try:
            await asyncio.wait_for(
                self.application.bot.get_updates(
                    offset=self.offset, timeout=0, allowed_updates=self.allowed_updates
                ),
                CONFIRM_SECONDS,
            )
        except (TelegramError, TimeoutError) as error:
            logger.warning("could not confirm the last updates: %s", type(error).__name__)
