"""What the bot counts, for Prometheus: one `BotMetrics` per application (it hangs on
`BotState`), each with its own registry, so two bots in one process (or two tests) never share
a count. The handlers count; `/metrics` beside the webhook renders `exposition()`.

Questions come from chats (messages, group mentions, channel posts) or inline queries (`via`):
Telegram sends an inline query each time the user pauses while typing, so the two are kept
apart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

CONTENT_TYPE = CONTENT_TYPE_LATEST
# an extractive answer takes tens of milliseconds, an LLM's several seconds
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
INGEST_OUTCOMES = ("done", "failed", "busy")


class BotMetrics:
    """The bot's counters, histogram and gauge, in a registry of their own."""

    def __init__(self, *, process: bool = True) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        if process:  # CPU, memory, open files, GC: what an operator looks at first
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)
            GCCollector(registry=r)
        self.answered = Counter(
            "newsbot_questions_answered",
            "Questions answered from the index, with citations.",
            ["via"],
            registry=r,
        )
        self.declined = Counter(
            "newsbot_questions_declined",
            'Questions the index had nothing for ("The news I have doesn\'t say.").',
            ["via"],
            registry=r,
        )
        self.refused = Counter(
            "newsbot_questions_refused",
            "Questions not taken: empty, too_long or rate_limited.",
            ["via", "reason"],
            registry=r,
        )
        self.failed = Counter(
            "newsbot_questions_failed",
            "Questions the service could not answer (no index, store down, ...), by error.",
            ["via", "error"],
            registry=r,
        )
        self.latency = Histogram(
            "newsbot_answer_seconds",
            "Time the service took to answer one question (retrieval and answer).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ingests = Counter(
            "newsbot_ingests",
            "Ingests started from the chat or the schedule, by outcome: done, failed, busy.",
            ["outcome"],
            registry=r,
        )
        self.last_ingest = Gauge(
            "newsbot_last_ingest_timestamp_seconds",
            "Unix time the last ingest of this process finished (0: none yet).",
            registry=r,
        )
        self.errors = Counter(
            "newsbot_telegram_errors",
            "Errors that reached the bot's error handler (Telegram API errors and unexpected "
            "handler failures), by exception type.",
            ["type"],
            registry=r,
        )
        for outcome in INGEST_OUTCOMES:  # present at 0 from the start, so rates work
            self.ingests.labels(outcome)
        for via in ("chat", "inline"):
            self.answered.labels(via)
            self.declined.labels(via)

    # -- what the handlers call -------------------------------------------------------------

    def refusal(self, reason: str, *, via: str = "chat") -> None:
        self.refused.labels(via, reason).inc()

    def answer(self, answered: bool, *, via: str = "chat") -> None:
        (self.answered if answered else self.declined).labels(via).inc()

    def failure(self, error: BaseException, *, via: str = "chat") -> None:
        self.failed.labels(via, type(error).__name__).inc()

    @contextmanager
    def timing(self) -> Iterator[None]:
        """Observe the time the block took, also when it raised."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.latency.observe(time.perf_counter() - started)

    def ingest(self, outcome: str) -> None:
        if outcome not in INGEST_OUTCOMES:
            raise ValueError(f"unknown ingest outcome {outcome!r}")
        self.ingests.labels(outcome).inc()
        if outcome == "done":
            self.last_ingest.set_to_current_time()

    def error(self, error: BaseException | None) -> None:
        self.errors.labels(type(error).__name__ if error is not None else "None").inc()

    # -- reading ------------------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The Prometheus text format of everything above."""
        return generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float:
        """One sample's value (0 when absent): for tests and the log."""
        return self.registry.get_sample_value(name, labels) or 0.0
