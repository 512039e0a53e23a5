"""`newsbot ingest` and `newsbot status`: filling the index and saying what it holds."""

from __future__ import annotations

import argparse
import json

from bot.cli.exits import Exit, UsageError
from bot.cli.progress import terminal_progress
from bot.cli.render import render_report, render_status
from bot.runtime import Runtime
from bot.settings import Settings
from ingest.sources import parse_sources_file, spec_from_argument

INGEST_STAGES = {"sources": "reading sources", "embedding": "embedding", "indexing": "indexing"}


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> Exit:
    if args.source and args.sources:
        raise UsageError("give SOURCE arguments or --sources FILE, not both")
    if args.source:
        specs = [spec_from_argument(arg) for arg in args.source]
        from_file = False
    else:
        path = args.sources or settings.sources
        if not path.exists():
            raise UsageError(f"no sources given and no sources file at {path}")
        specs = parse_sources_file(path)
        from_file = True
    runtime = Runtime(settings, eager_model=False)  # nothing new to embed: no model loaded
    try:
        with terminal_progress(not args.json, INGEST_STAGES) as progress:
            report = runtime.ingest(
                specs, prune=args.prune, sources_file=from_file, progress=progress
            )
    finally:
        runtime.close()
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else render_report(report))
    return Exit.FAILED if report.failed else Exit.OK


def cmd_status(args: argparse.Namespace, settings: Settings) -> Exit:
    status = Runtime(settings).status()
    print(json.dumps(status.to_dict(), ensure_ascii=False) if args.json else render_status(status))
    return Exit.OK
