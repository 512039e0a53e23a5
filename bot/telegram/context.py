"""Typed shared state for handlers: `context.service` and `context.state` instead of digging
in `bot_data` (PTB's CustomContext pattern)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.settings import ServeSettings
from bot.telegram.conversations import Conversations
from bot.telegram.follow_format import PushPacer
from bot.telegram.ingest_jobs import IngestJobs
from bot.telegram.metrics import BotMetrics
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.recent_answers import RecentAnswers

if TYPE_CHECKING:
    from bot.telegram.service import NewsService

SERVICE_KEY = "service"


@dataclass
class BotState:
    """Shared, loop-only state of a running bot."""

    conversations: Conversations
    limiter: RateLimiter
    answers: RecentAnswers = field(default_factory=RecentAnswers)
    ingests: IngestJobs = field(default_factory=IngestJobs)
    metrics: BotMetrics = field(default_factory=BotMetrics)  # served at /metrics
    started: float = field(default_factory=time.monotonic)
    last_error_report: float = float("-inf")
    pacer: PushPacer = field(default_factory=PushPacer)  # pushes within Telegram's limits
    pumping: bool = False  # the push job is running
    chat_admins: dict[tuple[int, int], tuple[float, bool]] = field(default_factory=dict)
    # set when the bot is stopping: an ingest in a worker thread gives up at its next step
    stopping: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_settings(cls, settings: ServeSettings) -> BotState:
        return cls(
            conversations=Conversations(settings.history_turns),
            limiter=RateLimiter(
                per_user=settings.user_questions_per_minute,
                per_chat=settings.chat_questions_per_minute,
            ),
        )

    @property
    def uptime(self) -> float:
        return time.monotonic() - self.started


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    """What every handler and job receives."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ):
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def service(self) -> NewsService:
        """The service `post_init` built; KeyError before start-up finished."""
        return self.bot_data[SERVICE_KEY]

    @property
    def maybe_service(self) -> NewsService | None:
        return self.bot_data.get(SERVICE_KEY)

    @property
    def jobs(self) -> JobQueue[BotContext]:
        """The JobQueue, typed for this context (PTB's job-queue extra is a dependency)."""
        queue = self.job_queue
        if queue is None:
            raise RuntimeError("no JobQueue: python-telegram-bot[job-queue] is not installed")
        # PTB annotates CallbackContext.job_queue as JobQueue[ST] with ST bound to nothing; the
        # application is built with CONTEXT_TYPES, so the jobs it runs receive a BotContext.
        return cast("JobQueue[BotContext]", queue)

    @property
    def state(self) -> BotState:
        return self.service.state

    @property
    def settings(self) -> ServeSettings:
        return self.service.settings


CONTEXT_TYPES = ContextTypes(context=BotContext)
