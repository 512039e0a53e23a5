"""One chat's answer is never shown in another, through the real `newsbot serve` processes and
the loopback Bot API server: a "Sources" or "Hide quotes" press is honoured only on the message
its key was issued for. A forged neighbour key, another chat's real key, another message's key
in the same chat: each gets the "too old" reply and no message is edited. The same holds after
a restart and on another replica sharing the state file, where the real keys still work in
their own chats (one process polling; then the restarted one and a replica in webhook mode,
each press routed to one of them as a load balancer would)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.telegram import replies
from devkit.bot_process import BotProcess
from devkit.botapi_server import FakeBotApi
from tests.bot.end_to_end.test_e2e_stopping_integration import stop_timed
from tests.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MOSCOW = "Who is invited to Moscow?"
ZAKHAROVA = "What did Maria Zakharova say?"
SECRET = "keys-secret"


def answer_in(api: FakeBotApi, chat: dict, user: dict, question: str) -> tuple[dict, str]:
    """Ask in `chat`: the bot's answer message (as Telegram shows it) and its button's key."""
    before = len(api.sent_to(chat["id"]))
    api.send_text(chat, question, sender=user)
    sent = api.wait_for(
        lambda: len(api.sent_to(chat["id"])) > before and api.sent_to(chat["id"])[-1],
        90,
        f"the answer in {chat['id']}",
    )
    data = sent.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert data.startswith("src:")
    return {k: v for k, v in sent.result.items() if k != "html"}, data.split(":", 1)[1]


def neighbours(key: str) -> list[str]:
    """Keys one character away: what the old counter keys made trivial to find."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    nxt = alphabet[(alphabet.index(key[-1]) + 1) % len(alphabet)]
    return [key[:-1] + nxt, nxt + key[1:]]


def press_all(api: FakeBotApi, presses: list[tuple[dict, dict, str]]) -> list[str]:
    ids = [api.press(user, message, data) for user, message, data in presses]
    for query_id in ids:
        api.wait_calls("answerCallbackQuery", callback_query_id=query_id, timeout=60)
    return ids


def edits_of(api: FakeBotApi, message: dict) -> list:
    return api.calls_to(
        "editMessageText", chat_id=message["chat"]["id"], message_id=message["message_id"]
    )


def edited(api: FakeBotApi, message: dict, count: int) -> list:
    """The edits of `message` once there are `count` (a press is answered before its edit)."""
    return api.wait_for(
        lambda: len(edits := edits_of(api, message)) >= count and edits, 60, "the edit"
    )


def check_bound(api: FakeBotApi, ann: dict, bob: dict, answers: dict) -> None:
    """Forged and misplaced presses reveal nothing; then each real key works in its place."""
    a1, ka1 = answers["a1"]
    a2, ka2 = answers["a2"]
    b1, kb1 = answers["b1"]
    before = {name: len(edits_of(api, message)) for name, (message, _) in answers.items()}
    wrong = press_all(
        api,
        [
            *((ann, a1, f"src:{key}") for key in neighbours(ka1)),  # forged neighbours
            (ann, a1, f"src:{kb1}"),  # another chat's real key
            (bob, b1, f"src:{ka1}"),  # ... the other way round
            (ann, a1, f"src:{ka2}"),  # another message's key in the same chat
            (ann, a2, f"hide:{ka1}"),
            (bob, {**a1, "chat": b1["chat"]}, f"src:{ka1}"),  # a1's id, but in Bob's chat
        ],
    )
    for query_id in wrong:
        [answered] = api.calls_to("answerCallbackQuery", callback_query_id=query_id)
        assert answered.params.get("text") == replies.TOO_OLD
    for name, (message, _) in answers.items():
        assert len(edits_of(api, message)) == before[name], f"{name} was edited"

    press_all(api, [(ann, a1, f"src:{ka1}"), (bob, b1, f"src:{kb1}")])
    [shown_a] = edited(api, a1, before["a1"] + 1)[before["a1"] :]
    [shown_b] = edited(api, b1, before["b1"] + 1)[before["b1"] :]
    assert "</blockquote>" in shown_a.params["text"]
    assert "</blockquote>" in shown_b.params["text"]
    assert "Moscow" in shown_a.params["text"]
    assert "Zakharova" in shown_b.params["text"]
    press_all(api, [(ann, a1, f"hide:{ka1}"), (bob, b1, f"hide:{kb1}")])
    assert "</blockquote>" not in edited(api, a1, before["a1"] + 2)[-1].params["text"]
    assert "</blockquote>" not in edited(api, b1, before["b1"] + 2)[-1].params["text"]
    assert len(edits_of(api, a2)) == before["a2"]


class WebhookReplica:
    """A `newsbot serve` in webhook mode on the shared state file; Telegram (the loopback
    server) sends the updates to the replica that set its webhook last."""

    def __init__(self, api: FakeBotApi, data: Path, workdir: Path, state: Path):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/telegram/hook"
        workdir.mkdir()
        self.process = BotProcess(
            api,
            data,
            workdir,
            NEWSBOT_FOLLOWS_DB=str(state),
            NEWSBOT_WEBHOOK_URL=self.url,
            NEWSBOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
            NEWSBOT_WEBHOOK_SECRET=SECRET,
        )

    def start(self, api: FakeBotApi) -> None:
        """Start it and wait for its own setWebhook (another replica's webhook may be set)."""
        self.process.start(timeout=180)
        api.wait_for(
            lambda: any(c.params["url"] == self.url for c in api.calls_to("setWebhook")),
            180,
            "the replica's setWebhook",
        )


def test_a_button_shows_its_answer_only_on_its_own_message(seed_index, tmp_path):
    data, replica_data = tmp_path / "data", tmp_path / "replica-data"
    shutil.copytree(seed_index, data)
    shutil.copytree(seed_index, replica_data)
    state = tmp_path / "state" / "follows.sqlite"
    with FakeBotApi() as api:
        ann, bob = api.user("Ann"), api.user("Bob")
        ann_chat, bob_chat = api.private_chat(ann), api.private_chat(bob)
        first_dir = tmp_path / "first"
        first_dir.mkdir()
        first = BotProcess(api, data, first_dir, NEWSBOT_FOLLOWS_DB=str(state)).start()
        try:
            answers = {
                "a1": answer_in(api, ann_chat, ann, MOSCOW),
                "a2": answer_in(api, ann_chat, ann, MOSCOW),
                "b1": answer_in(api, bob_chat, bob, ZAKHAROVA),
            }
            check_bound(api, ann, bob, answers)
            stop_timed(first, "when idle")
        finally:
            assert first.stop() == 0

        restarted = WebhookReplica(api, data, tmp_path / "restarted", state)
        replica = WebhookReplica(api, replica_data, tmp_path / "replica", state)
        try:
            for process in (restarted, replica):
                process.start(api)
                assert api.webhook is not None
                assert api.webhook["url"] == process.url
                check_bound(api, ann, bob, answers)
        finally:
            assert restarted.process.stop() == 0
            assert replica.process.stop() == 0
    for process in (first, restarted.process, replica.process):
        assert "Traceback" not in process.stderr()
        assert " ERROR " not in process.stderr()
