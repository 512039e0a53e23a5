"""Updates without the part a handler serves (no message, no text, no query) are dropped
quietly: nothing is sent, no service is asked, nothing reaches the error handler."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Chat, Message, Update

from bot.settings import ServeSettings
from bot.telegram import admin, info, questions
from bot.telegram.app import build_application
from bot.telegram.context import SERVICE_KEY, BotContext
from devkit.botapi_server import TOKEN
from tests.bot.conftest import FakeService

HANDLERS = [
    questions.on_message,
    questions.on_channel_post,
    questions.on_non_text,
    questions.on_sources_button,
    questions.on_inline_query,
    admin.refuse,
    admin.status_command,
    admin.reingest_command,
    admin.add_command,
    info.start,
    info.help_command,
]


@pytest.fixture
def settings() -> ServeSettings:
    return ServeSettings(
        _env_file=None, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot"
    )


@pytest.fixture
def application(settings):
    """Built, never started: its bot is not initialised, so any Bot API call raises, and
    the network is blocked besides. No service in bot_data: `context.service` raises."""
    return build_application(settings, service_factory=FakeService)


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda h: h.__name__)
async def test_an_empty_update_is_dropped(application, handler):
    await handler(Update(update_id=1), BotContext(application))


async def test_a_message_without_text_is_not_read_as_a_question(application):
    message = Message(1, datetime.now(UTC), Chat(5, Chat.PRIVATE))
    await questions.on_message(Update(update_id=1, message=message), BotContext(application))


async def test_an_ingest_job_without_its_request_releases_the_claim(application, settings):
    service = FakeService(settings)
    application.bot_data[SERVICE_KEY] = service
    jobs = service.state.ingests
    assert jobs.try_start("Re-ingest")
    with pytest.raises(TypeError, match="without its request"):
        await admin.run_ingest_job(BotContext(application))
    assert jobs.try_start("Re-ingest")  # free again: the next /reingest is not refused
