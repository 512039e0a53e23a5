"""`newsbot`: the command line's parser and dispatch.

Exit codes (bot.cli.exits.Exit): 0 done, 1 something failed (a source, the store, the model),
2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic import ValidationError

from bot.cli.eval_cmd import add_eval_arguments, cmd_eval
from bot.cli.exits import Exit, UsageError, fail
from bot.cli.follows_cmd import cmd_follows
from bot.cli.index_cmds import cmd_ingest, cmd_status
from bot.cli.query_cmds import cmd_ask, cmd_search
from bot.cli.story_cmds import add_date_argument, cmd_stories, cmd_timeline
from bot.logs import configure_logging
from bot.settings import ServeSettings, Settings
from retrieval.errors import BadQuestionError, NewsbotError


def newsbot_version() -> str:
    try:
        return version("newsbot")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description="Answers questions about the news, with citations."
    )
    parser.add_argument("--version", action="version", version=f"newsbot {newsbot_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="read sources into the index")
    ingest.add_argument("source", nargs="*", help="file, directory, article URL or feed URL")
    ingest.add_argument(
        "--sources",
        type=Path,
        metavar="FILE",
        help="a sources file (TOML); the default when no SOURCE is given",
    )
    ingest.add_argument(
        "--prune", action="store_true", help="remove articles gone from their source"
    )
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")

    status = commands.add_parser("status", help="what the index holds")
    status.add_argument("--json", action="store_true")

    search = commands.add_parser("search", help="passages that match a query")
    search.add_argument("query", help="the query, or - to read one per line from stdin")
    search.add_argument("--k", type=int, default=5, help="how many passages (default 5)")
    search.add_argument("--json", action="store_true")

    ask = commands.add_parser("ask", help="answer a question with numbered sources")
    ask.add_argument("question", help="the question, or - to read one per line from stdin")
    ask.add_argument("--json", action="store_true")

    stories = commands.add_parser("stories", help="the stories in the index, newest first")
    add_date_argument(stories, "--since", "only stories with an article dated on or after")
    stories.add_argument("--json", action="store_true")

    timeline = commands.add_parser("timeline", help="the events of a topic, in date order")
    timeline.add_argument("query", help='the topic: "Serra Valley talks"')
    add_date_argument(timeline, "--since", "only events on or after")
    add_date_argument(timeline, "--until", "only events on or before")
    timeline.add_argument("--json", action="store_true")

    evaluate = commands.add_parser("eval", help="score retrieval and answers on a dataset")
    add_eval_arguments(evaluate)

    follows = commands.add_parser(
        "follows", help="the chats' follows, last push and pending pushes"
    )
    follows.add_argument("--json", action="store_true")

    serve = commands.add_parser("serve", help="run the Telegram bot")
    serve.add_argument(
        "--drop-pending-updates",
        action="store_true",
        help="ignore updates that arrived while the bot was down",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = ServeSettings() if args.command == "serve" else Settings()
    except ValidationError as exc:
        return fail(f"bad setting: {_first_error(exc)}", Exit.USAGE)
    configure_logging(settings.log_level, settings.log_format)
    try:
        return int(_command(args.command)(args, settings))
    except (UsageError, BadQuestionError) as exc:
        return fail(str(exc), Exit.USAGE)
    except NewsbotError as exc:
        return fail(str(exc), Exit.FAILED)
    except KeyboardInterrupt:
        return fail("interrupted", Exit.INTERRUPTED)


def _command(name: str):
    if name == "serve":  # python-telegram-bot loads only for the bot
        from bot.telegram.serve import cmd_serve

        return cmd_serve
    return {
        "ingest": cmd_ingest,
        "status": cmd_status,
        "search": cmd_search,
        "ask": cmd_ask,
        "eval": cmd_eval,
        "follows": cmd_follows,
        "stories": cmd_stories,
        "timeline": cmd_timeline,
    }[name]


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg')}"


if __name__ == "__main__":
    sys.exit(main())
