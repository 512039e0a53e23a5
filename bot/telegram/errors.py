"""The one error handler: whatever a handler or job did not expect ends here. It logs the
traceback, tells the user a fixed sentence and reports to NEWSBOT_ADMIN_CHAT_ID (at most once
a minute). No exception text is ever sent to a chat. Telegram itself unreachable (a network
error that outlasted the retries in `bot.telegram.retry`) is one warning line: there is no one to
tell, and nothing unexpected happened."""

from __future__ import annotations

import logging
import time
from html import escape

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden, NetworkError, TelegramError

from bot.telegram import replies
from bot.telegram.context import BotContext
from bot.telegram.sending import reply, send_html

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """The one error handler: log with the traceback, tell the user a fixed sentence, report
    to the admin chat (at most once a minute). Never shows exception text to anyone."""
    error = context.error
    service = context.maybe_service
    if service is not None:
        service.state.metrics.error(error)
    if update is None and context.job is None and isinstance(error, NetworkError):
        logger.warning("network problem while fetching updates: %s", type(error).__name__)
        return
    if isinstance(error, NetworkError):
        where = f"update {update.update_id}" if isinstance(update, Update) else "a job"
        logger.warning("Telegram unreachable while handling %s: %s", where, type(error).__name__)
        return
    if isinstance(error, Forbidden):
        logger.info("blocked or removed from a chat: %s", type(error).__name__)
        return
    logger.error("error while handling an update", exc_info=error)
    if isinstance(update, Update):
        await _tell_user(update)
    await _report_to_admins(update, context)


async def _tell_user(update: Update) -> None:
    message = update.effective_message
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.CHANNEL:
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(replies.FIXED_ERROR)
        elif message is not None:
            await reply(message, replies.FIXED_ERROR)
    except TelegramError:
        logger.warning("could not tell the user about an error", exc_info=True)


async def _report_to_admins(update: object, context: BotContext) -> None:
    service = context.maybe_service
    chat_id = service.settings.admin_chat_id if service is not None else None
    if service is None or chat_id is None:
        return
    state = service.state
    now = time.monotonic()
    if now - state.last_error_report < 60:
        return
    state.last_error_report = now
    where = "no update"
    if isinstance(update, Update):
        chat = update.effective_chat
        user = update.effective_user
        where = (
            f"update {update.update_id}, chat {chat.id if chat else '-'}, "
            f"user {user.id if user else '-'}"
        )
    text = (
        f"<b>newsbot error</b>: {escape(type(context.error).__name__)} ({escape(where)}). "
        "The traceback is in the server log."
    )
    try:
        await send_html(context.bot, chat_id, [text])
    except TelegramError:
        logger.warning("could not report an error to the admin chat", exc_info=True)
