"""Questions, wherever they come from: private chats, groups, channel posts, inline queries,
and the "Sources" button under an answer. Thin and async: admit, await the service in a
thread, format, send."""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest

from bot.telegram import formatting, replies
from bot.telegram.addressing import addressed_question
from bot.telegram.admission import admit
from bot.telegram.context import BotContext
from bot.telegram.gate import admitted
from bot.telegram.sending import (
    NO_PREVIEW,
    reply,
    send_html,
    sources_keyboard,
    thread_of,
    typing_action,
)
from bot.telegram.timelines import show_timeline
from retrieval.errors import (
    BadQuestionError,
    IndexNotFoundError,
    NewsbotError,
    StoreUnavailableError,
)
from retrieval.stories.timeline import timeline_topic

logger = logging.getLogger(__name__)

INLINE_MIN_CHARS = 3


def conversation_key(message: Message) -> object:
    """Follow-ups: a private chat or channel is one conversation; in groups each member has
    their own, so two people's questions do not mix."""
    if message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP) and message.from_user:
        return (message.chat.id, message.from_user.id)
    return message.chat.id


def user_message_for(error: NewsbotError) -> str:
    if isinstance(error, IndexNotFoundError):
        return replies.NO_INDEX
    if isinstance(error, StoreUnavailableError):
        return replies.STORE_DOWN
    if isinstance(error, BadQuestionError):
        return replies.EMPTY_HINT
    return replies.CANNOT_ANSWER


async def ask(
    context: BotContext,
    message: Message,
    question: str,
    *,
    empty_hint: str = replies.EMPTY_HINT,
    typing: bool = True,
) -> None:
    """Answer `question` from `message` in its chat: the whole path of one question."""
    service, state = context.service, context.state
    question = question.strip()
    if timeline_topic(question):  # "timeline of …", "what has happened in …"
        await show_timeline(context, message, question)
        return
    if not await admitted(context, message, question, empty_hint=empty_hint):
        return
    key = conversation_key(message)
    history = state.conversations.history(key)
    try:
        typing_shown = typing_action(context.bot, message.chat.id) if typing else nullcontext()
        async with typing_shown:
            with state.metrics.timing():
                answer = await asyncio.to_thread(service.answer, question, history)
    except NewsbotError as error:
        state.metrics.failure(error)
        logger.warning("could not answer: %s: %s", type(error).__name__, error)
        await reply(message, user_message_for(error))
        return
    state.metrics.answer(answer.answered)
    if answer.answered:
        # Before the reply goes out: updates run concurrently, and a follow-up sent the moment
        # the reader sees this answer must find it in the history.
        state.conversations.add(key, question, answer.text)
    rendered = formatting.render_answer(answer, now=datetime.now(UTC))
    markup = None
    if rendered.has_sources:
        answer_key = await state.answers.put(answer, answer_in_last=rendered.answer_in_last)
        markup = sources_keyboard(answer_key, revealed=False)
    quote = message.chat.type != ChatType.PRIVATE
    await send_html(
        context.bot,
        message.chat.id,
        rendered.messages,
        markup=markup,
        reply_to=message.message_id if quote else None,
        thread_id=thread_of(message),
    )


async def on_message(update: Update, context: BotContext) -> None:
    """Text in a private chat or group: a question when it is addressed to the bot."""
    message = update.message
    if message is None or message.text is None:
        return  # the filters let only text messages through; anything else is dropped
    addressed = addressed_question(
        message, bot_id=context.bot.id, bot_username=context.bot.username
    )
    if addressed is None:
        if message.chat.type == ChatType.PRIVATE and message.text.startswith("/"):
            await reply(message, replies.UNKNOWN_COMMAND)
        return
    hint = replies.ASK_HINT if addressed.how == "command" else replies.EMPTY_HINT
    await ask(context, message, addressed.question, empty_hint=hint)


async def on_channel_post(update: Update, context: BotContext) -> None:
    """A channel post that starts with /ask or mentions the bot: answer in the channel."""
    post = update.channel_post
    if post is None:
        return
    addressed = addressed_question(post, bot_id=context.bot.id, bot_username=context.bot.username)
    if addressed is not None:
        await ask(context, post, addressed.question, empty_hint=replies.ASK_HINT, typing=False)


async def on_non_text(update: Update, context: BotContext) -> None:
    if update.message is not None:
        await reply(update.message, replies.NON_TEXT)


async def on_sources_button(update: Update, context: BotContext) -> None:
    """ "Sources" reveals the quoted sentences by editing the message; "Hide quotes" undoes it."""
    query = update.callback_query
    if query is None:
        return
    action, _, key = (query.data or "").partition(":")
    shown = await context.state.answers.get(key)
    if shown is None:
        await query.answer(replies.TOO_OLD)
        return
    reveal = action == "src"
    await query.answer()
    text = formatting.sources_message(
        shown.answer, answer_in_last=shown.answer_in_last, quotes=reveal, now=datetime.now(UTC)
    )
    try:
        await query.edit_message_text(
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=sources_keyboard(key, revealed=reveal),
        )
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def on_inline_query(update: Update, context: BotContext) -> None:
    """`@botname question` in any chat: offer the answer, with its sources, as one result."""
    query = update.inline_query
    if query is None:
        return
    service = context.service
    question = " ".join(query.query.split())
    if len(question) < INLINE_MIN_CHARS:
        await query.answer([], cache_time=5)
        return
    refusal = admit(
        question,
        user_id=query.from_user.id,
        chat_id=None,
        limiter=context.state.limiter,
        max_chars=service.settings.max_question_chars,
    )
    metrics = context.state.metrics
    if refusal is not None:
        metrics.refusal(refusal.reason, via="inline")
    if refusal is not None and refusal.reason == "rate_limited":
        button = InlineQueryResultsButton(text=replies.INLINE_RATE_LIMITED, start_parameter="help")
        await query.answer([], cache_time=0, is_personal=True, button=button)
        return
    if refusal is not None:
        await query.answer([], cache_time=5)
        return
    try:
        with metrics.timing():
            answer = await asyncio.to_thread(service.answer, question, [])
    except NewsbotError as error:
        metrics.failure(error, via="inline")
        logger.warning("could not answer inline: %s: %s", type(error).__name__, error)
        await query.answer([], cache_time=0)
        return
    metrics.answer(answer.answered, via="inline")
    result = InlineQueryResultArticle(
        id=uuid.uuid4().hex,
        title=formatting.shorten(question, 64),
        description=formatting.shorten(answer.text, 120),
        input_message_content=InputTextMessageContent(
            formatting.inline_message(answer, now=datetime.now(UTC)),
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
        ),
    )
    await query.answer([result], cache_time=300)
