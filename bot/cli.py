"""`newsbot`: the command line.

Exit codes: 0 done, 1 something failed (a source, the store, the model), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from bot import runtime
from bot.eval_command import add_eval_arguments, cmd_eval
from bot.progress import terminal_progress
from bot.serve import add_serve_arguments, cmd_serve
from bot.settings import ServeSettings, Settings
from ingest.pipeline import IngestReport, run_ingest
from ingest.sources import parse_sources_file, spec_from_argument
from retrieval.answering import clean_question
from retrieval.errors import BadQuestionError, NewsbotError
from retrieval.hybrid import Retriever
from retrieval.status import index_status
from retrieval.types import Answer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_QUERY_CHARS = 1000


class UsageError(Exception):
    """Bad usage: a message and exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot", description="Answers questions about the news, with citations."
    )
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

    evaluate = commands.add_parser("eval", help="score retrieval and answers on a dataset")
    add_eval_arguments(evaluate)

    serve = commands.add_parser("serve", help="run the Telegram bot")
    add_serve_arguments(serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = ServeSettings() if args.command == "serve" else Settings()
    except ValidationError as exc:
        print(f"newsbot: bad setting: {_first_error(exc)}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    handlers = {
        "ingest": cmd_ingest,
        "status": cmd_status,
        "search": cmd_search,
        "ask": cmd_ask,
        "eval": cmd_eval,
        "serve": cmd_serve,
    }
    try:
        return handlers[args.command](args, settings)
    except (UsageError, BadQuestionError) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NewsbotError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("newsbot: interrupted", file=sys.stderr)
        return 130


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg')}"


# -- ingest ----------------------------------------------------------------------------------


INGEST_STAGES = {"sources": "reading sources", "embedding": "embedding", "indexing": "indexing"}


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
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
    model = runtime.lazy_model(settings)
    store = runtime.open_store(settings)
    bars = terminal_progress(not args.json, INGEST_STAGES)
    with runtime.http_client(settings) as http, bars as progress:
        report = run_ingest(
            specs,
            read_source=runtime.source_reader(settings, http),
            store=store,
            embedder=model,
            params=runtime.chunking_params(settings),
            prune=args.prune,
            sources_file=from_file,
            progress=progress,
        )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print(render_report(report))
    return EXIT_FAILED if report.failed else EXIT_OK


def render_report(report: IngestReport) -> str:
    took = f"in {report.seconds:.1f} s"
    if report.stages:
        took += f" ({', '.join(f'{stage} {s:.1f} s' for stage, s in report.stages.items())})"
    lines = [
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"removed {report.removed}, failed {len(report.failed)}",
        f"embedded {report.embedded} passages (reused {report.reused}) {took}",
    ]
    lines += [f"  failed: {f.source}: {f.reason}" for f in report.failed]
    lines += [f"  note: {note}" for note in report.notes]
    return "\n".join(lines)


# -- status ----------------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    status = index_status(runtime.open_store(settings), settings.embedding_model)
    if args.json:
        print(json.dumps(status.to_dict(), ensure_ascii=False))
        return EXIT_OK
    if not status.collection:
        print(f"no index yet at {status.store} — run `newsbot ingest`")
        return EXIT_OK
    outlets = ", ".join(f"{name} ({n})" for name, n in list(status.outlets.items())[:8])
    more = len(status.outlets) - 8
    dates = (
        f"{status.first_published[:10]} .. {status.last_published[:10]}"
        if status.first_published
        else "no dated articles"
    )
    last = status.last_ingest or {}
    print(f"articles:    {status.articles} ({status.chunks} passages)")
    print(f"outlets:     {len(status.outlets)}: {outlets}{f' and {more} more' if more > 0 else ''}")
    print(
        f"published:   {dates}"
        + (f"; {status.undated_articles} undated" if status.undated_articles else "")
    )
    if last:
        print(
            f"last ingest: {last.get('finished_at')}: added {last.get('added')}, updated "
            f"{last.get('updated')}, unchanged {last.get('unchanged')}, removed "
            f"{last.get('removed')}, failed {len(last.get('failed', []))}"
        )
    print(f"model:       {status.model}")
    print(f"store:       {status.store} [{status.collection}]")
    return EXIT_OK


# -- search ----------------------------------------------------------------------------------


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    if args.k < 1 or args.k > 100:
        raise UsageError("--k must be between 1 and 100")
    store = runtime.open_store(settings)
    store.current()  # a clear message before the model loads when there is no index
    retriever = Retriever(store, runtime.load_model(settings))
    if args.query == "-":
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                result = search_result(line, retriever, args.k)
            except BadQuestionError as exc:
                result = {"query": line.strip()[:200], "error": str(exc)}
            print(json.dumps(result, ensure_ascii=False), flush=True)
        return EXIT_OK
    result = search_result(args.query, retriever, args.k)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return EXIT_OK
    for hit in result["results"]:
        date = (hit["published_at"] or "undated")[:10]
        print(f"{hit['rank']}. [{hit['score']:.3f}] {hit['title']} — {hit['source']}, {date}")
        if hit["url"]:
            print(f"   {hit['url']}")
        print(f"   {hit['text']}\n")
    return EXIT_OK


def search_result(query: str, retriever: Retriever, k: int) -> dict:
    hits = retriever.search(clean_question(query, MAX_QUERY_CHARS), k)
    return {
        "query": query,
        "results": [
            {
                "rank": hit.rank,
                "score": round(hit.score, 4),
                "article_id": hit.passage.article_id,
                "title": hit.passage.title,
                "source": hit.passage.source,
                "published_at": hit.passage.published_at,
                "url": hit.passage.url,
                "text": hit.passage.text,
            }
            for hit in hits
        ],
    }


# -- ask -------------------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    store = runtime.open_store(settings)
    store.current()  # a clear message before the model loads when there is no index
    answerer = runtime.build_answerer(settings, store, runtime.load_model(settings))
    if args.question == "-":
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                result = answerer.answer(line).to_dict()
            except BadQuestionError as exc:
                result = {"question": line.strip()[:200], "error": str(exc)}
            print(json.dumps(result, ensure_ascii=False), flush=True)
        return EXIT_OK
    answer = answerer.answer(args.question)
    print(json.dumps(answer.to_dict(), ensure_ascii=False) if args.json else render_answer(answer))
    return EXIT_OK


def render_answer(answer: Answer) -> str:
    lines = [answer.text]
    if answer.citations:
        lines.append("")
    for c in answer.citations:
        date = c.published_at[:10] if c.published_at else "date unknown"
        also = f" (also: {', '.join(c.also_in)})" if c.also_in else ""
        lines.append(f"[{c.n}] {c.title} — {c.source}{also}, {date}")
        if c.url:
            lines.append(f"    {c.url}")
        lines.append(f"    “{c.quote}”")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
