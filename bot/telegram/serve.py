"""`newsbot serve`: the Telegram bot (python-telegram-bot v22).

Long polling by default (`bot.telegram.polling`); webhook mode when NEWSBOT_WEBHOOK_URL is
set. Start-up checks the token with one getMe (a missing or rejected token ends with one
clear line and exit code 1), then `post_init` loads the model, opens the index and builds
the answerer once, registers the command menu and the scheduled re-ingest. The token never
reaches a log line.

Webhook mode runs its own web server (`bot.telegram.webserver`: the webhook path, `/healthz`,
`/metrics`) beside the application, PTB's custom-webhook pattern, with the lifecycle that
`Application.run_webhook` has: initialize, post_init, listen, setWebhook, start; on SIGINT or
SIGTERM stop serving, stop, shut down, post_shutdown, within a few seconds whatever the bot
is doing (`bot.telegram.stopping`); long polling has the same lifecycle with `getUpdates`
instead of a web server. The webhook stays set when the bot stops (Telegram keeps the
updates until it is back).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import time
from contextlib import suppress
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.cli.exits import Exit, fail
from bot.logs import protect_logs
from bot.settings import ServeSettings, split_listen
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.polling import Poller, QuietRequest
from bot.telegram.stopping import (
    exit_now,
    remove_stop_signals,
    started,
    stop_event,
    stop_promptly,
    use_worker_threads,
)
from bot.telegram.webserver import WebServer
from retrieval.errors import NewsbotError

logger = logging.getLogger(__name__)


def cmd_serve(args: argparse.Namespace, settings: ServeSettings) -> Exit:
    """Run the bot until SIGINT/SIGTERM; 0 on a clean stop, 1 when it cannot start."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        return fail("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather (see README)")
    token = settings.telegram_bot_token.get_secret_value()
    protect_logs(token)
    try:
        username = asyncio.run(check_token(token, settings.telegram_api_base_url))
    except InvalidToken as error:
        # PTB re-raises the server's answer with the token in the message: never print it
        server = error.__cause__ if isinstance(error.__cause__, InvalidToken) else error
        if "not found" in server.message.lower():  # 404: a malformed token, or a wrong URL
            return fail(
                "Telegram rejected TELEGRAM_BOT_TOKEN (getMe: not found); check it and "
                "TELEGRAM_API_BASE_URL"
            )
        return fail("Telegram rejected TELEGRAM_BOT_TOKEN (getMe: unauthorized); check it")
    except (NetworkError, OSError) as error:
        return fail(
            f"cannot reach the Bot API at {settings.telegram_api_base_url} "
            f"({type(error).__name__}); check the network or TELEGRAM_API_BASE_URL"
        )
    except TelegramError as error:
        return fail(f"the Bot API refused getMe ({type(error).__name__}); is it Telegram's?")
    logger.info("starting as @%s", username)
    application = build_application(settings)
    drop = bool(getattr(args, "drop_pending_updates", False))
    try:
        if settings.webhook_url:
            host, port = split_listen(settings.webhook_listen)
            secret = (
                settings.webhook_secret.get_secret_value()
                if settings.webhook_secret
                else secrets.token_urlsafe(32)
            )
            protect_logs(secret)
            asyncio.run(
                run_webhook(
                    application,
                    host=host,
                    port=port,
                    url=settings.webhook_url,
                    secret=secret,
                    drop_pending_updates=drop,
                )
            )
        else:
            asyncio.run(run_polling(application, drop_pending_updates=drop))
    except NewsbotError as error:  # from post_init: the model, the store, the answerer
        return fail(str(error))
    except InvalidToken:
        return fail("Telegram rejected TELEGRAM_BOT_TOKEN; check it")
    except OSError as error:
        return fail(f"cannot listen on {settings.webhook_listen} ({type(error).__name__})")
    exit_now(Exit.OK)


async def check_token(token: str, base_url: str) -> str:
    """getMe with the token: the bot's username, or InvalidToken / NetworkError."""
    bot = Bot(token, base_url=base_url, request=QuietRequest())
    async with bot:
        return bot.username


async def run_polling(application: Application, *, drop_pending_updates: bool = False) -> None:
    """Long polling until SIGINT/SIGTERM, then stop within `STOP_SECONDS` (`bot.telegram.stopping`).
    The lifecycle of `Application.run_polling`, with our poller (`bot.telegram.polling`)."""
    workers = use_worker_threads()
    stopping = stop_event()
    poller = Poller(application, allowed_updates=ALLOWED_UPDATES)
    polling: asyncio.Task | None = None
    try:
        await application.initialize()
        if not await started(application, stopping):  # stopped while the model loaded
            return
        await poller.start(drop_pending_updates=drop_pending_updates)
        await application.start()
        polling = asyncio.create_task(poller.run(stopping))
        await stopping.wait()
        logger.info("stopping")
    finally:
        since = time.monotonic()
        remove_stop_signals()
        if polling is not None:
            polling.cancel()
            with suppress(asyncio.CancelledError):
                await polling
            await poller.confirm()
        await stop_promptly(application, since=since, workers=workers)


async def run_webhook(
    application: Application,
    *,
    host: str,
    port: int,
    url: str,
    secret: str,
    drop_pending_updates: bool = False,
) -> None:
    """Serve the webhook, /healthz and /metrics until SIGINT/SIGTERM, then stop within
    `STOP_SECONDS` (`bot.telegram.stopping`).

    The server listens before setWebhook, so Telegram's first delivery finds it; updates that
    arrive before `start()` wait on the update queue.
    """
    workers = use_worker_threads()
    stopping = stop_event()
    server = WebServer(
        application, host=host, port=port, webhook_path=urlsplit(url).path, secret=secret
    )
    try:
        await application.initialize()
        if not await started(application, stopping):  # stopped while the model loaded
            return
        server.start()
        logger.info("webhook server listening on %s:%d", host, port)
        await application.bot.set_webhook(
            url=url,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=drop_pending_updates,
            secret_token=secret,
        )
        await application.start()
        await stopping.wait()
        logger.info("stopping")
    finally:
        since = time.monotonic()
        remove_stop_signals()
        await server.stop()
        await stop_promptly(application, since=since, workers=workers)
