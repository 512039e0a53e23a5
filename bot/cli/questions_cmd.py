"""`newsbot eval --questions FILE`: score the answerer on a natural-question set.

It answers every question of the split with the same answerer `newsbot ask` uses, over the
CURRENT index, and prints right / wrong / false declines for answerable questions and declined /
answered for unanswerable ones, per question word and per corpus (`retrieval/natural_eval.py`).
Before the model loads it checks that the index holds the articles the questions are about, so
a wrong index is a warning (some missing) or one clear line and exit code 1 (all missing).

Exit codes: 0 done, 1 the index is missing or lacks the set's articles, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.exits import Exit, fail
from bot.cli.progress import terminal_progress
from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.natural_eval import load_questions, run_natural_eval, split_questions


def cmd_eval_questions(args: argparse.Namespace, settings: Settings) -> Exit:
    path = args.questions
    if not path.is_file():
        return fail(f"no question file at {path}", Exit.USAGE)
    if args.limit is not None and args.limit < 1:
        return fail("--limit must be at least 1", Exit.USAGE)
    try:
        questions = split_questions(load_questions(path), args.split)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return fail(f"cannot read {path}: {exc}", Exit.USAGE)
    if args.limit is not None:
        questions = questions[: args.limit]
    if not questions:
        return fail(f"no questions in the {args.split} split of {path}", Exit.USAGE)

    runtime = Runtime(settings)
    store = runtime.store
    store.require()  # no index at all: IndexNotFoundError, a clear line and exit 1
    wanted = {_norm(q.article) for q in questions if q.article.strip()}
    missing = wanted - {_norm(a.title) for a in store.live_articles()}
    if wanted and missing == wanted:
        return fail(
            f"the index at {store.location} holds none of the articles the questions are about "
            f"(checked {len(wanted)} titles): ingest them first",
            Exit.FAILED,
        )
    if missing:
        print(
            f"newsbot: warning: {len(missing)} of {len(wanted)} articles the questions are about "
            f"are not in the index (e.g. {min(missing)!r})",
            file=sys.stderr,
        )

    answerer = runtime.answerer
    with terminal_progress(not args.json, transient=True) as bars:
        report = run_natural_eval(
            questions,
            answer=answerer.answer,
            progress=(lambda done, total: bars("answering", done, total)) if bars else None,
        )
    if args.json:
        per_query = bool(getattr(args, "per_query", False))
        data = {
            "questions_file": str(path),
            "split": args.split,
            **report.to_dict(per_query=per_query),
        }
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(f"{path} ({args.split} split)")
        print(report.render())
    return Exit.OK


def _norm(title: str) -> str:
    return " ".join(title.split()).casefold()
