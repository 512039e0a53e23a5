"""`newsbot serve`: the Telegram bot (python-telegram-bot v22).

Long polling by default; webhook mode when NEWSBOT_WEBHOOK_URL is set. Start-up checks the
token with one getMe (a missing or rejected token ends with one clear line and exit code 1),
then `post_init` loads the model, opens the index and builds the answerer once, registers
the command menu and the scheduled re-ingest. The token never reaches a log line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
from collections.abc import Callable
from urllib.parse import urlsplit

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
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults

from bot import handlers
from bot.retry import RetryingLimiter
from bot.service import NewsService
from bot.settings import ServeSettings, split_listen
from retrieval.errors import NewsbotError

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED = 0, 1
ALLOWED_UPDATES = [
    Update.MESSAGE, Update.CHANNEL_POST, Update.CALLBACK_QUERY, Update.INLINE_QUERY,
]
PRIVATE_COMMANDS = [
    BotCommand("start", "What I know and how to ask"),
    BotCommand("help", "How to ask"),
]
GROUP_COMMANDS = [
    BotCommand("ask", "Ask a question about the news"),
    BotCommand("help", "How to ask"),
]
ADMIN_COMMANDS = [
    BotCommand("status", "Index size, outlets, last ingest, uptime"),
    BotCommand("reingest", "Re-read the sources file"),
    BotCommand("add", "Read one article: /add URL"),
]

ServiceFactory = Callable[[ServeSettings], NewsService]


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--drop-pending-updates", action="store_true",
        help="ignore updates that arrived while the bot was down",
    )


def cmd_serve(args: argparse.Namespace, settings: ServeSettings) -> int:
    """Run the bot until SIGINT/SIGTERM; 0 on a clean stop, 1 when it cannot start."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        return _fail("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather (see README)")
    token = settings.telegram_bot_token.get_secret_value()
    protect_logs(token)
    try:
        username = asyncio.run(check_token(settings))
    except InvalidToken as error:
        # PTB re-raises the server's answer with the token in the message: never print it
        server = error.__cause__ if isinstance(error.__cause__, InvalidToken) else error
        if "not found" in server.message.lower():  # 404: a malformed token, or a wrong URL
            return _fail(
                "Telegram rejected TELEGRAM_BOT_TOKEN (getMe: not found); check it and "
                "TELEGRAM_API_BASE_URL"
            )
        return _fail("Telegram rejected TELEGRAM_BOT_TOKEN (getMe: unauthorized); check it")
    except (NetworkError, OSError) as error:
        return _fail(
            f"cannot reach the Bot API at {settings.telegram_api_base_url} "
            f"({type(error).__name__}); check the network or TELEGRAM_API_BASE_URL"
        )
    except TelegramError as error:
        return _fail(f"the Bot API refused getMe ({type(error).__name__}); is it Telegram's?")
    logger.info("starting as @%s", username)
    application = build_application(settings)
    drop = bool(getattr(args, "drop_pending_updates", False))
    try:
        if settings.webhook_url:
            host, port = split_listen(settings.webhook_listen)
            secret = (
                settings.webhook_secret.get_secret_value() if settings.webhook_secret
                else secrets.token_urlsafe(32)
            )
            protect_logs(secret)
            application.run_webhook(
                listen=host, port=port, url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url, secret_token=secret,
                allowed_updates=ALLOWED_UPDATES, drop_pending_updates=drop,
            )
        else:
            application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=drop)
    except NewsbotError as error:  # from post_init: the model, the store, the answerer
        return _fail(str(error))
    except InvalidToken:
        return _fail("Telegram rejected TELEGRAM_BOT_TOKEN; check it")
    except OSError as error:
        return _fail(f"cannot listen on {settings.webhook_listen} ({type(error).__name__})")
    return EXIT_OK


def _fail(line: str) -> int:
    print(f"newsbot: {line}", file=sys.stderr)
    return EXIT_FAILED


async def check_token(settings: ServeSettings) -> str:
    """getMe with the token: the bot's username, or InvalidToken / NetworkError."""
    bot = Bot(
        settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_api_base_url
    )
    async with bot:
        return bot.username


def build_application(
    settings: ServeSettings, *, service_factory: ServiceFactory = NewsService.build
) -> Application:
    """The PTB application: HTML replies without link previews, updates handled
    concurrently, every Bot API call retried on 429 and network errors."""

    async def post_init(application: Application) -> None:
        service = await asyncio.to_thread(service_factory, settings)
        application.bot_data["service"] = service
        await register_commands(application.bot, settings.admin_ids)
        if settings.reingest_every:
            application.job_queue.run_repeating(
                handlers.run_scheduled_ingest, interval=settings.reingest_every,
                first=settings.reingest_every, name=handlers.SCHEDULED_INGEST_JOB,
                job_kwargs={"max_instances": 1, "coalesce": True},
            )
        logger.info("ready")

    async def post_shutdown(application: Application) -> None:
        service = application.bot_data.get("service")
        if service is not None:
            service.close()

    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(settings.concurrent_updates)
        .rate_limiter(RetryingLimiter())
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


# -- logs ------------------------------------------------------------------------------------


class RedactingFormatter(logging.Formatter):
    """Wraps a formatter and blanks secrets (the token appears in Bot API URLs)."""

    def __init__(self, inner: logging.Formatter | None, secrets_: list[str]):
        super().__init__()
        self.inner = inner or logging.Formatter()
        self.secrets = secrets_

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


def protect_logs(secret: str) -> None:
    """Never let `secret` reach a log line; and keep httpx from logging request URLs."""
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING)
    for handler in root.handlers:
        formatter = handler.formatter
        if isinstance(formatter, RedactingFormatter):
            if secret not in formatter.secrets:
                formatter.secrets.append(secret)
        else:
            handler.setFormatter(RedactingFormatter(formatter, [secret]))
