"""`newsbot serve`: the Telegram bot (python-telegram-bot v22).

Long polling by default; webhook mode when NEWSBOT_WEBHOOK_URL is set. Start-up checks the
token with one getMe (a missing or rejected token ends with one clear line and exit code 1),
then `post_init` loads the model, opens the index and builds the answerer once, registers
the command menu and the scheduled re-ingest. The token never reaches a log line.

Webhook mode runs its own web server (`bot.telegram.webserver`: the webhook path, `/healthz`,
`/metrics`) beside the application, PTB's custom-webhook pattern, with the lifecycle that
`Application.run_webhook` has: initialize, post_init, listen, setWebhook, start; on SIGINT or
SIGTERM stop serving, stop, shut down, post_shutdown. The webhook stays set when the bot stops
(Telegram keeps the updates until it is back). Long polling has no web server.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.cli.exits import Exit, fail
from bot.logs import protect_logs
from bot.settings import ServeSettings, split_listen
from bot.telegram.app import ALLOWED_UPDATES, build_application
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
            application.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=drop)
    except NewsbotError as error:  # from post_init: the model, the store, the answerer
        return fail(str(error))
    except InvalidToken:
        return fail("Telegram rejected TELEGRAM_BOT_TOKEN; check it")
    except OSError as error:
        return fail(f"cannot listen on {settings.webhook_listen} ({type(error).__name__})")
    return Exit.OK


async def check_token(token: str, base_url: str) -> str:
    """getMe with the token: the bot's username, or InvalidToken / NetworkError."""
    bot = Bot(token, base_url=base_url)
    async with bot:
        return bot.username


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def run_webhook(
    application: Application,
    *,
    host: str,
    port: int,
    url: str,
    secret: str,
    drop_pending_updates: bool = False,
) -> None:
    """Serve the webhook, /healthz and /metrics until SIGINT/SIGTERM, then stop cleanly.

    The server listens before setWebhook, so Telegram's first delivery finds it; updates that
    arrive before `start()` wait on the update queue.
    """
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stopping.set)
    server = WebServer(
        application, host=host, port=port, webhook_path=urlsplit(url).path, secret=secret
    )
    try:
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        if stopping.is_set():  # stopped while the model loaded
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
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
        await server.stop()
        if application.running:
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
