"""End to end, webhook mode: Telegram (the loopback server) POSTs updates to the bot's
webhook with the secret header; the core scenarios behave as with long polling."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.bot.botapi_server import BOT_USERNAME, TOKEN, FakeBotApi
from tests.bot.e2e import SEED_TITLE, BotProcess, free_port

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
        api, root / "data", root, NEWSBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/hook",
        NEWSBOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}", NEWSBOT_WEBHOOK_SECRET=SECRET,
        NEWSBOT_ADMIN_IDS="777",
    ).start()
    yield process
    process.stop()


def answer_in(api: FakeBotApi, chat_id: int, after: int = 0, timeout: float = 60):
    return api.wait_for(
        lambda: len(api.sent_to(chat_id)) > after and api.sent_to(chat_id)[after], timeout,
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


def test_stops_cleanly_and_never_logs_secrets(bot):
    assert bot.stop() == 0
    stderr = bot.stderr()
    assert TOKEN not in stderr
    assert SECRET not in stderr
    assert "Traceback" not in stderr
