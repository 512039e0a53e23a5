"""The bot's metrics and health check: `BotMetrics` alone, the health check over a fake
service, the handlers' counting, and the web server (webhook, /healthz, /metrics) on loopback
in front of a real PTB application."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.settings import ServeSettings
from bot.telegram import admin
from bot.telegram.app import build_application
from bot.telegram.ingest_jobs import ProgressRelay
from bot.telegram.metrics import CONTENT_TYPE, BotMetrics
from bot.telegram.webserver import WebServer, health
from devkit.botapi_server import TOKEN, FakeBotApi
from retrieval.errors import IngestBusyError, SourcesFileError, StoreUnavailableError
from retrieval.types import Answer
from tests.bot.conftest import FakeService, deliver, make_settings
from tests.conftest import free_port

SECRET = "metrics-test_secret"


def fake_service(**overrides) -> FakeService:
    return FakeService(ServeSettings(_env_file=None, TELEGRAM_BOT_TOKEN=TOKEN, **overrides))


def parsed(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


# -- BotMetrics ------------------------------------------------------------------------------


def test_counts_render_in_the_prometheus_text_format():
    metrics = BotMetrics()
    metrics.answer(True)
    metrics.answer(True)
    metrics.answer(False, via="inline")
    metrics.refusal("rate_limited")
    metrics.failure(StoreUnavailableError("down"))
    metrics.ingest("done")
    metrics.ingest("busy")
    metrics.error(RuntimeError("x"))
    samples = parsed(metrics.exposition().decode())
    assert samples[("newsbot_questions_answered_total", (("via", "chat"),))] == 2
    assert samples[("newsbot_questions_answered_total", (("via", "inline"),))] == 0
    assert samples[("newsbot_questions_declined_total", (("via", "inline"),))] == 1
    assert (
        samples[("newsbot_questions_refused_total", (("reason", "rate_limited"), ("via", "chat")))]
        == 1
    )
    assert (
        samples[
            (
                "newsbot_questions_failed_total",
                (("error", "StoreUnavailableError"), ("via", "chat")),
            )
        ]
        == 1
    )
    assert samples[("newsbot_ingests_total", (("outcome", "done"),))] == 1
    assert samples[("newsbot_ingests_total", (("outcome", "busy"),))] == 1
    assert samples[("newsbot_ingests_total", (("outcome", "failed"),))] == 0  # there at 0
    assert samples[("newsbot_telegram_errors_total", (("type", "RuntimeError"),))] == 1
    assert abs(samples[("newsbot_last_ingest_timestamp_seconds", ())] - time.time()) < 60


def test_each_instance_has_its_own_registry():
    first, second = BotMetrics(process=False), BotMetrics(process=False)
    first.answer(True)
    assert first.value("newsbot_questions_answered_total", via="chat") == 1
    assert second.value("newsbot_questions_answered_total", via="chat") == 0


def test_process_metrics_are_optional():
    assert b"process_cpu_seconds_total" in BotMetrics().exposition()
    assert b"process_cpu_seconds_total" not in BotMetrics(process=False).exposition()


def test_timing_observes_also_when_the_block_raises():
    metrics = BotMetrics(process=False)
    with metrics.timing():
        time.sleep(0.03)
    with pytest.raises(ValueError, match="boom"), metrics.timing():
        raise ValueError("boom")
    assert metrics.value("newsbot_answer_seconds_count") == 2
    assert metrics.value("newsbot_answer_seconds_sum") >= 0.03
    assert metrics.value("newsbot_answer_seconds_bucket", le="0.025") >= 1  # the quick one


def test_last_ingest_is_zero_until_an_ingest_is_done():
    metrics = BotMetrics(process=False)
    metrics.ingest("failed")
    assert metrics.value("newsbot_last_ingest_timestamp_seconds") == 0
    with pytest.raises(ValueError, match="unknown ingest outcome"):
        metrics.ingest("exploded")


def test_bot_state_carries_metrics():
    service = fake_service()
    assert isinstance(service.state.metrics, BotMetrics)
    assert fake_service().state.metrics is not service.state.metrics


# -- the health check -----------------------------------------------------------------------


async def test_health_ok_reports_the_index_and_the_last_ingest():
    status, body = await health(fake_service())
    assert status == 200
    assert body["status"] == "ok"
    assert body["index"] == {
        "reachable": True,
        "articles": 1,
        "passages": 4,
        "collection": "newsbot-g1",
    }
    assert body["last_ingest"]["added"] == 1
    assert body["uptime_seconds"] >= 0


async def test_health_503_when_the_store_is_down():
    service = fake_service()

    def down():
        raise StoreUnavailableError("cannot read the index at chroma server x:1")

    service.status = down
    status, body = await health(service)
    assert status == 503
    assert body["status"] == "degraded"
    assert body["index"] == {"reachable": False, "error": "StoreUnavailableError"}
    assert body["last_ingest"] is None


async def test_health_503_when_the_store_hangs():
    service = fake_service()
    release = threading.Event()
    service.status = lambda: release.wait(10)
    try:
        status, body = await health(service, within=0.1)  # the error names the 0.1 s limit
    finally:
        release.set()
    assert status == 503
    assert body["index"]["reachable"] is False
    assert "0.1 s" in body["index"]["error"]


# -- counted by the handlers ----------------------------------------------------------------


async def test_ingest_outcomes_are_counted():
    service = fake_service()
    relay = ProgressRelay(None, lambda *_: "")

    def busy(progress):
        raise IngestBusyError("another ingest is running on this index")

    def bad_sources(progress):
        raise SourcesFileError("sources.toml: bad")

    def broken(progress):
        raise RuntimeError("disk full")

    await admin.run_ingest_work("Re-ingest", service.reingest, relay, service)
    for work in (busy, bad_sources, broken):
        await admin.run_ingest_work("Re-ingest", work, relay, service)
    metrics = service.state.metrics
    assert metrics.value("newsbot_ingests_total", outcome="done") == 1
    assert metrics.value("newsbot_ingests_total", outcome="busy") == 1
    assert metrics.value("newsbot_ingests_total", outcome="failed") == 2
    assert metrics.value("newsbot_last_ingest_timestamp_seconds") > 0


def _declined(question: str) -> Answer:
    return Answer(question, "The news I have doesn't say.", False, ())


@pytest.mark.integration
async def test_questions_are_counted_by_outcome(api):
    reader = api.user("Counted")
    chat = api.private_chat(reader)
    answers = iter([None, _declined])

    def factory(settings):
        chosen = next(answers)
        return FakeService(settings) if chosen is None else FakeService(settings, chosen)

    for declined in (False, True):
        app = build_application(
            make_settings(api, user_questions_per_minute=2), service_factory=factory
        )
        async with app:
            await app.post_init(app)
            for text in ("Who is invited to Moscow?", "x" * 1001, "And Kabul?", "Again?"):
                await deliver(app, {"message": api.message(chat, text, sender=reader)})
            metrics = app.bot_data["service"].state.metrics
            await app.post_shutdown(app)
        outcome = (
            "newsbot_questions_declined_total" if declined else ("newsbot_questions_answered_total")
        )
        assert metrics.value(outcome, via="chat") == 2
        assert metrics.value("newsbot_questions_refused_total", via="chat", reason="too_long") == 1
        assert (
            metrics.value("newsbot_questions_refused_total", via="chat", reason="rate_limited") == 1
        )
        assert metrics.value("newsbot_answer_seconds_count") == 2


@pytest.mark.integration
async def test_errors_reaching_the_error_handler_are_counted(api):
    reader = api.user()
    chat = api.private_chat(reader)

    def explode(question):
        raise RuntimeError("internals")

    app = build_application(make_settings(api), service_factory=lambda s: FakeService(s, explode))
    async with app:
        await app.post_init(app)
        await deliver(app, {"message": api.message(chat, "Who?", sender=reader)})
        metrics = app.bot_data["service"].state.metrics
        await app.post_shutdown(app)
    assert metrics.value("newsbot_telegram_errors_total", type="RuntimeError") == 1
    assert metrics.value("newsbot_answer_seconds_count") == 1  # timed although it raised


# -- the web server ------------------------------------------------------------------------


@pytest.fixture
async def served(api):
    """A PTB application with a fake service and its web server on a loopback port; updates
    posted to the webhook are handled by the running application."""
    app = build_application(make_settings(api), service_factory=FakeService)
    port = free_port()
    server = WebServer(app, host="127.0.0.1", port=port, webhook_path="/hook/", secret=SECRET)
    async with app:
        await app.post_init(app)
        server.start()
        await app.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                yield app, client
        finally:
            await server.stop()
            await app.stop()
            await app.post_shutdown(app)


def _update(api: FakeBotApi, chat: dict, reader: dict, text: str) -> dict:
    return {"update_id": 41, "message": api.message(chat, text, sender=reader)}


@pytest.mark.integration
async def test_webhook_takes_updates_only_with_the_secret(api, served):
    app, client = served
    reader = api.user("Hooked")
    chat = api.private_chat(reader)
    update = _update(api, chat, reader, "Who is invited to Moscow?")
    wrong = await client.post(
        "/hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
    )
    missing = await client.post("/hook", json=update)
    not_json = await client.post(
        "/hook", content=b"{}", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert (wrong.status_code, missing.status_code, not_json.status_code) == (403, 403, 403)
    assert SECRET not in wrong.text
    good = await client.post(
        "/hook/", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert good.status_code == 200
    sent = await asyncio.to_thread(api.wait_for, lambda: api.sent_to(chat["id"]), 10)
    assert "Pakistan" in sent[0].params["text"]
    assert app.bot_data["service"].questions == [("Who is invited to Moscow?", [])]


@pytest.mark.integration
async def test_webhook_refuses_an_unreadable_update(served):
    _, client = served
    response = await client.post(
        "/hook",
        content=b"not json at all",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "Traceback" not in response.text


@pytest.mark.integration
async def test_healthz_and_metrics_are_served(served):
    app, client = served
    healthz = await client.get("/healthz")
    assert healthz.status_code == 200
    assert healthz.json()["index"]["articles"] == 1
    assert healthz.headers["cache-control"] == "no-store"
    app.bot_data["service"].state.metrics.answer(True)
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"] == CONTENT_TYPE
    assert parsed(metrics.text)[("newsbot_questions_answered_total", (("via", "chat"),))] == 1
    assert (await client.post("/healthz")).status_code == 405
