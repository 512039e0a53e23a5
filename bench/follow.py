"""Follows at scale: 1,000 follows across 200 chats, an ingest of 50 new articles.

- Matching cost: `FollowService.plan()` (the changed stories, their stored passage vectors,
  every follow against every story, the pushes recorded), median of REPEAT runs, against the
  ingest of those 50 articles measured in the same run (what a push round adds to an ingest).
- Push rate: the planned pushes sent by the bot's own sender (`send_pending`, a real
  python-telegram-bot `ExtBot` with the retrying rate limiter) to the loopback Bot API
  server; from the calls it recorded: the busiest second overall (Telegram: about 30), the
  busiest minute of any group (20) and the busiest second of any private chat (1), and the
  time to drain everything.

Topics are MultiHop-RAG questions (5 per chat; 150 private chats, 50 groups), the articles
the first 50 of its corpus, ingested into a fresh index over the seed article and an archive
of ARCHIVE more corpus articles. Each follow learns its subject from that archive as /follow
does (`FollowService.learn`, timed per follow), so the plan matches by subject too.

    python -m bench.follow [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from telegram.ext import ExtBot

from bot.follows.store import FollowStore
from bot.runtime import Runtime
from bot.settings import Settings
from bot.telegram.follow import send_pending
from bot.telegram.follow_format import PushPacer
from bot.telegram.recent_answers import RecentAnswers
from bot.telegram.retry import RetryingLimiter
from devkit.bot_process import SEED
from devkit.botapi_server import TOKEN, FakeBotApi
from ingest.sources import spec_from_argument

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "multihop-rag"
CHATS_PRIVATE, CHATS_GROUP, PER_CHAT, ARTICLES, ARCHIVE = 150, 50, 5, 50, 50


def chat_ids() -> list[int]:
    return [10_000 + i for i in range(CHATS_PRIVATE)] + [-1_000_000 - i for i in range(CHATS_GROUP)]


def busiest(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def reset_plan(store: FollowStore, generation: int) -> None:
    with store._write() as db:  # the bench replays one plan; no API for rewinding one
        db.execute("DELETE FROM pending")
        db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(generation),))


async def send_all(store: FollowStore, chats: list[int]) -> tuple[FakeBotApi, float, int]:
    with FakeBotApi() as api:
        for chat_id in chats:
            if chat_id > 0:
                api.private_chat(api.user(f"Reader {chat_id}", user_id=chat_id))
            else:
                api.group(f"Desk {chat_id}", chat_id=chat_id)
        bot = ExtBot(TOKEN, base_url=api.base_url, rate_limiter=RetryingLimiter())
        pacer, answers = PushPacer(), RecentAnswers()
        started = time.monotonic()
        sent = 0
        async with bot:
            while True:
                sent += await send_pending(bot, store, pacer, answers)
                if not sum(c.pending for c in store.overview()):
                    break
                await asyncio.sleep(1.0)  # postponed pushes (a group's minute is used up)
        return api, time.monotonic() - started, sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--dataset", type=Path, default=SHARED, help="MultiHop-RAG's folder")
    args = parser.parse_args(argv)
    queries = json.loads((args.dataset / "MultiHopRAG.json").read_text())
    corpus = json.loads((args.dataset / "corpus.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(data_dir=root / "data", llm_model=None)
        runtime = Runtime(settings)
        (root / "archive.json").write_text(json.dumps(corpus[ARTICLES : ARTICLES + ARCHIVE]))
        runtime.ingest(
            [spec_from_argument(str(SEED)), spec_from_argument(str(root / "archive.json"))]
        )
        service = runtime.follows
        store = runtime.follow_store
        chats = chat_ids()
        topics = [q["query"] for q in queries[: len(chats) * PER_CHAT]]
        started = time.perf_counter()
        vectors = runtime.model.encode(topics)
        encode_seconds = time.perf_counter() - started
        learning = []
        for n, (topic, vector) in enumerate(zip(topics, vectors, strict=True)):
            chat = chats[n // PER_CHAT]
            store.add_follow(chat, "private" if chat > 0 else "supergroup", topic, vector, limit=10)
            started = time.perf_counter()
            store.set_subject(chat, topic, service.learn(topic, vector))
            learning.append(time.perf_counter() - started)
        base = service.start()
        (root / "new.json").write_text(json.dumps(corpus[:ARTICLES]))
        started = time.perf_counter()
        report = runtime.ingest([spec_from_argument(str(root / "new.json"))])
        ingest_seconds = time.perf_counter() - started
        plans = []
        for _ in range(args.repeat):
            reset_plan(store, base)
            started = time.perf_counter()
            plan = service.plan()
            plans.append(time.perf_counter() - started)
        api, drain_seconds, sent = asyncio.run(send_all(store, chats))
        calls = api.calls_to("sendMessage")
        at = [c.at for c in calls]
        by_chat: dict[int, list[float]] = {}
        for c in calls:
            by_chat.setdefault(int(c.params["chat_id"]), []).append(c.at)
        groups = [busiest(t, 60.0) for chat, t in by_chat.items() if chat < 0]
        privates = [busiest(t, 1.0) for chat, t in by_chat.items() if chat > 0]
        per_chat = Counter(int(c.params["chat_id"]) for c in calls)
        match_seconds = statistics.median(plans)
        result = {
            "follows": len(topics),
            "chats": len(chats),
            "articles_ingested": report.added,
            "stories_changed": plan.stories,
            "pushes_planned": plan.pushes,
            "pushes_sent": sent,
            "topic_encoding_seconds": round(encode_seconds, 2),
            "subject_learning_seconds_median": round(statistics.median(learning), 3),
            "follows_with_names": sum(1 for f in store.follows() if f.subject.names),
            "ingest_seconds": round(ingest_seconds, 2),
            "match_seconds_median": round(match_seconds, 3),
            "match_seconds_runs": [round(p, 3) for p in plans],
            "match_vs_ingest": round(match_seconds / ingest_seconds, 3),
            "drain_seconds": round(drain_seconds, 1),
            "busiest_second_overall": busiest(at, 1.0),
            "busiest_group_minute": max(groups, default=0),
            "busiest_private_second": max(privates, default=0),
            "max_pushes_one_chat": max(per_chat.values(), default=0),
            "status_429": len([c for c in api.calls if c.status == 429]),
        }
        runtime.close()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
