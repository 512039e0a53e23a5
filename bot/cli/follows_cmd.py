"""`newsbot follows`: what the chats follow, their last push and the pushes still pending
(read only: no follow or push is changed)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from bot.cli.exits import Exit
from bot.follows.store import FollowStore
from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.errors import NewsbotError


def _when(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


def follows_report(store: FollowStore, committed: int | None) -> dict:
    chats = store.overview()
    planned = store.generation()
    return {
        "database": str(store.path),
        "planned_generation": planned,
        "committed_generation": committed,
        # commits no bot has matched against the follows yet (no bot running, say)
        "unplanned_generations": (
            max(0, committed - planned) if committed is not None and planned is not None else 0
        ),
        "pending_pushes": sum(c.pending for c in chats),
        "follows": sum(len(c.topics) for c in chats),
        "chats": [{**c.to_dict(), "last_push_at": _when(c.last_push_at)} for c in chats],
    }


def render_follows(report: dict) -> str:
    lines = [
        f"{report['follows']} follows in {len(report['chats'])} chats; "
        f"{report['pending_pushes']} pushes pending"
        + (
            f"; {report['unplanned_generations']} ingests not yet matched"
            if report["unplanned_generations"]
            else ""
        ),
        f"database: {report['database']}",
    ]
    for chat in report["chats"]:
        lines.append("")
        last = chat["last_push_at"] or "never"
        lines.append(
            f"chat {chat['chat_id']} ({chat['kind']}): last push {last}, "
            f"{chat['pending']} pending, {chat['pushed_stories']} stories pushed"
        )
        lines += [f"  {n}. {topic}" for n, topic in enumerate(chat["topics"], 1)]
    return "\n".join(lines)


def cmd_follows(args: argparse.Namespace, settings: Settings) -> Exit:
    runtime = Runtime(settings, eager_model=False)
    try:
        try:
            committed: int | None = runtime.store.committed()
        except NewsbotError:
            committed = None  # the store is away: the follows are still worth seeing
        report = follows_report(runtime.follow_store, committed)
    finally:
        runtime.close()
    print(json.dumps(report, ensure_ascii=False) if args.json else render_follows(report))
    return Exit.OK
