"""Two bot replicas behind a load balancer, end to end: two real `newsbot serve` processes in
webhook mode, each with its own data directory, on one real `chroma run`, sharing one state
file (NEWSBOT_FOLLOWS_DB), and a separate `newsbot ingest` process as the ingester.

A follow made through one replica is listed by the other; the ingester's commit is seen by
both, and each matching story is pushed to the chat exactly once (the wire story once, naming
both outlets; the unrelated article never); the pushed story's Sources button works whichever
replica Telegram hands the press to."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from devkit.bot_process import SEED, BotProcess, newsbot
from devkit.botapi_server import FakeBotApi
from tests.bot.end_to_end.test_follow_e2e_integration import (
    OBSERVERS,
    TOPIC,
    UNRELATED,
    UNRELATED_TITLE,
    WIRE_HG,
    WIRE_PC,
    settled,
    texts,
)
from tests.conftest import free_port

pytestmark = pytest.mark.integration
SECRET = "replica-secret"


def ingest(root: Path, chroma_port: int, *paths: Path) -> None:
    done = newsbot(
        "ingest",
        *map(str, paths),
        data_dir=root / "ingester",
        cwd=root,
        timeout=600,
        NEWSBOT_CHROMA_HOST="127.0.0.1",
        NEWSBOT_CHROMA_PORT=str(chroma_port),
    )
    assert done.returncode == 0, done.stderr


class Replica:
    def __init__(self, api: FakeBotApi, root: Path, name: str, chroma_port: int, state: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram/hook"
        workdir = root / name
        workdir.mkdir()
        self.process = BotProcess(
            api,
            workdir / "data",
            workdir,
            NEWSBOT_CHROMA_HOST="127.0.0.1",
            NEWSBOT_CHROMA_PORT=str(chroma_port),
            NEWSBOT_FOLLOWS_DB=str(state),
            NEWSBOT_WEBHOOK_URL=self.url,
            NEWSBOT_WEBHOOK_LISTEN=f"127.0.0.1:{self.port}",
            NEWSBOT_WEBHOOK_SECRET=SECRET,
        )

    def start(self, api: FakeBotApi) -> None:
        webhooks = len(api.calls_to("setWebhook"))
        self.process.start(timeout=180)
        api.wait_for(
            lambda: any(c.params["url"] == self.url for c in api.calls_to("setWebhook")[webhooks:]),
            180,
            "the replica's setWebhook",
        )

    def route(self, api: FakeBotApi) -> None:
        """The load balancer sends the next updates to this replica."""
        api.webhook = {"url": self.url, "secret_token": SECRET}


def test_two_replicas_share_follows_push_once_and_answer_each_others_buttons(
    chroma_server, tmp_path
):
    _, chroma_port = chroma_server
    ingest(tmp_path, chroma_port, SEED)
    state = tmp_path / "state" / "follows.sqlite"
    with FakeBotApi() as api:
        replicas = [Replica(api, tmp_path, name, chroma_port, state) for name in ("a", "b")]
        try:
            for replica in replicas:
                replica.start(api)
            one, other = replicas
            reader = api.user("Analyst")
            chat = api.private_chat(reader)

            one.route(api)
            api.send_text(chat, f"/follow {TOPIC}", sender=reader)
            api.wait_for(lambda: api.sent_to(chat["id"]), 60, "the follow's reply")
            assert texts(api, chat["id"])[0].startswith("Following <i>Serra Valley")
            other.route(api)
            api.send_text(chat, "/following", sender=reader)
            api.wait_for(lambda: len(api.sent_to(chat["id"])) > 1, 60, "the list")
            assert "1. Serra Valley ceasefire" in texts(api, chat["id"])[1]

            before = len(api.sent_to(chat["id"]))
            news = tmp_path / "news.jsonl"
            news.write_text(
                "".join(json.dumps(a) + "\n" for a in (OBSERVERS, WIRE_HG, WIRE_PC, UNRELATED))
            )
            ingest(tmp_path, chroma_port, news)
            settled(state, None, api)
            time.sleep(3 * 2.0)  # a few more pump rounds of both replicas: any duplicate shows
            pushes = api.sent_to(chat["id"])[before:]
            bodies = [p.params["text"] for p in pushes]
            assert len(pushes) == 2, bodies
            [wire] = [p for p in pushes if "mission will deploy" in p.params["text"]]
            assert "carried by Harbor Gazette and Plains Courier" in wire.params["text"]
            assert all(UNRELATED_TITLE not in body for body in bodies)

            key = wire.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            key = key.split(":", 1)[1]
            message = {k: v for k, v in wire.result.items() if k != "html"}
            # whichever replica sent it, both open and fold its sources
            for replica, action in ((one, "src"), (other, "hide"), (other, "src"), (one, "hide")):
                replica.route(api)
                edits = len(api.calls_to("editMessageText", chat_id=chat["id"]))
                api.press(reader, message, f"{action}:{key}")
                [edit] = api.wait_calls(
                    "editMessageText", count=edits + 1, chat_id=chat["id"], timeout=60
                )[edits:]
                assert ("<blockquote>" in edit.params["text"]) is (action == "src")
                assert "Plains Courier" in edit.params["text"]
        finally:
            for replica in replicas:
                replica.process.stop()
    for replica in replicas:
        assert "Traceback" not in replica.process.stderr()
