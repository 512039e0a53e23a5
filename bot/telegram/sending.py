"""Sending to Telegram: HTML messages in order, short replies, "typing…" while working, and
the "Sources" button. Should Telegram ever refuse our HTML, the text goes out plain."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.telegram import formatting

logger = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def sources_keyboard(key: str, *, revealed: bool) -> InlineKeyboardMarkup:
    if revealed:
        button = InlineKeyboardButton("Hide quotes", callback_data=f"hide:{key}")
    else:
        button = InlineKeyboardButton("Sources", callback_data=f"src:{key}")
    return InlineKeyboardMarkup([[button]])


async def send_html(
    bot,
    chat_id: int,
    texts: list[str],
    *,
    reply_to: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
    thread_id: int | None = None,
) -> list[Message]:
    """Send HTML messages in order; the first replies to `reply_to`, the last carries
    `markup`. Should Telegram ever refuse our HTML, the text goes out plain instead."""
    sent = []
    for i, text in enumerate(texts):
        kwargs: dict[str, Any] = {
            "reply_parameters": (
                ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                if reply_to and i == 0
                else None
            ),
            "reply_markup": markup if i == len(texts) - 1 else None,
            "message_thread_id": thread_id,
            "link_preview_options": NO_PREVIEW,
        }
        try:
            sent.append(await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, **kwargs))
        except BadRequest as error:
            if "parse entities" not in error.message.lower():
                raise
            logger.error("Telegram refused our HTML; sending it as plain text", exc_info=True)
            sent.append(
                await bot.send_message(
                    chat_id, formatting.plain_text(text), parse_mode=None, **kwargs
                )
            )
    return sent


async def reply(message: Message, html: str, **kwargs) -> Message:
    """A short HTML reply; quoted in groups and channels, not in private chats."""
    quote = message.chat.type != ChatType.PRIVATE
    sent = await send_html(
        message.get_bot(),
        message.chat.id,
        [html],
        reply_to=message.message_id if quote else None,
        thread_id=thread_of(message),
        **kwargs,
    )
    return sent[0]


def thread_of(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


@asynccontextmanager
async def typing_action(bot, chat_id: int, *, every: float = 4.5) -> AsyncIterator[None]:
    """Show "typing…" in the chat until the block ends (Telegram clears it after 5 s). The
    first action is sent alongside the work, and always completes before the reply."""
    first_sent = asyncio.Event()

    async def keep_typing() -> None:
        while True:
            try:
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError:
                logger.debug("chat action failed", exc_info=True)
            first_sent.set()
            await asyncio.sleep(every)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        with suppress(TimeoutError):
            await asyncio.wait_for(first_sent.wait(), timeout=5)
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
