"""Retries for every Bot API call the bot makes (PTB's rate-limiter hook; getUpdates excluded).

- 429 Too Many Requests: wait `retry_after` (capped) and try again.
- Network errors (connection refused or reset, bad gateway...): back off (doubling, at most
  `max_backoff` s between tries) and try again for up to `network_window` s of waiting, so a
  reply due while Telegram is down for a minute goes out when it is back instead of being lost.
- Timeouts are not retried: the request may have reached Telegram, and a repeated send would
  post the message twice.
- Everything else (400 Bad Request, 403 Forbidden...) is raised at once.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int will become a timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


class RetryingLimiter(BaseRateLimiter[None]):
    """PTB's rate-limiter hook, used to retry every Bot API call on 429 and network errors."""

    def __init__(
        self,
        *,
        attempts: int = 4,
        max_wait: float = 30.0,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        network_window: float = 90.0,
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
    ):
        self.attempts = attempts
        self.max_wait = max_wait
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.network_window = network_window
        self._sleep = sleep

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        flood_attempts = 0
        network_errors = 0
        waited = 0.0  # seconds slept after network errors
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                flood_attempts += 1
                wait = retry_after_seconds(error)
                if flood_attempts >= self.attempts or wait > self.max_wait:
                    raise
                logger.warning("%s: flood control, retrying in %.1f s", endpoint, wait)
                await self._sleep(wait + 0.1)
            except (BadRequest, TimedOut):
                raise
            except NetworkError as error:
                network_errors += 1
                wait = min(self.backoff * 2 ** (network_errors - 1), self.max_backoff)
                if waited + wait > self.network_window:
                    raise
                waited += wait
                logger.warning(
                    "%s: network error (%s), retrying in %.1f s",
                    endpoint,
                    type(error).__name__,
                    wait,
                )
                await self._sleep(wait)
