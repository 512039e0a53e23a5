"""What the bot's handlers call: the blocking side (answers, index status, ingests), built
once at start-up from the composition root and reached as `context.service`. Its methods block
(encoding, Chroma, reading sources): handlers call them with `asyncio.to_thread`, so one slow
question or a re-ingest never stalls the event loop. The loop-only state that handlers share
(turns, rate limits, the answers behind "Sources" buttons, whether an ingest runs) is `state`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.follows.service import PlanReport
from bot.follows.store import FollowStore
from bot.runtime import Runtime
from bot.settings import ServeSettings
from bot.telegram.context import BotState
from ingest.pipeline import IngestReport
from ingest.sources import parse_sources_file, spec_from_argument
from retrieval.index.status import IndexStatus
from retrieval.stories.timeline import Timeline
from retrieval.types import Answer

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


class NewsService:
    """The blocking side the handlers call (answers, status, ingests), built once at start-up."""

    def __init__(self, settings: ServeSettings, runtime: Runtime):
        self.settings = settings
        self.runtime = runtime
        self.state = BotState.from_settings(settings)
        # the answers behind Sources buttons outlive a restart, in the bot's state file
        self.state.answers.archive = runtime.follow_store

    @classmethod
    def build(cls, settings: ServeSettings) -> NewsService:
        """Load the model, open the store, build the answerer: once, at start-up."""
        started = time.monotonic()
        runtime = Runtime(settings)
        runtime.answerer  # noqa: B018 - builds the model, the store and the retriever now
        runtime.keep_up()  # new commits are applied between questions
        logger.info("model, index and answerer ready in %.1f s", time.monotonic() - started)
        return cls(settings, runtime)

    def close(self) -> None:
        self.runtime.close()

    # -- blocking calls (run them in a thread) ----------------------------------------------

    def answer(self, question: str, history: list[tuple[str, str]]) -> Answer:
        return self.runtime.answerer.answer(question, history)

    def status(self) -> IndexStatus:
        return self.runtime.status()

    def timeline(self, topic: str) -> Timeline:
        return self.runtime.timelines.build(topic)

    def reingest(self, progress: Progress) -> IngestReport:
        """Re-read the whole sources file (articles gone from it are removed)."""
        specs = parse_sources_file(self.settings.sources)
        return self.runtime.ingest(specs, sources_file=True, progress=progress)

    def add(self, url: str, progress: Progress) -> IngestReport:
        """Read one article URL into the index."""
        return self.runtime.ingest([spec_from_argument(url)], progress=progress)

    # -- follows (bot/follows) --------------------------------------------------------------

    @property
    def follow_store(self) -> FollowStore:
        return self.runtime.follow_store

    def start_follows(self) -> None:
        """Pushes start from the generation committed now (unless they started already)."""
        self.runtime.follows.start()

    def plan_pushes(self) -> PlanReport:
        return self.runtime.follows.plan()

    def follow(self, chat_id: int, kind: str, topic: str) -> bool:
        return self.runtime.follows.follow(chat_id, kind, topic, limit=self.settings.max_follows)

    def whats_new(self, chat_id: int, kind: str, topic: str | None) -> list[dict]:
        return self.runtime.follows.whats_new(chat_id, kind, topic)[0]
