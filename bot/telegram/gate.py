"""The admission step every asking path shares: check a question, or reply why not."""

from __future__ import annotations

from telegram import Message

from bot.telegram.admission import admit
from bot.telegram.context import BotContext
from bot.telegram.sending import reply


async def admitted(context: BotContext, message: Message, text: str, *, empty_hint: str) -> bool:
    """True when `text` may be answered; otherwise the refusal is counted and sent."""
    refusal = admit(
        text,
        user_id=message.from_user.id if message.from_user else None,
        chat_id=message.chat.id,
        limiter=context.state.limiter,
        max_chars=context.service.settings.max_question_chars,
        empty_hint=empty_hint,
    )
    if refusal is None:
        return True
    context.state.metrics.refusal(refusal.reason)
    await reply(message, refusal.text)
    return False
