"""The PTB application: HTML replies without link previews, updates handled concurrently,
every Bot API call retried on 429 and network errors, typed handler context, and `post_init`
building the service (model, index, answerer) once and registering the command menu and the
scheduled re-ingest."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults

from bot.settings import ServeSettings
from bot.telegram import admin, follow, handlers
from bot.telegram.context import CONTEXT_TYPES, SERVICE_KEY
from bot.telegram.polling import QuietRequest
from bot.telegram.retry import RetryingLimiter
from bot.telegram.service import NewsService
from bot.telegram.stopping import TrackedUpdates

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CHANNEL_POST,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
]
FOLLOW_COMMANDS = [
    BotCommand("follow", "Follow a topic: new stories are posted here"),
    BotCommand("following", "The topics this chat follows"),
    BotCommand("unfollow", "Stop following a topic: /unfollow N"),
    BotCommand("unwatch", "Stop watching a name a topic learned: /unwatch NAME"),
    BotCommand("whatsnew", "What's new since you last asked"),
]
PRIVATE_COMMANDS = [
    BotCommand("start", "What I know and how to ask"),
    BotCommand("help", "How to ask"),
    BotCommand("timeline", "What has happened in a topic: /timeline TOPIC"),
    *FOLLOW_COMMANDS,
]
GROUP_COMMANDS = [
    BotCommand("ask", "Ask a question about the news"),
    BotCommand("help", "How to ask"),
    BotCommand("timeline", "What has happened in a topic: /timeline TOPIC"),
    *FOLLOW_COMMANDS,
]
ADMIN_COMMANDS = [
    BotCommand("status", "Index size, outlets, last ingest, uptime"),
    BotCommand("reingest", "Re-read the sources file"),
    BotCommand("add", "Read one article: /add URL"),
]

ServiceFactory = Callable[[ServeSettings], NewsService]


def build_application(
    settings: ServeSettings, *, service_factory: ServiceFactory = NewsService.build
) -> Application:
    """The application for `settings`; TELEGRAM_BOT_TOKEN must be set (`cmd_serve` checks it
    first and says so in one line)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    token = settings.telegram_bot_token.get_secret_value()

    async def post_init(application: Application) -> None:
        service = await asyncio.to_thread(service_factory, settings)
        application.bot_data[SERVICE_KEY] = service
        await register_commands(application.bot, settings.admin_ids)
        await asyncio.to_thread(service.start_follows)
        if application.job_queue is None:
            raise RuntimeError("no JobQueue: python-telegram-bot[job-queue] is not installed")
        application.job_queue.run_repeating(
            follow.pump,
            interval=follow.PUMP_SECONDS,
            first=follow.PUMP_SECONDS,
            name=follow.PUMP_JOB,
            job_kwargs={"max_instances": 1, "coalesce": True},
        )
        if settings.reingest_every:  # the JobQueue was checked above
            application.job_queue.run_repeating(
                admin.run_scheduled_ingest,
                interval=settings.reingest_every,
                first=settings.reingest_every,
                name=admin.SCHEDULED_INGEST_JOB,
                job_kwargs={"max_instances": 1, "coalesce": True},
            )
        logger.info("ready")

    async def post_shutdown(application: Application) -> None:
        service = application.bot_data.get(SERVICE_KEY)
        if service is not None:
            service.close()

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(TrackedUpdates(settings.concurrent_updates))
        .rate_limiter(RetryingLimiter())
        .request(QuietRequest(connection_pool_size=256))
        .get_updates_request(QuietRequest(connection_pool_size=1))
        .updater(None)  # polling is `bot.telegram.polling`, the webhook `bot.telegram.webserver`
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    handlers.register(application, settings.admin_ids)
    return application


async def register_commands(bot: Bot, admin_ids: list[int]) -> None:
    """The command menu: private chats, groups, and each admin's private chat."""
    await bot.set_my_commands(PRIVATE_COMMANDS, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(GROUP_COMMANDS, scope=BotCommandScopeAllGroupChats())
    for admin_id in admin_ids:
        try:
            await bot.set_my_commands(
                PRIVATE_COMMANDS + ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id)
            )
        except TelegramError:  # the admin has not started a chat with the bot yet
            logger.info("admin commands not shown to %s: no chat with the bot yet", admin_id)
