"""Retries around Bot API calls, and the throttled ingest status message."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.telegram.ingest_jobs import IngestJobs, ProgressRelay
from bot.telegram.retry import RetryingLimiter


class Flaky:
    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def run(limiter, callback):
    return await limiter.process_request(callback, (), {}, "sendMessage", {}, None)


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def limiter(sleeps):
    async def sleep(seconds):
        sleeps.append(seconds)

    return RetryingLimiter(attempts=3, max_wait=30, backoff=0.5, network_window=2.0, sleep=sleep)


async def test_retry_after_is_honoured(limiter, sleeps):
    callback = Flaky(RetryAfter(3))
    assert await run(limiter, callback) == "ok"
    assert callback.calls == 2
    assert sleeps == [pytest.approx(3.1)]


async def test_network_errors_back_off(limiter, sleeps):
    callback = Flaky(NetworkError("reset"), NetworkError("reset"))
    assert await run(limiter, callback) == "ok"
    assert sleeps == [0.5, 1.0]


async def test_gives_up_after_attempts(limiter):
    with pytest.raises(NetworkError):
        await run(limiter, Flaky(*[NetworkError("down")] * 3))


async def test_network_errors_are_retried_through_a_minute_of_outage(sleeps):
    """Telegram down for a minute: a reply due meanwhile goes out when it is back, at most
    `max_backoff` seconds later; after `network_window` seconds of waiting it is given up."""

    async def sleep(seconds):
        sleeps.append(seconds)

    limiter = RetryingLimiter(sleep=sleep)  # the bot's own settings
    minute = Flaky(*[NetworkError("Bad Gateway")] * 12)  # 0.5 + 1 + 2 + 4 + 8 x 8 s
    assert await run(limiter, minute) == "ok"
    assert sum(sleeps) >= 60
    assert max(sleeps) == 8.0
    sleeps.clear()
    forever = Flaky(*[NetworkError("down")] * 100)
    with pytest.raises(NetworkError):
        await run(limiter, forever)
    assert 80 < sum(sleeps) <= 90


@pytest.mark.parametrize("error", [BadRequest("bad"), TimedOut(), RetryAfter(120)])
async def test_not_retried(limiter, error):
    callback = Flaky(error)
    with pytest.raises(type(error)):
        await run(limiter, callback)
    assert callback.calls == 1


def test_one_ingest_at_a_time():
    jobs = IngestJobs()
    assert jobs.try_start("a")
    assert not jobs.try_start("b")
    assert jobs.current == "a"
    jobs.finish()
    assert jobs.try_start("b")


async def test_progress_edits_are_throttled_and_never_repeat():
    edits: list[str] = []
    release = threading.Event()

    async def edit(text):
        edits.append(text)

    def work(progress):
        for i in range(200):
            progress("embedding", i, 200)
        progress("embedding", 200, 200)
        release.wait(5)
        return "report"

    relay = ProgressRelay(
        edit, lambda s, d, t: f"{d}/{t} {s}", first_text="start", min_interval=0.2
    )
    task = asyncio.ensure_future(relay.run(work))
    await asyncio.sleep(0.5)
    release.set()
    assert await task == "report"
    # the burst of 201 collapsed to its latest figures (one edit, or two should a loaded
    # machine stretch the burst past the interval), never the same text twice
    assert edits[-1] == "200/200 embedding"
    assert 1 <= len(edits) <= 3
    assert len(set(edits)) == len(edits)


async def test_a_failing_edit_does_not_stop_the_ingest():
    async def edit(text):
        raise RuntimeError("message deleted")

    def work(progress):
        progress("sources", 1, 1)
        time.sleep(0.3)
        return 42

    relay = ProgressRelay(edit, lambda *a: str(a), min_interval=0.0)
    assert await relay.run(work) == 42
