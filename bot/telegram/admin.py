"""The admins' commands: /status, /reingest, /add (refused politely for anyone else), and the
ingest jobs behind them and behind NEWSBOT_REINGEST_EVERY. One ingest at a time; its progress
edits one status message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from html import escape

from telegram import Update
from telegram.constants import ParseMode

from bot.telegram import follow, formatting, replies
from bot.telegram.context import BotContext
from bot.telegram.ingest_jobs import ProgressRelay
from bot.telegram.questions import user_message_for
from bot.telegram.sending import NO_PREVIEW, reply, send_html
from bot.telegram.service import NewsService
from ingest.pipeline import IngestReport
from retrieval.errors import IngestBusyError, NewsbotError, SourcesFileError

logger = logging.getLogger(__name__)

INGEST_JOB = "reingest"  # the JobQueue name of chat-started ingests
SCHEDULED_INGEST_JOB = "reingest-schedule"


async def refuse(update: Update, context: BotContext) -> None:
    if update.message is not None:
        await reply(update.message, replies.ADMIN_ONLY)


async def status_command(update: Update, context: BotContext) -> None:
    message = update.message
    if message is None:
        return
    service = context.service
    try:
        status = await asyncio.to_thread(service.status)
    except NewsbotError as error:
        await reply(message, user_message_for(error))
        return
    await reply(
        message,
        formatting.status_html(
            status,
            uptime_seconds=service.state.uptime,
            ingest_running=service.state.ingests.running,
            chat_id=message.chat.id,
        ),
    )


@dataclass(frozen=True)
class IngestRequest:
    """An ingest asked for from the chat: what to read and the status message to edit."""

    title: str
    chat_id: int
    message_id: int
    first_text: str
    url: str | None = None  # None: the whole sources file


async def reingest_command(update: Update, context: BotContext) -> None:
    await _start_ingest(update, context, "Re-ingest", url=None)


async def add_command(update: Update, context: BotContext) -> None:
    if update.message is None:
        return
    args = context.args or []
    if len(args) != 1 or not args[0].lower().startswith(("http://", "https://")):
        await reply(update.message, replies.ADD_USAGE)
        return
    await _start_ingest(update, context, f"Adding {formatting.shorten(args[0], 80)}", url=args[0])


async def _start_ingest(
    update: Update, context: BotContext, title: str, *, url: str | None
) -> None:
    """One ingest at a time: check and claim without awaiting in between, then post the one
    status message and hand the work to the JobQueue."""
    message = update.message
    if message is None:
        return
    jobs = context.state.ingests
    if not jobs.try_start(title):
        await reply(message, replies.INGEST_BUSY.format(title=escape(jobs.current or "")))
        return
    try:
        first_text = formatting.ingest_progress_html(title, None, 0, 0)
        status_message = await reply(message, first_text)
        request = IngestRequest(title, message.chat.id, status_message.message_id, first_text, url)
        context.jobs.run_once(
            run_ingest_job,
            0,
            data=request,
            name=INGEST_JOB,
            chat_id=message.chat.id,
            user_id=message.from_user.id if message.from_user else None,
        )
    except BaseException:
        jobs.finish()
        raise


async def run_ingest_job(context: BotContext) -> None:
    """The JobQueue job behind /reingest and /add: run it, editing one status message."""
    service = context.service
    request = context.job.data if context.job is not None else None
    if not isinstance(request, IngestRequest):  # only _start_ingest schedules this job
        service.state.ingests.finish()  # release the claim _start_ingest made
        raise TypeError(f"an ingest job without its request: {type(request).__name__}")

    async def edit(text: str) -> None:
        await context.bot.edit_message_text(
            text,
            chat_id=request.chat_id,
            message_id=request.message_id,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
        )

    relay = ProgressRelay(
        edit,
        partial(formatting.ingest_progress_html, request.title),
        first_text=request.first_text,
    )
    work = service.reingest if request.url is None else partial(service.add, request.url)
    try:
        summary, _ = await run_ingest_work(request.title, work, relay, service)
    finally:
        service.state.ingests.finish()
    follow.push_soon(context)
    await relay.show(summary)


async def run_scheduled_ingest(context: BotContext) -> None:
    """NEWSBOT_REINGEST_EVERY: re-read the sources; tell the admin chat when it changed
    something or failed. Skipped while another ingest runs."""
    service = context.service
    jobs = service.state.ingests
    title = "Scheduled re-ingest"
    if not jobs.try_start(title):
        logger.info("scheduled re-ingest skipped: %s is running", jobs.current)
        return
    try:
        relay = ProgressRelay(None, lambda *_: "")
        summary, report = await run_ingest_work(title, service.reingest, relay, service)
    finally:
        jobs.finish()
    follow.push_soon(context)
    changed = report is None or bool(
        report.added or report.updated or report.removed or report.failed
    )
    chat_id = service.settings.admin_chat_id
    if chat_id is not None and changed:
        await send_html(context.bot, chat_id, [summary])


async def run_ingest_work(
    title: str, work: Callable, relay: ProgressRelay, service: NewsService
) -> tuple[str, IngestReport | None]:
    """Run an ingest through `relay`: the final summary as HTML, and the report (None when
    the ingest did not run to the end). Counted in the metrics as done (it ran to the end,
    whatever some sources did), failed or busy (another process's ingest held the index)."""
    metrics = service.state.metrics
    try:
        report: IngestReport = await relay.run(work)
    except IngestBusyError:
        metrics.ingest("busy")
        return formatting.ingest_busy_html(title), None
    except SourcesFileError:
        metrics.ingest("failed")
        logger.warning("%s: bad sources file", title, exc_info=True)
        return formatting.ingest_bad_sources_html(title, str(service.settings.sources)), None
    except Exception as error:
        metrics.ingest("failed")
        logger.error("%s failed", title, exc_info=True)
        return formatting.ingest_failed_html(title, type(error).__name__), None
    metrics.ingest("done")
    return formatting.ingest_summary_html(title, report), report
