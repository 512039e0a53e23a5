"""/start and /help: what the bot knows and how to ask it."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType

from bot.telegram import formatting
from bot.telegram.context import BotContext
from bot.telegram.sending import reply
from retrieval.errors import NewsbotError

logger = logging.getLogger(__name__)


async def start(update: Update, context: BotContext) -> None:
    message = update.message
    if message is None:
        return
    try:
        status = await asyncio.to_thread(context.service.status)
    except NewsbotError as error:  # expected: its message says what failed, no traceback
        logger.warning("index status unavailable: %s", error)
        status = None
    html = formatting.start_html(status, bot_username=context.bot.username)
    await reply(message, html)


async def help_command(update: Update, context: BotContext) -> None:
    message = update.message
    if message is None:
        return
    user = message.from_user
    is_admin = user is not None and user.id in context.settings.admin_ids
    private = message.chat.type == ChatType.PRIVATE
    html = formatting.help_html(
        bot_username=context.bot.username,
        is_admin=is_admin,
        user_id=user.id if user and private else None,
    )
    await reply(message, html)
