"""End to end, webhook mode: Telegram (the loopback server) POSTs updates to the bot's
webhook with the secret header; the core scenarios behave as with long polling. The same web
server answers /healthz and /metrics; with the index on a Chroma server that goes away,
/healthz says so with a 503."""

from __future__ import annotations

import shutil
import signal
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devkit.bot_process import SEED, SEED_TITLE, BotProcess, newsbot
from devkit.botapi_server import BOT_USERNAME, TOKEN, FakeBotApi
from tests.conftest import free_port

pytestmark = pytest.mark.integration
SECRET = "s3cret-Webhook_token"
MOSCOW = "Who is invited to Moscow?"


@pytest.fixture(scope="module")
def api():
    with FakeBotApi() as server:
        yield server


@pytest.fixture(scope="module")
def bot(api, tmp_path_factory, seed_index):
    root = tmp_path_factory.mktemp("webhook")
    shutil.copytree(seed_index, root / "data")
    port = free_port()
    process = BotProcess(
        api,
        root / "data",
        root,
        NEWSBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/hook",
        NEWSBOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        NEWSBOT_WEBHOOK_SECRET=SECRET,
        NEWSBOT_ADMIN_IDS="777",
    ).start()
    yield process
    process.stop()


def answer_in(api: FakeBotApi, chat_id: int, after: int = 0, timeout: float = 60):
    return api.wait_for(
        lambda: len(api.sent_to(chat_id)) > after and api.sent_to(chat_id)[after],
        timeout,
        f"a message to {chat_id}",
    )


def test_sets_the_webhook_with_its_secret(api, bot):
    [call] = api.calls_to("setWebhook")
    assert call.params["url"].endswith("/telegram/hook")
    assert call.params["secret_token"] == SECRET
    assert set(call.params["allowed_updates"]) >= {"message", "callback_query", "inline_query"}
    assert api.calls_to("getUpdates") == []


def test_private_question_through_the_webhook(api, bot):
    reader = api.user("Ann")
    chat = api.private_chat(reader)
    api.send_text(chat, MOSCOW, sender=reader)
    reply = answer_in(api, chat["id"])
    for invitee in ("United States", "China", "Pakistan"):
        assert invitee in reply.params["text"]
    assert SEED_TITLE in reply.params["text"]


def test_updates_without_the_secret_are_refused(api, bot):
    reader = api.user("Eve")
    chat = api.private_chat(reader)
    update = {"update_id": 999999, "message": api.message(chat, MOSCOW, sender=reader)}
    assert api.post_to_webhook(update, secret="wrong") == 403
    assert api.post_to_webhook(update, secret=None) == 403
    time.sleep(1.0)
    assert api.sent_to(chat["id"]) == []


def test_group_chatter_ignored_and_mention_answered(api, bot):
    ann = api.user("Ann")
    group = api.group("Desk", chat_id=-100555)
    api.send_text(group, MOSCOW, sender=ann)
    mention = api.send_text(group, f"@{BOT_USERNAME} {MOSCOW}", sender=ann)
    reply = answer_in(api, group["id"])
    assert reply.params["reply_parameters"]["message_id"] == mention["message_id"]
    time.sleep(0.5)
    assert len(api.sent_to(group["id"])) == 1


def test_non_admin_reingest_refused(api, bot):
    reader = api.user("Mallory")
    chat = api.private_chat(reader)
    api.send_text(chat, "/reingest", sender=reader)
    assert "only the bot's admins" in answer_in(api, chat["id"]).params["text"]


def get(bot: BotProcess, path: str) -> httpx.Response:
    """GET a path of the bot's web server (the host:port it listens on)."""
    return httpx.get(f"http://{bot.env['NEWSBOT_WEBHOOK_LISTEN']}{path}", timeout=30)


def samples(response: httpx.Response) -> dict[tuple[str, tuple], float]:
    """The Prometheus text of /metrics, parsed: (sample name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_healthz_reports_the_index(bot):
    response = get(bot, "/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["index"]["reachable"] is True
    assert body["index"]["articles"] == 1
    assert body["index"]["collection"]
    assert body["last_ingest"]["added"] == 1
    assert body["uptime_seconds"] >= 0


def test_healthz_and_metrics_need_no_secret_but_the_webhook_does(api, bot):
    assert get(bot, "/healthz").status_code == 200
    assert get(bot, "/metrics").status_code == 200
    assert get(bot, "/telegram/hook").status_code == 405  # GET: not how Telegram calls
    assert get(bot, "/nothing-here").status_code == 404


def test_metrics_count_an_answered_question(api, bot):
    before = samples(get(bot, "/metrics"))
    answered = ("newsbot_questions_answered_total", (("via", "chat"),))
    latency = ("newsbot_answer_seconds_count", ())
    reader = api.user("Metra")
    chat = api.private_chat(reader)
    api.send_text(chat, MOSCOW, sender=reader)
    answer_in(api, chat["id"])
    after = api.wait_for(
        lambda: (now := samples(get(bot, "/metrics")))[answered] > before[answered] and now,
        30,
        "the answer to be counted",
    )
    assert after[answered] == before[answered] + 1
    assert after[latency] == before[latency] + 1
    assert after[("newsbot_answer_seconds_sum", ())] > before[("newsbot_answer_seconds_sum", ())]
    assert ("newsbot_ingests_total", (("outcome", "done"),)) in after
    assert any(name == "process_resident_memory_bytes" for name, _ in after)
    response = get(bot, "/metrics")
    assert response.headers["content-type"].startswith("text/plain")


def test_metrics_count_a_refused_question(api, bot):
    reader = api.user("Longwinded")
    chat = api.private_chat(reader)
    key = ("newsbot_questions_refused_total", (("reason", "too_long"), ("via", "chat")))
    before = samples(get(bot, "/metrics")).get(key, 0)
    api.send_text(chat, "why " * 400, sender=reader)
    answer_in(api, chat["id"])
    assert samples(get(bot, "/metrics"))[key] == before + 1


def test_stops_cleanly_and_never_logs_secrets(bot):
    assert bot.stop() == 0
    stderr = bot.stderr()
    assert TOKEN not in stderr
    assert SECRET not in stderr
    assert "Traceback" not in stderr


# -- the index on a Chroma server that goes away --------------------------------------------


def test_healthz_503_when_the_chroma_server_goes_away(chroma_server, tmp_path):
    chroma, chroma_port = chroma_server
    store = {"NEWSBOT_CHROMA_HOST": "127.0.0.1", "NEWSBOT_CHROMA_PORT": str(chroma_port)}
    done = newsbot("ingest", str(SEED), data_dir=tmp_path / "data", cwd=tmp_path, **store)
    assert done.returncode == 0, done.stderr
    port = free_port()
    with FakeBotApi() as api:
        bot = BotProcess(
            api,
            tmp_path / "data",
            tmp_path,
            NEWSBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
            NEWSBOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
            NEWSBOT_WEBHOOK_SECRET=SECRET,
            **store,
        ).start()
        try:
            up = get(bot, "/healthz")
            assert up.status_code == 200, up.text
            assert up.json()["index"]["articles"] == 1

            chroma.terminate()
            chroma.wait(30)
            down = get(bot, "/healthz")  # answered (the check has its own timeout), not hung
            assert down.status_code == 503
            body = down.json()
            assert body["status"] == "degraded"
            assert body["index"]["reachable"] is False
            assert body["last_ingest"] is None
            assert get(bot, "/metrics").status_code == 200  # the bot itself is still up
        finally:
            bot.process.send_signal(signal.SIGINT)  # Ctrl-C stops it as cleanly as SIGTERM
            try:
                assert bot.process.wait(30) == 0
            finally:
                bot.stop()
    assert "Traceback" not in bot.stderr()
