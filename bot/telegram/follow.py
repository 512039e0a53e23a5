"""/follow, /following, /unfollow, /whatsnew, and the pushes.

Who may change a chat's follows: anyone in a private chat; in a group, its administrators
(asked with getChatMember, remembered for ADMIN_CACHE_SECONDS) and the bot's admins
(NEWSBOT_ADMIN_IDS), while anyone may list them; in a channel, the channel's own posts (only
its admins can post).

Pushes: a repeating job (`pump`, every PUMP_SECONDS, one at a time) plans the pushes of any
commit it has not planned yet (`FollowService.plan`, in a thread) and sends what is pending,
paced within Telegram's limits (`PushPacer`). A chat that blocked the bot (403) or that no
longer exists loses its follows, with a log line. Flood control beyond what the retrying
rate limiter absorbs, and network errors, leave the push pending for later.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from datetime import UTC, datetime
from html import escape

from telegram import Bot, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.follows.store import FollowLimitError, FollowStore, PendingPush
from bot.telegram import follow_format
from bot.telegram.context import BotContext
from bot.telegram.follow_format import PushPacer
from bot.telegram.questions import user_message_for
from bot.telegram.recent_answers import RecentAnswers
from bot.telegram.retry import retry_after_seconds
from bot.telegram.sending import reply, send_html, sources_keyboard
from retrieval.errors import NewsbotError

logger = logging.getLogger(__name__)

PUMP_JOB = "follow-pushes"
PUMP_SECONDS = 2.0
ADMIN_CACHE_SECONDS = 120.0
CLAIM_BATCH = 50
RETRY_LATER = 30.0
FOLLOW_USAGE = (
    "Send /follow followed by a topic: a few words or a question, for example "
    "/follow Serra Valley ceasefire"
)
UNFOLLOW_USAGE = "Send /unfollow followed by the topic or its number in /following."
UNWATCH_USAGE = "Send /unwatch followed by a name that /following says it also watches."
GROUP_ADMINS_ONLY = "Only this group's administrators can change what it follows."
WHATSNEW_QUESTION = r"(?i)^\s*what(?:'|’|\s+i)?s\s+new\b[^\n]{0,60}$"
OWNER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _kind(message: Message) -> str:
    return str(message.chat.type)


def _topic(context: BotContext) -> str:
    return " ".join(context.args or []).strip()


async def may_change(message: Message, context: BotContext) -> bool:
    """Private chats and channels: yes. Groups: the group's administrators and the bot's
    admins (getChatMember, cached briefly)."""
    chat = message.chat
    if chat.type in (ChatType.PRIVATE, ChatType.CHANNEL):
        return True
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous administrator posts as the group itself
    user = message.from_user
    if user is None:
        return False
    if user.id in context.settings.admin_ids:
        return True
    cache = context.state.chat_admins
    key = (chat.id, user.id)
    now = time.monotonic()
    known = cache.get(key)
    if known is not None and now - known[0] < ADMIN_CACHE_SECONDS:
        return known[1]
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
        allowed = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
    except TelegramError:
        logger.warning("could not check the administrators of chat %s", chat.id, exc_info=True)
        return False
    if len(cache) > 10_000:
        cache.clear()
    cache[key] = (now, allowed)
    return allowed


async def follow_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    topic = _topic(context)
    if not topic:
        await reply(message, FOLLOW_USAGE)
        return
    if len(topic) > follow_format.TOPIC_CHARS:
        await reply(message, f"Please keep a topic under {follow_format.TOPIC_CHARS} characters.")
        return
    if not await may_change(message, context):
        await reply(message, GROUP_ADMINS_ONLY)
        return
    limit = context.settings.max_follows
    try:
        added = await asyncio.to_thread(
            context.service.follow, message.chat.id, _kind(message), topic
        )
    except FollowLimitError:
        await reply(
            message,
            f"This chat follows {limit} topics already; /unfollow one first (see /following).",
        )
        return
    except NewsbotError as error:
        await reply(message, user_message_for(error))
        return
    if not added:
        await reply(message, f"This chat already follows <i>{escape(topic)}</i>.")
        return
    await reply(
        message,
        f"Following <i>{escape(topic)}</i>. New stories about it will be posted here as I "
        "read them; /whatsnew shows what arrived since you last asked.",
    )


async def following_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    store = context.service.follow_store
    follows = await asyncio.to_thread(store.follows, message.chat.id)
    await reply(
        message,
        follow_format.following_html(
            [f.topic for f in follows],
            limit=context.settings.max_follows,
            watching=[f.subject.watching() for f in follows],
        ),
    )


async def unwatch_command(update: Update, context: BotContext) -> None:
    """/unwatch NAME: the chat's follows stop watching a name their subject learned."""
    message = update.effective_message
    if message is None:
        return
    name = _topic(context)
    if not name:
        await reply(message, UNWATCH_USAGE)
        return
    if not await may_change(message, context):
        await reply(message, GROUP_ADMINS_ONLY)
        return
    topics = await asyncio.to_thread(context.service.unwatch, message.chat.id, name)
    if not topics:
        await reply(message, f"No topic here watches <i>{escape(name)}</i>; see /following.")
        return
    listed = ", ".join(f"<i>{escape(t)}</i>" for t in topics)
    await reply(message, f"No longer watching <i>{escape(name)}</i> for {listed}.")


async def unfollow_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    which = _topic(context)
    if not which:
        await reply(message, UNFOLLOW_USAGE)
        return
    if not await may_change(message, context):
        await reply(message, GROUP_ADMINS_ONLY)
        return
    store = context.service.follow_store
    removed = await asyncio.to_thread(store.remove_follow, message.chat.id, which)
    if removed is None:
        await reply(message, f"This chat does not follow <i>{escape(which)}</i>; see /following.")
        return
    await reply(message, f"Stopped following <i>{escape(removed.topic)}</i>.")


async def whatsnew_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    await _whats_new(message, context, _topic(context) or None)


async def whatsnew_question(update: Update, context: BotContext) -> None:
    """ "What's new since I last asked?" in a private chat."""
    if update.message is not None:
        await _whats_new(update.message, context, None)


async def _whats_new(message: Message, context: BotContext, topic: str | None) -> None:
    service = context.service
    try:
        found = await asyncio.to_thread(service.whats_new, message.chat.id, _kind(message), topic)
    except NewsbotError as error:
        await reply(message, user_message_for(error))
        return
    if not found and topic is None and not service.follow_store.follows(message.chat.id):
        await reply(message, follow_format.following_html([], limit=context.settings.max_follows))
        return
    for html in follow_format.whatsnew_html(found, topic=topic):
        await reply(message, html)


# -- pushes ----------------------------------------------------------------------------------


def push_soon(context: BotContext) -> None:
    """After an ingest here: plan and send its pushes now rather than at the next beat."""
    context.jobs.run_once(pump, 0, name=f"{PUMP_JOB}-now")


async def pump(context: BotContext) -> None:
    """Plan what new commits bring, then send what is pending (the repeating job)."""
    service = context.service
    state = service.state
    if state.pumping:
        return
    state.pumping = True
    try:
        try:
            await asyncio.to_thread(service.plan_pushes)
        except NewsbotError as error:
            logger.warning("follows: cannot plan pushes now: %s", error)
        await send_pending(context.bot, service.follow_store, state.pacer, state.answers)
    finally:
        state.pumping = False


async def send_pending(
    bot: Bot, store: FollowStore, pacer: PushPacer, answers: RecentAnswers
) -> int:
    """Send the pending pushes this process can claim, paced; how many went out. Pushes a
    chat may not receive yet (its per-chat limit) are postponed, not waited for."""
    sent = 0
    while True:
        batch = await asyncio.to_thread(store.claim, OWNER, CLAIM_BATCH)
        if not batch:
            return sent
        for push in batch:
            wait = pacer.chat_wait(push.chat_id, time.monotonic())
            if wait > 0:
                await asyncio.to_thread(store.postpone, push, wait)
                continue
            await asyncio.sleep(pacer.global_wait(time.monotonic()))
            pacer.record(push.chat_id, time.monotonic())
            if await send_one(bot, store, answers, push):
                sent += 1


async def send_one(bot: Bot, store: FollowStore, answers: RecentAnswers, push: PendingPush) -> bool:
    """Send one push unless its follow is gone or the chat has the story already; record it
    as delivered only once Telegram accepted it."""
    if not await asyncio.to_thread(store.still_follows, push.chat_id, push.topic_key):
        await asyncio.to_thread(store.discard, push)
        return False
    seen = await asyncio.to_thread(store.pushed_articles, push.chat_id, push.story_id)
    if seen is not None and set(push.articles) <= seen:
        await asyncio.to_thread(store.discard, push)
        return False
    html = follow_format.push_html(push.message, now=datetime.now(UTC))
    key = answers.issue()
    try:
        [sent] = await send_html(
            bot, push.chat_id, [html], markup=sources_keyboard(key, revealed=False)
        )
    except Forbidden:
        dropped = await asyncio.to_thread(store.drop_chat, push.chat_id)
        logger.warning(
            "chat %s blocked the bot (403): dropped its %d follows", push.chat_id, dropped
        )
        return False
    except RetryAfter as error:
        await asyncio.to_thread(store.postpone, push, retry_after_seconds(error))
        return False
    except BadRequest as error:
        if "chat not found" in error.message.lower():
            dropped = await asyncio.to_thread(store.drop_chat, push.chat_id)
            logger.warning("chat %s is gone: dropped its %d follows", push.chat_id, dropped)
        else:
            logger.error("push to chat %s refused: %s", push.chat_id, error.message)
            await asyncio.to_thread(store.discard, push)
        return False
    except NetworkError:
        logger.warning("push to chat %s failed; retrying later", push.chat_id, exc_info=True)
        await asyncio.to_thread(store.postpone, push, RETRY_LATER)
        return False
    await asyncio.to_thread(store.delivered, push)
    answer = follow_format.push_answer(push.message)
    await answers.keep(
        key, answer, chat_id=push.chat_id, message_id=sent.message_id, answer_in_last=True
    )
    return True
