"""Stopping `newsbot serve` within a few seconds of SIGINT/SIGTERM, whatever it is doing.

A service manager or a rolling deploy expects a stop within a few seconds. What could hold the
stop up, and what happens to it (`stop_promptly`, `STOP_SECONDS` in all):
- loading the model at start-up: given up (`started`), its thread abandoned;
- polling back-off after a Bot API outage: the poller's wait ends at once (`bot.telegram.polling`);
- a reply being retried (`RetryingLimiter`): the retry gives up at once and the update's
  handler ends with one warning line; the reply is lost, as it would be when Telegram stays down;
- handlers and jobs still running (a question being answered, a request to a Bot API that
  hangs, a push being sent): they get `GRACE_SECONDS` to finish, then they are cancelled;
- an ingest in a worker thread: its job ends at once (`BotState.stopping`, watched by
  `ProgressRelay`) and the thread stops at its next step without committing; one that is
  stuck (reading a slow page) is abandoned when the process exits. Either way nothing it
  wrote is committed, so the index stays as it was, as after a `kill -9`
  (`tests/bot/test_e2e_faults.py`).
Once stopped, the process ends without the interpreter's slow teardown (`exit_now`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import TYPE_CHECKING, Any, NoReturn

from telegram.ext import Application, SimpleUpdateProcessor

from bot.telegram.context import SERVICE_KEY
from bot.telegram.retry import RetryingLimiter

if TYPE_CHECKING:
    from bot.telegram.service import NewsService

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_SECONDS = 3.0  # from the signal to the end of the process
GRACE_SECONDS = 2.0  # what handlers and jobs in flight get to finish
WORKER_PREFIX = "newsbot-work"


class TrackedUpdates(SimpleUpdateProcessor):
    """PTB's concurrent update processing, knowing which updates are in flight, so that a stop
    can wait for them a little and then cancel them."""

    def __init__(self, max_concurrent_updates: int):
        super().__init__(max_concurrent_updates)
        self.in_flight: set[asyncio.Task] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Its own task: cancelling it ends this update only, never PTB's update fetcher.
        task = asyncio.ensure_future(coroutine)
        self.in_flight.add(task)
        try:
            await asyncio.wait({task})
        finally:
            self.in_flight.discard(task)
            if not task.done():
                task.cancel()
        if not task.cancelled():
            task.result()


def stop_event() -> asyncio.Event:
    """Set by SIGINT or SIGTERM (handlers installed on the running loop)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stopping.set)
    return stopping


def remove_stop_signals() -> None:
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.remove_signal_handler(sig)


async def started(application: Application, stopping: asyncio.Event) -> bool:
    """Run `post_init` (loading the model takes a while) unless the bot is stopped first:
    then it is given up (the loading thread is abandoned at exit) and False."""
    if application.post_init is None:
        return not stopping.is_set()
    loading = asyncio.ensure_future(application.post_init(application))
    stop = asyncio.ensure_future(stopping.wait())
    await asyncio.wait({loading, stop}, return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    if not loading.done():
        loading.cancel()
        with suppress(asyncio.CancelledError):
            await loading
        return False
    loading.result()  # its errors (the model, the store) end `serve` with one line
    return not stopping.is_set()


def use_worker_threads() -> ThreadPoolExecutor:
    """Blocking work (`asyncio.to_thread`) runs in these named threads, so that a stop can
    tell whether any is still busy."""
    workers = ThreadPoolExecutor(thread_name_prefix=WORKER_PREFIX)
    asyncio.get_running_loop().set_default_executor(workers)
    return workers


async def stop_promptly(
    application: Application, *, since: float, workers: ThreadPoolExecutor | None = None
) -> None:
    """Stop `application` (updates no longer arrive) by `since + STOP_SECONDS` at the latest:
    give up retries and ingests, let handlers and jobs finish for a moment, cancel the rest,
    stop and shut down; then end the process if a worker thread is still stuck."""
    limiter = application.bot.rate_limiter
    if isinstance(limiter, RetryingLimiter):
        limiter.stop()
    service = application.bot_data.get(SERVICE_KEY)
    if service is not None:
        service.state.stopping.set()
    if application.running:
        await _finish_or_cancel(application, service, until=since + GRACE_SECONDS)
        await application.stop()
        if application.post_stop:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown:
        await application.post_shutdown(application)
    if workers is not None:
        _exit_if_workers_stuck(workers, until=since + STOP_SECONDS)
    logger.info("stopped in %.1f s", time.monotonic() - since)


async def _finish_or_cancel(
    application: Application, service: NewsService | None, *, until: float
) -> None:
    processor = application.update_processor
    in_flight = processor.in_flight if isinstance(processor, TrackedUpdates) else set()

    def busy() -> bool:
        state = service.state if service is not None else None
        return bool(in_flight) or (state is not None and (state.ingests.running or state.pumping))

    for _ in range(max(0, round((until - time.monotonic()) / 0.05))):
        if not busy():
            return
        await asyncio.sleep(0.05)
    if not busy():
        return
    logger.warning("stopping: cancelling %d update(s) and any job still running", len(in_flight))
    for task in list(in_flight):
        task.cancel()
    if application.job_queue is not None:
        await application.job_queue.stop(wait=False)  # cancels the jobs that run


def _exit_if_workers_stuck(workers: ThreadPoolExecutor, *, until: float) -> None:
    """Worker threads cannot be cancelled, and the interpreter would wait for them at exit:
    one still busy at the deadline (an ingest reading a slow page, a long answer) is
    abandoned by ending the process here."""
    workers.shutdown(wait=False, cancel_futures=True)  # idle threads end now
    for thread in threading.enumerate():
        if thread.name.startswith(WORKER_PREFIX):
            thread.join(max(0.0, until - time.monotonic()))
    stuck = [t.name for t in threading.enumerate() if t.name.startswith(WORKER_PREFIX)]
    if not stuck:
        return
    logger.warning(
        "stopping: abandoning %d worker thread(s) still running (an ingest among them "
        "commits nothing: the index stays as it was)",
        len(stuck),
    )
    exit_now(0)


def exit_now(code: int) -> NoReturn:
    """End the process once the bot has stopped, without the interpreter's teardown: freeing
    the model and the store's native parts took 5-7 s of a stop on a busy 2-core machine.
    Everything the bot holds is closed by then (state file, HTTP clients), and what the index
    store wrote is durable without a clean exit (a `kill -9` loses nothing)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
