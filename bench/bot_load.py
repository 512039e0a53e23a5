"""Bot load: 50 questions from 10 users at once, through the loopback Bot API server, against
the real `newsbot serve` process. Every question must be answered; prints reply latency
(p50/p95/max, from the moment the updates are available to the bot's sendMessage).

    python -m bench.bot_load [--users 10] [--per-user 5] [--data-dir DIR]

Without --data-dir it first builds an index of the seed article with `newsbot ingest`.
Exit code 1 when a question goes unanswered.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

from devkit.bot_process import BotProcess, build_seed_index
from devkit.botapi_server import FakeBotApi

QUESTIONS = [
    "Who is invited to Moscow?",
    "When is the Moscow conference on Afghanistan?",
    "What did Maria Zakharova say about the talks?",
    "Who is Zamir Kabulov?",
    "What does the Moscow meeting aim to achieve?",
    "Where should substantive talks begin?",
    "Is Qatar invited to the conference?",
    "What did Blinken write to Ashraf Ghani?",
    "When is the deadline for the US troop pullout?",
    "Where would the summit bringing together the Afghan government and Taliban be held?",
    "Which countries would join a UN summit on Afghanistan?",
    "What does the US-drafted peace plan propose?",
    "Has Ghani agreed to step aside?",
    "What did Ned Price say about the peace talks?",
    "Who reported on the US peace plan?",
    "When did talks between Kabul and the Taliban begin?",
    "What does the Biden administration seek in Afghanistan?",
    "Are Taliban representatives invited to Moscow?",
    "What is the goal of reducing violence in Afghanistan?",
    "Which news agencies contributed to the report?",
    "Does Washington believe progress is possible?",
    "What would replace the current government in Kabul?",
    "Is an interim administration proposed for Afghanistan?",
    "Why are there concerns about the US exit?",
    "Who hosted previous Afghan peace talks?",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--per-user", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, help="an existing index (default: build one)")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsbot-load-") as tmp:
        work = Path(tmp)
        data_dir = args.data_dir
        if data_dir is None:
            print("building the seed index…", file=sys.stderr)
            data_dir = work / "data"
            build_seed_index(data_dir, work)
        with FakeBotApi() as api:
            bot = BotProcess(
                api,
                data_dir,
                work,
                NEWSBOT_LOG_LEVEL="WARNING",
                NEWSBOT_USER_QUESTIONS_PER_MINUTE=str(max(6, args.per_user)),
            )
            try:
                bot.start(timeout=300)
                print(f"newsbot serve ready in {bot.startup_seconds:.1f} s", file=sys.stderr)
                return run(api, args.users, args.per_user, args.timeout)
            finally:
                code = bot.stop()
                if code:
                    print(f"newsbot serve exited with {code}:\n{bot.stderr()}", file=sys.stderr)


def run(api: FakeBotApi, users: int, per_user: int, timeout: float) -> int:
    warm = api.user("Warm-up")
    warm_chat = api.private_chat(warm)
    api.send_text(warm_chat, QUESTIONS[0], sender=warm)
    api.wait_for(lambda: api.sent_to(warm_chat["id"]), 120, "the warm-up answer")

    people = [api.user(f"User {i}") for i in range(users)]
    chats = [api.private_chat(person) for person in people]
    asked: dict[int, list[float]] = {chat["id"]: [] for chat in chats}
    started = time.monotonic()
    for round_ in range(per_user):
        for i, (person, chat) in enumerate(zip(people, chats, strict=True)):
            question = QUESTIONS[(i * per_user + round_) % len(QUESTIONS)]
            asked[chat["id"]].append(time.monotonic())
            api.send_text(chat, question, sender=person)
    total = users * per_user

    def replies() -> dict[int, list]:
        return {chat_id: api.sent_to(chat_id) for chat_id in asked}

    with contextlib.suppress(AssertionError):
        api.wait_for(
            lambda: sum(len(r) for r in replies().values()) >= total, timeout, "every answer"
        )
    elapsed = time.monotonic() - started
    latencies, refused = [], 0
    for chat_id, sent in replies().items():
        for asked_at, reply in zip(asked[chat_id], sent, strict=False):
            latencies.append(reply.at - asked_at)
            if (
                "faster than I can read" in reply.params["text"]
                or "went wrong" in (reply.params["text"])
            ):
                refused += 1
    answered = len(latencies) - refused
    latencies.sort()
    print(f"questions: {total} from {users} users at once; answered: {answered}/{total}")
    if latencies:
        p50 = statistics.median(latencies)
        p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
        print(
            f"reply latency: min {latencies[0]:.2f} s, p50 {p50:.2f} s, p95 {p95:.2f} s, "
            f"max {latencies[-1]:.2f} s; "
            f"all done in {elapsed:.1f} s ({total / elapsed:.1f} questions/s)"
        )
    return 0 if answered == total else 1


if __name__ == "__main__":
    sys.exit(main())
