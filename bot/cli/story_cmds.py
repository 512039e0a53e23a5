"""`newsbot stories` and `newsbot timeline`: the news as stories and as dated events."""

from __future__ import annotations

import argparse
import json
from datetime import date

from bot.cli.exits import Exit, UsageError
from bot.cli.render import render_stories, render_timeline
from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.answer.answerer import clean_question
from retrieval.stories.grouping import list_stories


def add_date_argument(parser: argparse.ArgumentParser, flag: str, what: str) -> None:
    parser.add_argument(flag, metavar="DATE", help=f"{what} (YYYY-MM-DD)")


def parse_day(value: str | None, flag: str) -> str | None:
    """A command line date as an ISO day; a clear usage error otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise UsageError(f"{flag} wants a date as YYYY-MM-DD, not {value!r}") from None


def cmd_stories(args: argparse.Namespace, settings: Settings) -> Exit:
    since = parse_day(args.since, "--since")
    runtime = Runtime(settings, eager_model=False)  # listing stories needs no model
    stories = list_stories(runtime.store, since=since)
    result = {"stories": [story.to_dict() for story in stories]}
    print(json.dumps(result, ensure_ascii=False) if args.json else render_stories(result))
    return Exit.OK


def cmd_timeline(args: argparse.Namespace, settings: Settings) -> Exit:
    since = parse_day(args.since, "--since")
    until = parse_day(args.until, "--until")
    if since and until and since > until:
        raise UsageError("--since is after --until")
    runtime = Runtime(settings)
    runtime.store.require()  # a clear message before the model loads when there is no index
    query = clean_question(args.query, settings.max_question_chars)
    timeline = runtime.timelines.build(query, since=since, until=until)
    result = timeline.to_dict()
    print(json.dumps(result, ensure_ascii=False) if args.json else render_timeline(result))
    return Exit.OK
