"""`newsbot eval`: score the CURRENT index in one of two modes.

- `newsbot eval DATASET_DIR`: retrieval and answers on a MultiHop-RAG-format dataset.
- `newsbot eval --questions FILE`: answers on a natural-question set: right / wrong / false
  declines for answerable questions and declined / answered for near-topic unanswerable ones,
  per question word and per corpus (`retrieval/eval/natural.py`), with the same answerer
  `newsbot ask` uses.

Both score the CURRENT index: ingest the dataset's `corpus.json` (or the articles the questions
are about) first. Before the model loads it checks that the index holds those articles (gold
evidence titles, or the questions' `article` titles), so a wrong or empty index is one clear line
and exit code 1 rather than a table of zeros.

Exit codes: 0 done, 1 the index is missing or lacks the articles, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.cli.exits import Exit, fail
from bot.cli.progress import terminal_progress
from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.eval.natural import NaturalReport, load_questions, run_natural_eval, split_questions
from retrieval.eval.scoring import (
    QUERIES_FILE,
    EvalQuery,
    EvalReport,
    load_queries,
    run_eval,
    split_queries,
)
from retrieval.index.store import IndexStore

SPLITS = ("dev", "test")
MAX_K = 100


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = (
        "%(prog)s DATASET_DIR [--split dev|test] [--k K] [--limit N] [--json [--per-query]]\n"
        "       %(prog)s --questions FILE [--split dev|test] [--limit N] [--json [--per-query]]"
    )
    parser.add_argument(
        "dataset",
        type=Path,
        nargs="?",
        metavar="DATASET_DIR",
        help=f"MultiHop-RAG mode: a directory holding {QUERIES_FILE}",
    )
    parser.add_argument(
        "--questions",
        type=Path,
        metavar="FILE",
        help="natural-question mode: a JSON-lines question set "
        "(tests/fixtures/questions/natural.jsonl); instead of DATASET_DIR",
    )
    parser.add_argument(
        "--split",
        choices=SPLITS,
        default="dev",
        help="dev or test (default dev): i %% 5 != 0 for a dataset, the `split` field for "
        "--questions",
    )
    parser.add_argument(
        "--k", type=int, default=10, help="passages retrieved per query (default 10; dataset mode)"
    )
    parser.add_argument("--limit", type=int, metavar="N", help="only the split's first N queries")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--per-query",
        action="store_true",
        help="with --json: every query's result too (rank, answered, facts quoted, answer)",
    )


def cmd_eval(args: argparse.Namespace, settings: Settings) -> Exit:
    """`newsbot eval`: a MultiHop-RAG-format DATASET_DIR, or a natural-question --questions FILE."""
    questions = getattr(args, "questions", None)
    if questions is not None and args.dataset is not None:
        return fail("give DATASET_DIR or --questions FILE, not both", Exit.USAGE)
    if questions is not None:
        return cmd_eval_questions(args, settings)
    if args.dataset is None:
        return fail("give DATASET_DIR or --questions FILE", Exit.USAGE)
    return cmd_eval_dataset(args, settings)


def cmd_eval_dataset(args: argparse.Namespace, settings: Settings) -> Exit:
    """`newsbot eval DATASET_DIR`: retrieval and answer figures on a MultiHop-RAG-format split."""
    problem = _usage_problem(args)
    if problem:
        return fail(problem, Exit.USAGE)
    try:
        queries = split_queries(load_queries(args.dataset), args.split)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return fail(f"cannot read {args.dataset / QUERIES_FILE}: {exc}", Exit.USAGE)
    if args.limit is not None:
        queries = queries[: args.limit]
    if not queries:
        return fail(f"no queries in the {args.split} split of {args.dataset}", Exit.USAGE)

    runtime = Runtime(settings)
    store = runtime.store
    gold = _gold_titles(queries)
    missing = _not_in_index(store, gold)
    if gold and len(missing) == len(gold):
        return fail(
            f"the index at {store.location} holds none of the dataset's articles "
            f"(checked {len(gold)} gold evidence titles): run "
            f"`newsbot ingest {args.dataset / 'corpus.json'}` first",
            Exit.FAILED,
        )
    if missing:
        example = next(iter(sorted(missing)))
        print(
            f"newsbot: warning: {len(missing)} of {len(gold)} gold articles are not in the index "
            f"(e.g. {example!r}); their queries cannot score",
            file=sys.stderr,
        )
    if args.k < 10:
        print(
            "newsbot: note: Hits@10 and MRR@10 look at only the top --k passages", file=sys.stderr
        )

    answerer = runtime.answerer
    retriever = runtime.retriever
    with terminal_progress(not args.json, transient=True) as bars:
        report = run_eval(
            queries,
            search=lambda q, k: [hit.passage for hit in retriever.search(q, k)],
            answer=answerer.answer,
            k=args.k,
            progress=(lambda done, total: bars("evaluating", done, total)) if bars else None,
        )
    return _print_report(args, report, source=("dataset", args.dataset))


def cmd_eval_questions(args: argparse.Namespace, settings: Settings) -> Exit:
    """`newsbot eval --questions FILE`: answer the split's questions and print the figures."""
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
    wanted = {_norm(q.article) for q in questions if q.article.strip()}
    missing = _not_in_index(store, wanted)
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
    return _print_report(args, report, source=("questions_file", path))


def _print_report(
    args: argparse.Namespace, report: EvalReport | NaturalReport, *, source: tuple[str, Path]
) -> Exit:
    """The figures as JSON (`--json`, with every query's result under `--per-query`) or a table."""
    name, where = source
    if args.json:
        per_query = bool(getattr(args, "per_query", False))
        data = {name: str(where), "split": args.split, **report.to_dict(per_query=per_query)}
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(f"{where} ({args.split} split)")
        print(report.render())
    return Exit.OK


def _usage_problem(args: argparse.Namespace) -> str | None:
    if args.split not in SPLITS:
        return f"--split must be one of {', '.join(SPLITS)}"
    if not 1 <= args.k <= MAX_K:
        return f"--k must be between 1 and {MAX_K}"
    if args.limit is not None and args.limit < 1:
        return "--limit must be at least 1"
    if not args.dataset.is_dir():
        return f"no dataset directory at {args.dataset}"
    if not (args.dataset / QUERIES_FILE).is_file():
        return f"{args.dataset} holds no {QUERIES_FILE}"
    return None


def _not_in_index(store: IndexStore, titles: set[str]) -> set[str]:
    """Which of these (normalized) titles the index lacks; no index at all raises
    IndexNotFoundError, which the CLI reports as one clear line and exit 1."""
    store.require()
    return titles - {_norm(a.title) for a in store.live_articles()}


def _norm(title: str) -> str:
    return " ".join(title.split()).casefold()


def _gold_titles(queries: list[EvalQuery]) -> set[str]:
    return {_norm(e.title) for q in queries for e in q.evidence if e.title.strip()}
