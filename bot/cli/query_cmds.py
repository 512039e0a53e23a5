"""`newsbot search` and `newsbot ask`: one query from the arguments, or one per line from
stdin with `-` (a JSON line each; a line that fails — a bad question, the store down — gets a
`{"query"|"question", "error"}` line and the run goes on; the store is asked afresh for the
next line, so answers resume when it is back)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from bot.cli.exits import Exit, UsageError
from bot.cli.render import render_answer_text, render_hits
from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.answer.answerer import clean_question
from retrieval.errors import BadQuestionError, NewsbotError
from retrieval.search.retriever import Retriever

MAX_K = 100


def cmd_search(args: argparse.Namespace, settings: Settings) -> Exit:
    if not 1 <= args.k <= MAX_K:
        raise UsageError(f"--k must be between 1 and {MAX_K}")
    runtime = Runtime(settings)
    runtime.store.require()  # a clear message before the model loads when there is no index
    retriever = runtime.retriever

    def search(query: str) -> dict:
        return search_result(query, retriever, args.k, settings.max_question_chars)

    if args.query == "-":
        runtime.keep_up()
        return _each_line(search, "query")
    result = search(args.query)
    print(json.dumps(result, ensure_ascii=False) if args.json else render_hits(result))
    return Exit.OK


def search_result(query: str, retriever: Retriever, k: int, max_chars: int) -> dict:
    hits = retriever.search(clean_question(query, max_chars), k)
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


def cmd_ask(args: argparse.Namespace, settings: Settings) -> Exit:
    runtime = Runtime(settings)
    runtime.store.require()  # a clear message before the model loads when there is no index
    answerer = runtime.answerer
    if args.question == "-":
        runtime.keep_up()
        return _each_line(lambda line: answerer.answer(line).to_dict(), "question")
    answer = answerer.answer(args.question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        print(render_answer_text(answer, now=datetime.now(UTC)))
    return Exit.OK


def _each_line(handle: Callable[[str], dict], key: str) -> Exit:
    """Exit 1 when a line failed for another reason than a bad question (the store was down)."""
    code = Exit.OK
    for raw in sys.stdin:
        line = raw.strip()
        if not line:
            continue
        try:
            result = handle(line)
        except NewsbotError as exc:
            if not isinstance(exc, BadQuestionError):
                code = Exit.FAILED
            result = {key: line[:200], "error": str(exc)}
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return code
