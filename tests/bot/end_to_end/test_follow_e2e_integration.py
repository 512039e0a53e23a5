"""Following the news end to end: the real `newsbot serve` process against the loopback Bot
API server, the real model and a real Chroma, the index changed by the admin's /reingest.

A reader follows a topic; a re-ingest brings two matching stories (one a wire story carried
by two outlets) and one unrelated article; the reader gets the two stories, the wire story
once naming both outlets, nothing unrelated; a second re-ingest with nothing new pushes
nothing; after a restart /following still lists the topic; after /unfollow nothing more is
pushed. In a group a member who is not an administrator is refused. `kill -9` of the bot
loses no follow and no pending push; a chat that blocked the bot loses its follows.
"""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest

from bot.follows.store import FollowStore
from devkit.bot_process import SEED, BotProcess, newsbot
from devkit.botapi_server import FakeBotApi
from tests.bot.conftest import ADMIN_ID
from tests.conftest import ROOT

pytestmark = pytest.mark.integration
STORIES = ROOT / "tests" / "fixtures" / "stories" / "serra_valley.jsonl"
TOPIC = "Serra Valley ceasefire"
UNRELATED_TITLE = "Chipmaker unveils faster laptop processors"
UNRELATED = {
    "source": "Tech Daily",
    "published_at": "2026-03-06T09:00:00Z",
    "title": UNRELATED_TITLE,
    "url": "https://tech-daily.example/chips",
    "body": "A chipmaker unveiled a new line of laptop processors on Friday, promising longer "
    "battery life and faster graphics for thin notebooks.\n\nThe company said the chips "
    "would ship in machines from several manufacturers in the spring, priced slightly "
    "above the previous generation. Analysts expect strong demand from gamers and video "
    "editors.",
}


def serra(title: str) -> dict:
    return next(a for a in map(json.loads, STORIES.read_text().splitlines()) if a["title"] == title)


WIRE_HG = serra("Truce monitors head for the Serra Valley")
WIRE_PC = serra("Serra Valley: ceasefire mission to deploy next week")
OBSERVERS = serra("Observers for the Serra Valley ceasefire named")
# the same report in another outlet: news of the observers' story, had the reader still followed
OBSERVERS_COPY = {
    **OBSERVERS,
    "source": "Coastal Herald",
    "published_at": "2026-03-08T09:00:00Z",
    "title": "Serra Valley ceasefire observers named",
    "url": "https://coastal-herald.example/2026/03/08/observers",
}


def write_news(root: Path, articles: list[dict]) -> None:
    (root / "news.jsonl").write_text("".join(json.dumps(a) + "\n" for a in articles))
    (root / "sources.toml").write_text(
        f'[[sources]]\nname = "seed"\npath = "{SEED}"\n\n'
        f'[[sources]]\nname = "news"\npath = "{root / "news.jsonl"}"\n'
    )


def start_bot(api: FakeBotApi, root: Path) -> BotProcess:
    return BotProcess(
        api,
        root / "data",
        root,
        NEWSBOT_SOURCES=str(root / "sources.toml"),
        NEWSBOT_ADMIN_IDS=str(ADMIN_ID),
    ).start()


def texts(api: FakeBotApi, chat_id: int) -> list[str]:
    return [c.params["text"] for c in api.sent_to(chat_id)]


def reply_after(api: FakeBotApi, chat_id: int, before: int, timeout: float = 60) -> str:
    api.wait_for(lambda: len(api.sent_to(chat_id)) > before, timeout, f"a reply in {chat_id}")
    return texts(api, chat_id)[before]


def reingest(api: FakeBotApi, admin_chat: dict, admin: dict) -> str:
    """/reingest from the admin; returns the summary once the ingest is done."""
    before = len(api.calls_to("editMessageText", chat_id=admin_chat["id"]))
    api.send_text(admin_chat, "/reingest", sender=admin)

    def summary():
        edits = api.calls_to("editMessageText", chat_id=admin_chat["id"])[before:]
        done = [e.params["text"] for e in edits if ": done in " in e.params["text"]]
        return done[-1] if done else None

    return api.wait_for(summary, 300, "the re-ingest summary")


def settled(store_path: Path, generation_before: int | None, timeout_api: FakeBotApi) -> None:
    """Wait until the bot planned a newer generation than `generation_before` and sent (or
    dropped) every push it planned."""

    def done() -> bool:
        store = FollowStore(store_path)
        try:
            generation = store.generation()
            pending = sum(c.pending for c in store.overview())
        finally:
            store.close()
        return generation is not None and generation != generation_before and pending == 0

    timeout_api.wait_for(done, 120, "the pushes of the new commit")


def planned(store_path: Path) -> int | None:
    store = FollowStore(store_path)
    try:
        return store.generation()
    finally:
        store.close()


@pytest.fixture
def workdir(tmp_path, seed_index) -> Path:
    shutil.copytree(seed_index, tmp_path / "data")
    write_news(tmp_path, [])
    return tmp_path


def test_a_reader_gets_each_matching_story_once_and_nothing_else(workdir):
    store_path = workdir / "data" / "follows.sqlite"
    with FakeBotApi() as api:
        admin = api.user("Admin", user_id=ADMIN_ID)
        admin_chat = api.private_chat(admin)
        reader = api.user("Analyst")
        chat = api.private_chat(reader)
        bot = start_bot(api, workdir)
        try:
            api.send_text(chat, f"/follow {TOPIC}", sender=reader)
            assert reply_after(api, chat["id"], 0).startswith("Following <i>Serra Valley")
            pushed_before = len(api.sent_to(chat["id"]))

            # two matching stories (one the wire story in two outlets) and an unrelated one
            write_news(workdir, [OBSERVERS, WIRE_HG, WIRE_PC, UNRELATED])
            generation = planned(store_path)
            assert "added 4," in reingest(api, admin_chat, admin)
            settled(store_path, generation, api)
            pushes = texts(api, chat["id"])[pushed_before:]
            assert len(pushes) == 2, pushes
            wire = [p for p in pushes if "mission will deploy" in p]
            assert len(wire) == 1, pushes
            assert "carried by Harbor Gazette and Plains Courier" in wire[0]
            assert "2026-03-05" in wire[0]
            assert "harbor-gazette.example" in wire[0]
            observers = [p for p in pushes if "Observers for the Serra Valley" in p]
            assert len(observers) == 1, pushes
            assert all(UNRELATED_TITLE not in p and "processors" not in p for p in pushes)
            assert all(p.startswith(f"<b>New on {TOPIC}</b>") for p in pushes)
            [sources] = [c for c in api.sent_to(chat["id"])[-1:]]
            assert sources.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Sources"

            # nothing new: nothing pushed
            count = len(api.sent_to(chat["id"]))
            generation = planned(store_path)
            assert "added 0," in reingest(api, admin_chat, admin)
            api.send_text(chat, "/following", sender=reader)  # a round trip after the ingest
            assert "1. Serra Valley ceasefire" in reply_after(api, chat["id"], count)
            assert planned(store_path) == generation
            assert len(api.sent_to(chat["id"])) == count + 1
        finally:
            assert bot.stop() == 0

        # after a restart the follow is still there, and the pushes' Sources buttons work
        bot = start_bot(api, workdir)
        try:
            count = len(api.sent_to(chat["id"]))
            api.send_text(chat, "/following", sender=reader)
            listed = reply_after(api, chat["id"], count)
            assert "1. Serra Valley ceasefire" in listed
            pushed = next(
                c for c in api.sent_to(chat["id"]) if "mission will deploy" in c.params["text"]
            )
            button = pushed.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            message = {k: v for k, v in pushed.result.items() if k != "html"}
            pressed = api.press(reader, message, button)
            api.wait_calls("answerCallbackQuery", callback_query_id=pressed, timeout=60)
            [edit] = api.wait_calls("editMessageText", chat_id=chat["id"], timeout=60)
            assert "<blockquote>" in edit.params["text"]
            assert "Plains Courier" in edit.params["text"]

            # after /unfollow nothing more is pushed, although a matching story arrives
            api.send_text(chat, "/unfollow 1", sender=reader)
            assert "Stopped following" in reply_after(api, chat["id"], count + 1)
            count = len(api.sent_to(chat["id"]))
            generation = planned(store_path)
            write_news(workdir, [OBSERVERS, WIRE_HG, WIRE_PC, UNRELATED, OBSERVERS_COPY])
            assert "added 1," in reingest(api, admin_chat, admin)
            settled(store_path, generation, api)
            assert len(api.sent_to(chat["id"])) == count
        finally:
            assert bot.stop() == 0

    # the operators' view
    done = newsbot("follows", "--json", data_dir=workdir / "data", cwd=workdir)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["pending_pushes"] == 0
    assert report["follows"] == 0
    assert report["unplanned_generations"] == 0


def test_groups_need_an_administrator_channels_follow_by_posting(workdir):
    with FakeBotApi() as api:
        group = api.group()
        member = api.user("Member")
        boss = api.user("Boss")
        api.set_member(group, boss, "administrator")
        channel = api.channel()
        bot = start_bot(api, workdir)
        try:
            api.send_text(group, f"/follow {TOPIC}", sender=member)
            refused = reply_after(api, group["id"], 0)
            assert "Only this group's administrators" in refused
            api.send_text(group, f"/follow {TOPIC}", sender=boss)
            assert reply_after(api, group["id"], 1).startswith("Following")
            api.send_text(group, "/following", sender=member)  # anyone may list
            assert "1. Serra Valley ceasefire" in reply_after(api, group["id"], 2)
            api.send_text(group, "/unfollow 1", sender=member)
            assert "Only this group's administrators" in reply_after(api, group["id"], 3)

            api.send_text(channel, "/follow Sudan ceasefire talks")
            assert reply_after(api, channel["id"], 0).startswith("Following")
        finally:
            assert bot.stop() == 0
    store = FollowStore(workdir / "data" / "follows.sqlite")
    assert [f.topic for f in store.follows(group["id"])] == [TOPIC]
    assert [f.topic for f in store.follows(channel["id"])] == ["Sudan ceasefire talks"]


def test_kill_9_loses_no_follow_and_no_pending_push_and_403_drops_a_chat(workdir):
    store_path = workdir / "data" / "follows.sqlite"
    with FakeBotApi() as api:
        admin = api.user("Admin", user_id=ADMIN_ID)
        admin_chat = api.private_chat(admin)
        reader = api.user("Analyst")
        chat = api.private_chat(reader)
        gone = api.user("Gone")
        gone_chat = api.private_chat(gone)
        bot = start_bot(api, workdir)
        killed = False
        try:
            for who, where in ((reader, chat), (gone, gone_chat)):
                api.send_text(where, f"/follow {TOPIC}", sender=who)
                assert reply_after(api, where["id"], 0).startswith("Following")
            api.block(gone_chat)
            write_news(workdir, [WIRE_HG, WIRE_PC])
            before = len(api.sent_to(chat["id"]))
            # Telegram's flood control holds the reader's push back longer than the bot
            # waits in line: it stays pending in the database
            api.send_text(admin_chat, "/reingest", sender=admin)
            api.wait_for(lambda: api.sent_to(admin_chat["id"]), 60, "the ingest status message")
            api.fail("sendMessage", 429, retry_after=35)

            def held_back() -> bool:
                store = FollowStore(store_path)
                try:
                    rows = {r.chat_id: r for r in store.overview()}
                    return rows.get(chat["id"]) is not None and rows[chat["id"]].pending == 1
                finally:
                    store.close()

            api.wait_for(held_back, 300, "a pending push")
            api.wait_for(lambda: "blocked the bot" in bot.stderr(), 60, "the 403 log line")
            bot.process.send_signal(signal.SIGKILL)
            bot.process.wait(10)
            killed = True
        finally:
            if not killed:
                bot.stop()
        store = FollowStore(store_path)
        assert [f.topic for f in store.follows(chat["id"])] == [TOPIC]
        assert store.follows(gone_chat["id"]) == []  # blocked: its follows are gone
        assert {r.chat_id: r.pending for r in store.overview()} == {chat["id"]: 1}
        store.close()
        assert len(api.sent_to(chat["id"])) == before

        bot = start_bot(api, workdir)
        try:
            push = reply_after(api, chat["id"], before, timeout=120)
            assert "carried by Harbor Gazette and Plains Courier" in push
        finally:
            bot.stop()
