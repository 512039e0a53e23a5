"""Fixtures for the bot's tests: the loopback Bot API server, settings pointing at it, and a
fake service (no model, no index) for handler tests."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from telegram import Update

from bot.follows.store import FollowStore
from bot.settings import ServeSettings
from bot.telegram.context import BotState
from devkit.bot_process import build_seed_index
from devkit.botapi_server import TOKEN, FakeBotApi
from ingest.pipeline import IngestReport
from retrieval.index.status import IndexStatus
from retrieval.types import Answer, Citation

ADMIN_ID = 777
MOSCOW = Citation(
    n=1,
    title="Russia Plans Afghan Conference To Advance Peace Talks",
    source="RFE/RL",
    published_at="2021-03-10T00:00:00+00:00",
    url="https://www.rferl.org/a/31142925.html",
    quote="Russian Foreign Ministry spokeswoman Maria Zakharova said in a March 9 statement "
    "that the United States, China, and Pakistan are invited to Moscow.",
    article_id="a1",
)


def moscow_answer(question: str) -> Answer:
    return Answer(
        question,
        "The United States, China and Pakistan are invited to Moscow [1].",
        True,
        (MOSCOW,),
    )


class FakeService:
    """Stands in for `bot.service.NewsService`: same methods, canned results."""

    def __init__(self, settings: ServeSettings, answer: Callable[[str], Answer] = moscow_answer):
        self.settings = settings
        self.state = BotState.from_settings(settings)
        self.answer_for = answer
        self.questions: list[tuple[str, list]] = []
        self.ingests: list[str] = []
        self.ingest_gate = threading.Event()
        self.ingest_gate.set()
        self.closed = False
        self.follow_store = FollowStore(Path(tempfile.mkdtemp()) / "follows.sqlite")

    def start_follows(self) -> None:
        self.follow_store.start_at(1)

    def plan_pushes(self) -> None:
        return None

    def answer(self, question: str, history: list) -> Answer:
        self.questions.append((question, list(history)))
        return self.answer_for(question)

    def status(self) -> IndexStatus:
        return IndexStatus(
            articles=1,
            chunks=4,
            outlets={"RFE/RL": 1},
            first_published="2021-03-10T00:00:00+00:00",
            last_published="2021-03-10T00:00:00+00:00",
            undated_articles=0,
            last_ingest={
                "finished_at": "2024-01-01T00:00:00+00:00",
                "added": 1,
                "updated": 0,
                "unchanged": 0,
                "removed": 0,
                "failed": [],
            },
            model="all-MiniLM-L6-v2",
            store="/tmp/x",
            collection="newsbot-g1",
        )

    def reingest(self, progress) -> IngestReport:
        return self._ingest("reingest", progress)

    def add(self, url: str, progress) -> IngestReport:
        return self._ingest(f"add {url}", progress)

    def _ingest(self, what: str, progress) -> IngestReport:
        self.ingests.append(what)
        progress("sources", 0, 2)
        progress("sources", 1, 2)
        assert self.ingest_gate.wait(20)
        progress("sources", 2, 2)
        progress("embedding", 5, 5)
        time.sleep(0.05)
        return IngestReport(added=1, unchanged=1, seconds=0.2, finished_at="2024-01-01T00:00:00")

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def api():
    with FakeBotApi() as server:
        yield server


def make_settings(api: FakeBotApi, **overrides) -> ServeSettings:
    values = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "admin_ids": [ADMIN_ID],
        "admin_chat_id": None,
    }
    values.update(overrides)
    return ServeSettings(_env_file=None, **values)


async def deliver(app, payload: dict) -> None:
    """Hand one update to the application and wait until its handlers are done."""
    update = Update.de_json({"update_id": int(time.time() * 1000) % 10**9, **payload}, app.bot)
    await app.process_update(update)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory):
    """An index of the seed article, built once per session by the real `newsbot ingest`."""
    root = tmp_path_factory.mktemp("seed-index")
    build_seed_index(root / "data", root)
    return root / "data"
