"""Telegram handlers: thin and async. Parse the update, await the service in a thread, format,
reply. Blocking work (encoding, Chroma, ingest) never runs on the event loop.

Expected failures (no index yet, store down, rate limit, bad input) get a short fixed sentence;
anything else reaches `on_error`, which logs the traceback, tells the user a fixed sentence and
reports to NEWSBOT_ADMIN_CHAT_ID. No exception text is ever sent to a chat.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from functools import partial
from html import escape
from typing import TYPE_CHECKING, Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import formatting
from bot.addressing import addressed_question
from bot.ingest_jobs import ProgressRelay
from ingest.sources import SourcesFileError
from retrieval.errors import (
    BadQuestionError,
    IndexNotFoundError,
    NewsbotError,
    StoreUnavailableError,
)
from retrieval.store import IngestBusyError

if TYPE_CHECKING:
    from bot.service import NewsService

logger = logging.getLogger(__name__)

INGEST_JOB = "reingest"  # the JobQueue name of chat-started ingests
SCHEDULED_INGEST_JOB = "reingest-schedule"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

FIXED_ERROR = "Sorry, something went wrong on my side. Please try again in a minute."
NO_INDEX = "I have not read any articles yet; an admin needs to run /reingest first."
STORE_DOWN = "The news index is unavailable right now. Please try again later."
CANNOT_ANSWER = "I could not answer that right now. Please try again later."
EMPTY_HINT = f"Send me a question in words, for example: <i>{formatting.EXAMPLE_QUESTION}</i>"
ASK_HINT = f"Write your question after /ask, for example: /ask {formatting.EXAMPLE_QUESTION}"
TOO_LONG = "That is too long for me: please keep questions under {n} characters."
NON_TEXT = "I can only read text. Send me your question as a message."
UNKNOWN_COMMAND = "I don't know that command. Send /help to see what I can do."
RATE_LIMITED = "You are asking faster than I can read. Please wait {s} s and ask again."
ADMIN_ONLY = "Sorry, only the bot's admins can do that."
INGEST_BUSY = "An ingest is already running ({title}); I will not start another one."
ADD_USAGE = "Send /add followed by one article URL, for example /add https://example.org/story"
TOO_OLD = "That answer is too old; ask again to see its sources."
INLINE_MIN_CHARS = 3


def service_of(context: ContextTypes.DEFAULT_TYPE) -> NewsService:
    return context.bot_data["service"]


# -- registration ----------------------------------------------------------------------------


def register(application: Application, admin_ids: list[int]) -> None:
    """Every handler of the bot. Admin commands are restricted where they are registered, by
    user id; the same commands from anyone else reach a polite refusal and nothing runs."""
    messages = filters.UpdateType.MESSAGE
    admins = filters.User(user_id=admin_ids)
    add = application.add_handler
    add(CommandHandler("start", start, filters=messages & filters.ChatType.PRIVATE))
    add(CommandHandler("help", help_command, filters=messages))
    add(CommandHandler("status", status_command, filters=messages & admins))
    add(CommandHandler("reingest", reingest_command, filters=messages & admins))
    add(CommandHandler("add", add_command, filters=messages & admins))
    add(CommandHandler(["status", "reingest", "add"], refuse, filters=messages))
    add(MessageHandler(messages & filters.TEXT, on_message))
    add(MessageHandler(filters.UpdateType.CHANNEL_POST & filters.TEXT, on_channel_post))
    add(
        MessageHandler(
            messages & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL,
            on_non_text,
        )
    )
    add(CallbackQueryHandler(on_sources_button, pattern=r"^(src|hide):"))
    add(InlineQueryHandler(on_inline_query))
    application.add_error_handler(on_error)


# -- sending ---------------------------------------------------------------------------------


def sources_keyboard(key: str, *, revealed: bool) -> InlineKeyboardMarkup:
    if revealed:
        button = InlineKeyboardButton("Hide quotes", callback_data=f"hide:{key}")
    else:
        button = InlineKeyboardButton("Sources", callback_data=f"src:{key}")
    return InlineKeyboardMarkup([[button]])


async def send_html(
    bot, chat_id: int, texts: list[str], *, reply_to: int | None = None,
    markup: InlineKeyboardMarkup | None = None, thread_id: int | None = None,
) -> list[Message]:
    """Send HTML messages in order; the first replies to `reply_to`, the last carries
    `markup`. Should Telegram ever refuse our HTML, the text goes out plain instead."""
    sent = []
    for i, text in enumerate(texts):
        kwargs: dict[str, Any] = {
            "reply_parameters": (
                ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                if reply_to and i == 0 else None
            ),
            "reply_markup": markup if i == len(texts) - 1 else None,
            "message_thread_id": thread_id,
            "link_preview_options": NO_PREVIEW,
        }
        try:
            sent.append(
                await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, **kwargs)
            )
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
        message.get_bot(), message.chat.id, [html],
        reply_to=message.message_id if quote else None, thread_id=_thread(message), **kwargs,
    )
    return sent[0]


def _thread(message: Message) -> int | None:
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


# -- questions -------------------------------------------------------------------------------


def conversation_key(message: Message) -> object:
    """Follow-ups: a private chat or channel is one conversation; in groups each member has
    their own, so two people's questions do not mix."""
    if message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP) and message.from_user:
        return (message.chat.id, message.from_user.id)
    return message.chat.id


def user_message_for(error: NewsbotError) -> str:
    if isinstance(error, IndexNotFoundError):
        return NO_INDEX
    if isinstance(error, StoreUnavailableError):
        return STORE_DOWN
    if isinstance(error, BadQuestionError):
        return EMPTY_HINT
    return CANNOT_ANSWER


async def ask(
    context: ContextTypes.DEFAULT_TYPE, message: Message, question: str, *,
    empty_hint: str = EMPTY_HINT, typing: bool = True,
) -> None:
    """Answer `question` from `message` in its chat: the whole path of one question."""
    service = service_of(context)
    state = service.state
    question = question.strip()
    if not question:
        await reply(message, empty_hint)
        return
    limit = service.settings.max_question_chars
    if len(question) > limit:
        await reply(message, TOO_LONG.format(n=limit))
        return
    user_id = message.from_user.id if message.from_user else None
    decision = state.limiter.check(user_id, message.chat.id)
    if not decision.allowed:
        await reply(message, RATE_LIMITED.format(s=math.ceil(decision.retry_after)))
        return
    key = conversation_key(message)
    history = state.conversations.history(key)
    try:
        if typing:
            async with typing_action(context.bot, message.chat.id):
                answer = await asyncio.to_thread(service.answer, question, history)
        else:
            answer = await asyncio.to_thread(service.answer, question, history)
    except NewsbotError as error:
        logger.warning("could not answer: %s", type(error).__name__, exc_info=True)
        await reply(message, user_message_for(error))
        return
    rendered = formatting.render_answer(answer)
    markup = None
    if rendered.has_sources:
        answer_key = state.answers.put(answer, answer_in_last=rendered.answer_in_last)
        markup = sources_keyboard(answer_key, revealed=False)
    quote = message.chat.type != ChatType.PRIVATE
    await send_html(
        context.bot, message.chat.id, rendered.messages, markup=markup,
        reply_to=message.message_id if quote else None, thread_id=_thread(message),
    )
    if answer.answered:
        state.conversations.add(key, question, answer.text)


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text in a private chat or group: a question when it is addressed to the bot."""
    message = update.message
    addressed = addressed_question(
        message, bot_id=context.bot.id, bot_username=context.bot.username
    )
    if addressed is None:
        if message.chat.type == ChatType.PRIVATE and message.text.startswith("/"):
            await reply(message, UNKNOWN_COMMAND)
        return
    hint = ASK_HINT if addressed.how == "command" else EMPTY_HINT
    await ask(context, message, addressed.question, empty_hint=hint)


async def on_channel_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A channel post that starts with /ask or mentions the bot: answer in the channel."""
    post = update.channel_post
    addressed = addressed_question(post, bot_id=context.bot.id, bot_username=context.bot.username)
    if addressed is not None:
        await ask(context, post, addressed.question, empty_hint=ASK_HINT, typing=False)


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update.message, NON_TEXT)


async def on_sources_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Sources" reveals the quoted sentences by editing the message; "Hide quotes" undoes it."""
    query = update.callback_query
    action, _, key = (query.data or "").partition(":")
    shown = service_of(context).state.answers.get(key)
    if shown is None:
        await query.answer(TOO_OLD)
        return
    reveal = action == "src"
    await query.answer()
    text = formatting.sources_message(
        shown.answer, answer_in_last=shown.answer_in_last, quotes=reveal
    )
    try:
        await query.edit_message_text(
            text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
            reply_markup=sources_keyboard(key, revealed=reveal),
        )
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`@botname question` in any chat: offer the answer, with its sources, as one result."""
    query = update.inline_query
    service = service_of(context)
    question = " ".join(query.query.split())
    if len(question) < INLINE_MIN_CHARS or len(question) > service.settings.max_question_chars:
        await query.answer([], cache_time=5)
        return
    decision = service.state.limiter.check(query.from_user.id, None)
    if not decision.allowed:
        button = InlineQueryResultsButton(
            text="Too many questions: wait a moment", start_parameter="help"
        )
        await query.answer([], cache_time=0, is_personal=True, button=button)
        return
    try:
        answer = await asyncio.to_thread(service.answer, question, [])
    except NewsbotError as error:
        logger.warning("could not answer inline: %s", type(error).__name__, exc_info=True)
        await query.answer([], cache_time=0)
        return
    result = InlineQueryResultArticle(
        id=uuid.uuid4().hex,
        title=formatting.shorten(question, 64),
        description=formatting.shorten(answer.text, 120),
        input_message_content=InputTextMessageContent(
            formatting.inline_message(answer), parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
        ),
    )
    await query.answer([result], cache_time=300)


# -- start, help -----------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    service = service_of(context)
    try:
        status = await asyncio.to_thread(service.status)
    except NewsbotError:
        logger.warning("index status unavailable", exc_info=True)
        status = None
    await reply(update.message, formatting.start_html(status, bot_username=context.bot.username))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    user = message.from_user
    is_admin = bool(user) and user.id in service_of(context).settings.admin_ids
    private = message.chat.type == ChatType.PRIVATE
    html = formatting.help_html(
        bot_username=context.bot.username, is_admin=is_admin,
        user_id=user.id if user and private else None,
    )
    await reply(message, html)


# -- admins ----------------------------------------------------------------------------------


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update.message, ADMIN_ONLY)


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    service = service_of(context)
    try:
        status = await asyncio.to_thread(service.status)
    except NewsbotError as error:
        await reply(update.message, user_message_for(error))
        return
    await reply(
        update.message,
        formatting.status_html(
            status, uptime_seconds=service.state.uptime,
            ingest_running=service.state.ingests.running, chat_id=update.message.chat.id,
        ),
    )


@dataclass(frozen=True)
class IngestRequest:
    title: str
    chat_id: int
    message_id: int
    first_text: str
    url: str | None = None  # None: the whole sources file


async def reingest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _start_ingest(update, context, "Re-ingest", url=None)


async def add_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    if len(args) != 1 or not args[0].lower().startswith(("http://", "https://")):
        await reply(update.message, ADD_USAGE)
        return
    await _start_ingest(update, context, f"Adding {formatting.shorten(args[0], 80)}", url=args[0])


async def _start_ingest(
    update: Update, context: ContextTypes.DEFAULT_TYPE, title: str, *, url: str | None
) -> None:
    """One ingest at a time: check and claim without awaiting in between, then post the one
    status message and hand the work to the JobQueue."""
    message = update.message
    jobs = service_of(context).state.ingests
    if not jobs.try_start(title):
        await reply(message, INGEST_BUSY.format(title=escape(jobs.current)))
        return
    try:
        first_text = formatting.ingest_progress_html(title, None, 0, 0)
        status_message = await reply(message, first_text)
        request = IngestRequest(title, message.chat.id, status_message.message_id, first_text, url)
        context.job_queue.run_once(
            run_ingest_job, 0, data=request, name=INGEST_JOB, chat_id=message.chat.id,
            user_id=message.from_user.id if message.from_user else None,
        )
    except BaseException:
        jobs.finish()
        raise


async def run_ingest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The JobQueue job behind /reingest and /add: run it, editing one status message."""
    request: IngestRequest = context.job.data
    service = service_of(context)

    async def edit(text: str) -> None:
        await context.bot.edit_message_text(
            text, chat_id=request.chat_id, message_id=request.message_id,
            parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
        )

    relay = ProgressRelay(
        edit, partial(formatting.ingest_progress_html, request.title),
        first_text=request.first_text,
    )
    work = service.reingest if request.url is None else partial(service.add, request.url)
    try:
        summary = await run_ingest_work(request.title, work, relay, service)
    finally:
        service.state.ingests.finish()
    await relay.show(summary)


async def run_scheduled_ingest(context: ContextTypes.DEFAULT_TYPE) -> None:
    """NEWSBOT_REINGEST_EVERY: re-read the sources; tell the admin chat when it changed
    something or failed. Skipped while another ingest runs."""
    service = service_of(context)
    jobs = service.state.ingests
    title = "Scheduled re-ingest"
    if not jobs.try_start(title):
        logger.info("scheduled re-ingest skipped: %s is running", jobs.current)
        return
    try:
        relay = ProgressRelay(None, lambda *_: "")
        summary, report = await run_ingest_work(
            title, service.reingest, relay, service, with_report=True
        )
    finally:
        jobs.finish()
    changed = report is None or any(
        report.get(k) for k in ("added", "updated", "removed", "failed")
    )
    chat_id = service.settings.admin_chat_id
    if chat_id is not None and changed:
        await send_html(context.bot, chat_id, [summary])


async def run_ingest_work(
    title: str, work: Callable, relay: ProgressRelay, service: NewsService, *,
    with_report: bool = False,
):
    """Run an ingest through `relay`; the final summary as HTML (and the report as a dict)."""
    report = None
    try:
        result = await relay.run(work)
        report = result.to_dict()
        summary = formatting.ingest_summary_html(title, report)
    except IngestBusyError:
        summary = f"<b>{escape(title)}</b>: another ingest holds the index (perhaps from the " \
                  "command line); nothing was done. Try again when it has finished."
    except SourcesFileError:
        logger.warning("%s: bad sources file", title, exc_info=True)
        sources = escape(str(service.settings.sources))
        summary = f"<b>{escape(title)}</b>: the sources file {sources} is missing or " \
                  f"invalid; nothing was done. <code>newsbot ingest --sources {sources}</code> " \
                  "on the server says why."
    except Exception as error:
        logger.error("%s failed", title, exc_info=True)
        summary = f"<b>{escape(title)}</b>: failed ({escape(type(error).__name__)}); the " \
                  "previous index stays in use. Details are in the server log."
    return (summary, report) if with_report else summary


# -- errors ----------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: log with the traceback, tell the user a fixed sentence, report
    to the admin chat (at most once a minute). Never shows exception text to anyone."""
    error = context.error
    if update is None and context.job is None and isinstance(error, NetworkError):
        logger.warning("network problem while fetching updates: %s", type(error).__name__)
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
            await update.callback_query.answer(FIXED_ERROR)
        elif message is not None:
            await reply(message, FIXED_ERROR)
    except TelegramError:
        logger.warning("could not tell the user about an error", exc_info=True)


async def _report_to_admins(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    service = context.bot_data.get("service")
    chat_id = service.settings.admin_chat_id if service else None
    if chat_id is None:
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
