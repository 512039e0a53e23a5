"""`/timeline TOPIC` and questions asking for one ("timeline of …", "what has happened in …"):
the topic's events in date order, each dated and sourced, split across messages. Thin and
async like the question handlers: admit, build in a thread, format, send."""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import ChatType

from bot.telegram import replies
from bot.telegram.context import BotContext
from bot.telegram.gate import admitted
from bot.telegram.sending import reply, send_html, thread_of, typing_action
from bot.telegram.timeline_html import TIMELINE_HINT, timeline_messages
from retrieval.errors import IndexNotFoundError, NewsbotError, StoreUnavailableError

logger = logging.getLogger(__name__)


async def timeline_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    topic = " ".join(context.args or [])
    await show_timeline(context, message, topic)


async def show_timeline(context: BotContext, message: Message, topic: str) -> None:
    """Send the timeline of `topic` to the chat of `message`."""
    service, state = context.service, context.state
    topic = topic.strip()
    if not await admitted(context, message, topic, empty_hint=TIMELINE_HINT):
        return
    try:
        async with typing_action(context.bot, message.chat.id):
            timeline = await asyncio.to_thread(service.timeline, topic)
    except NewsbotError as error:
        state.metrics.failure(error)
        logger.warning("could not build a timeline: %s: %s", type(error).__name__, error)
        await reply(message, failure_message(error))
        return
    quote = message.chat.type != ChatType.PRIVATE
    await send_html(
        context.bot,
        message.chat.id,
        timeline_messages(timeline.to_dict()),
        reply_to=message.message_id if quote else None,
        thread_id=thread_of(message),
    )


def failure_message(error: NewsbotError) -> str:
    if isinstance(error, IndexNotFoundError):
        return replies.NO_INDEX
    if isinstance(error, StoreUnavailableError):
        return replies.STORE_DOWN
    return replies.CANNOT_ANSWER
