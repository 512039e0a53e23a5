"""Following a peace process end to end: the real `newsbot serve` against the loopback Bot API
server, the real model and a real Chroma, the news brought by the admin's /reingest.

A reader follows "Serra Valley peace talks" once the second round is announced; over three
weeks the re-ingests bring the invitations, the extended truce, the opening, the walk-out,
the declined invitation, the prisoner swap (a wire story carried by two outlets), the accord
and the commission's first session — articles that say "the talks", "the swap", "the accord"
and name the parties and the venue, not "peace" — among unrelated news: a league title, a
takeover, a ranking of valleys that lists the Serra Valley, another country's ceasefire
talks. The reader gets every event once, the swap once naming both outlets, nothing
unrelated; a re-ingest with nothing new pushes nothing; /following shows what the follow
learned to watch, and /unwatch drops a name. The process's timeline then lists every event
in order.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.follows.store import FollowStore
from bot.runtime import open_store
from bot.settings import Settings
from devkit.bot_process import newsbot
from devkit.botapi_server import FakeBotApi
from tests.bot.conftest import ADMIN_ID
from tests.bot.end_to_end.test_follow_e2e_integration import (
    planned,
    reingest,
    reply_after,
    settled,
    start_bot,
    texts,
    write_news,
)
from tests.conftest import ROOT

pytestmark = pytest.mark.integration
PROCESS = ROOT / "tests" / "fixtures" / "stories" / "serra_valley_process.jsonl"
ARTICLES = [json.loads(line) for line in PROCESS.read_text().splitlines()]
TOPIC = "Serra Valley peace talks"
ANNOUNCED, INVITED, TRUCE, OPENING, WALKOUT, DECLINED, SWAP_HG, SWAP_PC, ACCORD, COMMISSION = (
    ARTICLES[:10]
)
RANKING, SPORT, TAKEOVER, KESSA = (
    next(a for a in ARTICLES if a["title"].startswith(start))
    for start in ("Ten valleys", "Rovers", "Grain exporter", "Kessa")
)
FIRST_WEEKS = [INVITED, TRUCE, OPENING, WALKOUT, SPORT, RANKING]
LAST_WEEKS = [DECLINED, SWAP_HG, SWAP_PC, ACCORD, COMMISSION, TAKEOVER, KESSA]
EVENTS = [INVITED, TRUCE, OPENING, WALKOUT, DECLINED, SWAP_HG, ACCORD, COMMISSION]
UNRELATED = [RANKING, SPORT, TAKEOVER, KESSA]


def pushed_titles(store_path: Path, chat_id: int, catalog: dict[str, str]) -> list[str]:
    """The titles of the articles the chat was pushed (each story's articles), by key."""
    store = FollowStore(store_path)
    try:
        rows = store._read("SELECT articles FROM pushed WHERE chat_id = ?", (chat_id,))
    finally:
        store.close()
    return [catalog[key] for (keys,) in rows for key in json.loads(keys)]


def article_titles(data_dir: Path) -> dict[str, str]:
    """Article version key -> title, read from the index (the bot has stopped)."""
    store = open_store(Settings(data_dir=data_dir))
    return {a.key: a.title for a in store.live_articles()}


@pytest.fixture
def workdir(tmp_path, seed_index) -> Path:
    shutil.copytree(seed_index, tmp_path / "data")
    write_news(tmp_path, [ANNOUNCED])
    return tmp_path


def test_a_follower_of_the_talks_gets_every_event_once_and_nothing_unrelated(workdir):
    store_path = workdir / "data" / "follows.sqlite"
    with FakeBotApi() as api:
        admin = api.user("Admin", user_id=ADMIN_ID)
        admin_chat = api.private_chat(admin)
        reader = api.user("Analyst")
        chat = api.private_chat(reader)
        bot = start_bot(api, workdir)
        try:
            assert "added 1," in reingest(api, admin_chat, admin)  # the announcement
            api.send_text(chat, f"/follow {TOPIC}", sender=reader)
            assert reply_after(api, chat["id"], 0).startswith("Following <i>Serra Valley")
            api.send_text(chat, "/following", sender=reader)
            listed = reply_after(api, chat["id"], 1)
            assert "also watching:" in listed
            for name in ("Port Alva", "Lake Council", "Northern Alliance"):
                assert name in listed, listed
            before = len(api.sent_to(chat["id"]))

            for batch in (FIRST_WEEKS, FIRST_WEEKS + LAST_WEEKS):
                write_news(workdir, [ANNOUNCED, *batch])
                generation = planned(store_path)
                reingest(api, admin_chat, admin)
                settled(store_path, generation, api)
            pushes = texts(api, chat["id"])[before:]
            swap = [p for p in pushes if "Sixty prisoners" in p or "sixty prisoners" in p]
            assert len(swap) == 1, pushes
            assert "Harbor Gazette" in swap[0]
            assert "Plains Courier" in swap[0]

            # nothing new: nothing pushed
            count = len(api.sent_to(chat["id"]))
            generation = planned(store_path)
            assert "added 0," in reingest(api, admin_chat, admin)
            api.send_text(chat, "/unwatch Northern Alliance", sender=reader)
            assert "No longer watching" in reply_after(api, chat["id"], count)
            api.send_text(chat, "/following", sender=reader)
            assert "Northern Alliance" not in reply_after(api, chat["id"], count + 1)
            assert planned(store_path) == generation
        finally:
            assert bot.stop() == 0

    titles = pushed_titles(store_path, chat["id"], article_titles(workdir / "data"))
    for event in EVENTS:
        assert titles.count(event["title"]) == 1, (event["title"], titles)
    assert SWAP_PC["title"] in titles  # the wire copy, in the swap's one push
    for other in UNRELATED:
        assert other["title"] not in titles, titles
    stories = {p.split("\n")[1] for p in pushes}
    assert len(pushes) == len(stories)  # one message per story

    # the process's timeline: every event, in order, nothing unrelated
    done = newsbot("timeline", TOPIC, "--json", data_dir=workdir / "data", cwd=workdir)
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)["entries"]
    cited = [c["title"] for e in entries for c in e["citations"]]
    order = [cited.index(a["title"]) for a in [ANNOUNCED, *EVENTS]]
    assert order == sorted(order), cited
    for other in UNRELATED:
        assert other["title"] not in cited
