"""Ingests started from the chat: one at a time, with progress relayed to one status message.

The ingest itself blocks (reading, embedding, indexing) and runs in a worker thread; its
progress callback only records the latest figures and wakes the event loop, which edits the
status message at most once per `min_interval` seconds and never with unchanged text.
Questions keep being answered meanwhile: the index swaps generations atomically.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
STOP_CHECK_SECONDS = 0.2  # how often a running ingest looks whether the bot is stopping
Progress = Callable[[str, int, int], None]


class IngestJobs:
    """Which ingest runs in this bot, if any. Check-and-set happens on the event loop without
    an await in between, so two /reingest commands can never both start one."""

    def __init__(self) -> None:
        self.current: str | None = None

    @property
    def running(self) -> bool:
        return self.current is not None

    def try_start(self, title: str) -> bool:
        if self.current is not None:
            return False
        self.current = title
        return True

    def finish(self) -> None:
        self.current = None


class IngestStopped(Exception):
    """The bot is stopping: raised in the ingest's thread at its next step, so the ingest
    ends without committing (the index stays as it was)."""


class ProgressRelay:
    """Without `edit` (a scheduled ingest) progress is simply not shown. With `stopping`, the
    ingest gives up (`IngestStopped`) at its next progress report once that is set."""

    def __init__(
        self,
        edit: Callable[[str], Awaitable[object]] | None,
        render: Callable[[str, int, int], str],
        *,
        first_text: str | None = None,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        stopping: threading.Event | None = None,
    ):
        self.edit = edit
        self.render = render
        self.min_interval = min_interval
        self.clock = clock
        self.last_text = first_text
        self.last_edit = clock() if first_text is not None else float("-inf")
        self.edits = 0
        self.stopping = stopping or threading.Event()

    async def run(self, work: Callable[[Progress], T]) -> T:
        """Run `work(progress)` in a thread, relaying its progress; return its result. Once
        `stopping` is set, IngestStopped at once: the thread stops at its next step (or is
        abandoned when the process exits), so a stop never waits for a slow source."""
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()
        latest: list[tuple[str, int, int]] = []

        def progress(stage: str, done: int, total: int) -> None:  # called from the thread
            if self.stopping.is_set():
                raise IngestStopped(f"stopped while {stage}")
            latest[:] = [(stage, done, total)]
            loop.call_soon_threadsafe(changed.set)

        task = asyncio.ensure_future(asyncio.to_thread(work, progress))
        while not task.done():
            waiter = asyncio.ensure_future(changed.wait())
            await asyncio.wait(
                {task, waiter}, timeout=STOP_CHECK_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            waiter.cancel()
            if task.done():
                break
            if self.stopping.is_set():
                task.add_done_callback(_ended_after_the_stop)  # nobody awaits it any more
                raise IngestStopped("the bot is stopping")
            delay = self.last_edit + self.min_interval - self.clock()
            if delay > 0:
                await asyncio.wait({task}, timeout=delay)
                if task.done():
                    break
            changed.clear()
            if latest and self.edit is not None:
                await self.show(self.render(*latest[0]))
        return task.result()

    async def show(self, text: str) -> None:
        """Edit the status message to `text` now (unless it already says that)."""
        if text == self.last_text or self.edit is None:
            return
        try:
            await self.edit(text)
        except Exception:  # a lost status message must not stop the ingest
            logger.warning("could not update the ingest status message", exc_info=True)
        self.last_text = text
        self.last_edit = self.clock()
        self.edits += 1


def _ended_after_the_stop(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.debug("an ingest ended after the bot stopped: %r", task.exception())
