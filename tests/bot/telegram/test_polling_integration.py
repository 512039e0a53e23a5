"""Long polling (`bot.telegram.polling`) against the loopback Bot API server: its back-off is
capped and ends the moment the bot stops; a proxy's HTML 502 is one warning line per failed
call, not an ERROR with a traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest
from telegram import Bot
from telegram.error import NetworkError
from telegram.request import HTTPXRequest

from bot.telegram import polling
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.polling import Poller, QuietRequest, next_backoff
from devkit.botapi_server import TOKEN, FakeBotApi
from tests.bot.conftest import FakeService, make_settings

pytestmark = pytest.mark.integration


def test_the_back_off_grows_to_a_short_cap():
    waits = [0.0]
    for _ in range(8):
        waits.append(next_backoff(waits[-1]))
    assert waits[1:5] == [1.0, 1.5, 2.25, 3.375]
    assert max(waits) == polling.MAX_BACKOFF <= 5
    assert waits[-1] == polling.MAX_BACKOFF


@pytest.mark.parametrize("request_class", [QuietRequest, HTTPXRequest])
async def test_an_html_502_is_not_logged_as_an_error(api: FakeBotApi, caplog, request_class):
    """The control (`HTTPXRequest`, PTB's own) logs the page as an ERROR with a traceback."""
    bot = Bot(TOKEN, base_url=api.base_url, request=request_class())
    async with bot:
        api.outage(30, 502, "Bad Gateway", html=True)
        caplog.clear()
        with caplog.at_level(logging.DEBUG), pytest.raises(NetworkError, match="502"):
            await bot.get_me()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    if request_class is QuietRequest:
        assert errors == []
    else:
        assert [r.exc_info[0].__name__ for r in errors if r.exc_info] == ["JSONDecodeError"]


async def test_polling_through_an_html_502_outage_then_a_stop_during_the_back_off(
    api: FakeBotApi, caplog, monkeypatch
):
    """A back-off as long as a minute still ends at once when the bot stops; each failed
    getUpdates is one warning line."""
    monkeypatch.setattr(polling, "FIRST_BACKOFF", 60.0)
    app = build_application(make_settings(api), service_factory=FakeService)
    async with app:
        await app.post_init(app)
        poller = Poller(app, allowed_updates=ALLOWED_UPDATES, timeout=1)
        stopping = asyncio.Event()
        api.outage(120, 502, "Bad Gateway", html=True)
        with caplog.at_level(logging.INFO):
            task = asyncio.create_task(poller.run(stopping))
            await asyncio.to_thread(
                api.wait_for,
                lambda: api.calls_to("getUpdates", ok_only=False),
                30,
                "a failed getUpdates",
            )
            await asyncio.sleep(0.5)  # in the back-off now
            stopping.set()
            await asyncio.wait_for(task, timeout=10)  # not the 60 s back-off
        await app.post_shutdown(app)
    assert len(api.calls_to("getUpdates", ok_only=False)) == 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["network problem while fetching updates: NetworkError"]
