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
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.cli.exits import Exit, fail
from bot.logs import protect_logs
from bot.settings import ServeSettings, split_listen
from bot.telegram.app import ALLOWED_UPDATES, build_application
from retrieval.errors import NewsbotError

logger = logging.getLogger(__name__)


def cmd_serve(args: argparse.Namespace, settings: ServeSettings) -> Exit:
    """Run the bot until SIGINT/SIGTERM; 0 on a clean stop, 1 when it cannot start."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        return fail("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather (see README)")
    token = settings.telegram_bot_token.get_secret_value()
    protect_logs(token)
    try:
        username = asyncio.run(check_token(settings))
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
            application.run_webhook(
                listen=host,
                port=port,
                url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=drop,
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


async def check_token(settings: ServeSettings) -> str:
    """getMe with the token: the bot's username, or InvalidToken / NetworkError."""
    bot = Bot(
        settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_api_base_url
    )
    async with bot:
        return bot.username
