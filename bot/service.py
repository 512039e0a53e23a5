"""What the bot's handlers call: built once at start-up (the model, the store, the answerer)
and passed down through `application.bot_data`. Its methods block (encoding, Chroma, reading
sources): handlers call them with `asyncio.to_thread`, so one slow question or a re-ingest
never stalls the event loop. The state that handlers share (turns, rate limits, the answers
behind "Sources" buttons, whether an ingest runs) lives here too, touched from the loop only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from bot import runtime
from bot.conversations import Conversations
from bot.ingest_jobs import IngestJobs
from bot.ratelimit import RateLimiter
from bot.recent_answers import RecentAnswers
from bot.settings import ServeSettings
from ingest.pipeline import IngestReport, run_ingest
from ingest.sources import parse_sources_file, spec_from_argument
from retrieval.status import IndexStatus, index_status
from retrieval.types import Answer

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


class Answerer(Protocol):
    def answer(self, question: str, history: list[tuple[str, str]]) -> Answer: ...


@dataclass
class BotState:
    """Shared, loop-only state of a running bot."""

    conversations: Conversations
    limiter: RateLimiter
    answers: RecentAnswers = field(default_factory=RecentAnswers)
    ingests: IngestJobs = field(default_factory=IngestJobs)
    started: float = field(default_factory=time.monotonic)
    last_error_report: float = float("-inf")

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


class NewsService:
    """The blocking side: answers, index status, ingests."""

    def __init__(
        self, settings: ServeSettings, *, store: Any, model: Any, answerer: Answerer,
        http: httpx.Client,
    ):
        self.settings = settings
        self.store = store
        self.model = model
        self.answerer = answerer
        self.http = http
        self.state = BotState.from_settings(settings)

    @classmethod
    def build(cls, settings: ServeSettings) -> NewsService:
        """Load the model, open the store, build the answerer: once, at start-up."""
        started = time.monotonic()
        model = runtime.load_model(settings)
        store = runtime.open_store(settings)
        answerer = runtime.build_answerer(settings, store, model)
        service = cls(
            settings, store=store, model=model, answerer=answerer,
            http=runtime.http_client(settings),
        )
        logger.info("model, index and answerer ready in %.1f s", time.monotonic() - started)
        return service

    def close(self) -> None:
        self.http.close()

    # -- blocking calls (run them in a thread) ----------------------------------------------

    def answer(self, question: str, history: list[tuple[str, str]]) -> Answer:
        return self.answerer.answer(question, history)

    def status(self) -> IndexStatus:
        return index_status(self.store, self.settings.embedding_model)

    def reingest(self, progress: Progress) -> IngestReport:
        """Re-read the whole sources file (articles gone from it are removed)."""
        specs = parse_sources_file(self.settings.sources)
        return self._ingest(specs, progress, sources_file=True)

    def add(self, url: str, progress: Progress) -> IngestReport:
        """Read one article URL into the index."""
        return self._ingest([spec_from_argument(url)], progress, sources_file=False)

    def _ingest(self, specs, progress: Progress, *, sources_file: bool) -> IngestReport:
        return run_ingest(
            specs, read_source=runtime.source_reader(self.settings, self.http), store=self.store,
            embedder=self.model, params=runtime.chunking_params(self.settings),
            sources_file=sources_file, progress=progress,
        )
