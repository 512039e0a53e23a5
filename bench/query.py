"""Warm query latency: a full extractive answer against the bare query embedding, one run.

Runs over the index of the current settings (NEWSBOT_DATA_DIR); it should hold the full corpus
and the seed, as built by

    NEWSBOT_DATA_DIR=/tmp/bench-data newsbot ingest ../shared/seed \\
        ../shared/data/multihop-rag/corpus.json

Loads the model, the store and the answerer once (extractive, even if NEWSBOT_LLM_MODEL is
set), warms up, then for each question measures, interleaved (the order rotates per question):
the bare query embedding (`model.encode([q])`), `retriever.search(q, 10)` and a full
`answerer.answer(q)`. Prints the median and p95 of each and the ratio of the medians answer /
embedding (target: <= 2.5). Then a breakdown: each step of an answer timed on its own (a
separate pass, so the wrappers do not touch the figures above); `--profile` adds the top
functions by own time.

    NEWSBOT_DATA_DIR=/tmp/bench-data python -m bench.query [--questions 200] [--profile]

Questions: "Who is invited to Moscow?", then the MultiHop-RAG dev split in file order.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.answer import answerer as answering
from retrieval.eval.scoring import load_queries, split_queries
from retrieval.search import retriever as hybrid

FIRST_QUESTION = "Who is invited to Moscow?"


def questions(dataset: Path, count: int, skip: int = 0, *, short: bool = False) -> list[str]:
    """The seed question, then the dev split's; `short`: each cut to its first 7 words, a
    one-line question as a reader types it."""
    dev = [q.query for q in split_queries(load_queries(dataset), "dev")]
    if short:
        dev = [" ".join(q.split()[:7]).rstrip(",;:") + "?" for q in dev]
    return ([FIRST_QUESTION, *dev])[skip : skip + count]


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/multihop-rag"))
    parser.add_argument("--questions", type=int, default=200, help="measured questions")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured questions first")
    parser.add_argument(
        "--breakdown", type=int, default=50, help="questions in the breakdown pass (0: none)"
    )
    parser.add_argument("--short", action="store_true", help="one-line questions (7 words)")
    parser.add_argument("--profile", action="store_true", help="cProfile the breakdown pass")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]

    settings = Settings().model_copy(update={"llm_model": None})
    started = time.perf_counter()
    parts = Runtime(settings)
    store = parts.store
    store.require()  # a clear error when there is no index
    model = parts.model
    answerer = parts.answerer
    retriever = parts.retriever
    loaded = time.perf_counter()
    retriever.search(FIRST_QUESTION, 10)  # loads the live articles, catches the index up
    first_search = time.perf_counter() - loaded
    catalog = retriever.catalog()
    print(
        f"index: {store.location}: {len(catalog.articles)} articles, "
        f"{sum(a.chunks for a in catalog.articles.values())} passages; "
        f"model {settings.embedding_model}"
    )
    print(
        f"cold start: store + model + answerer {loaded - started:.1f} s, first search "
        f"(loads the live articles) {first_search:.1f} s; {os.cpu_count()} CPUs, "
        f"torch threads {torch.get_num_threads()}"
    )

    measured = questions(args.dataset, args.questions, short=args.short)
    warm = questions(args.dataset, args.warmup, skip=args.questions, short=args.short)
    for q in warm:
        model.encode([q])
        retriever.search(q, 10)
        answerer.answer(q)

    steps: dict[str, Callable[[str], object]] = {
        "embedding": lambda q: model.encode([q]),
        "search": lambda q: retriever.search(q, 10),
        "answer": lambda q: answerer.answer(q),
    }
    names = list(steps)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i, q in enumerate(measured):
        for name in names[i % 3 :] + names[: i % 3]:  # rotate the order
            t0 = time.perf_counter()
            steps[name](q)
            times[name].append(time.perf_counter() - t0)

    print(
        f"\n{len(measured)} questions, {len(warm)} warm-up; milliseconds; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other work on the machine "
        "slows torch's threads most: compare ratios, not absolute times)"
    )
    print(f"{'':<28} {'median':>8} {'p95':>8}")
    labels = {
        "embedding": "bare embedding encode([q])",
        "search": "retriever.search(q, 10)",
        "answer": "answerer.answer(q)",
    }
    for name in names:
        print(
            f"{labels[name]:<28} {statistics.median(times[name]) * 1000:>8.1f} "
            f"{p95(times[name]) * 1000:>8.1f}"
        )
    embed = statistics.median(times["embedding"])
    print(
        f"ratio answer / embedding (medians): "
        f"{statistics.median(times['answer']) / embed:.2f}  (target <= 2.5); "
        f"search / embedding {statistics.median(times['search']) / embed:.2f}"
    )

    if args.breakdown:
        qs = questions(args.dataset, args.breakdown, short=args.short)
        breakdown(answerer, qs, args.profile)


def breakdown(answerer: answering.NewsAnswerer, qs: list[str], profile: bool) -> None:
    """Time each step of `answer` with wrappers (instance attributes and module globals)."""
    retriever = answerer.retriever
    store = retriever.store
    spent: dict[str, float] = defaultdict(float)

    def wrap(label: str, fn: Callable) -> Callable:
        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[label] += time.perf_counter() - t0

        return timed

    patches = [
        (retriever.encoder, "encode", "query embedding (encode)"),
        (store, "nearest", "Chroma query (dense, HNSW, ids only)"),
        (store, "fetch", "Chroma get (texts and vectors of candidates)"),
        (retriever, "catalog", "commit check (commit record read)"),
        (retriever.lexical, "top", "BM25 top (tantivy)"),
        (hybrid, "parse_query", "question parsing (terms, kind, dates, outlets)"),
        (hybrid, "_group_and_cap", "near-duplicate grouping + cap"),
        (answering, "score_sentences", "sentence scoring"),
        (answering, "select", "sentence selection (declining)"),
        (answering, "choose", "sentence per part of the question (choose)"),
        (answering, "similarities", "sentence meaning (stored vectors . question)"),
        (answering, "compose", "composing + citations"),
    ]
    saved = [(obj, attr, obj.__dict__.get(attr)) for obj, attr, _ in patches]
    for obj, attr, label in patches:
        setattr(obj, attr, wrap(label, getattr(obj, attr)))
    profiler = cProfile.Profile() if profile else None
    totals = []
    try:
        for q in qs:
            if profiler:
                profiler.enable()
            t0 = time.perf_counter()
            answerer.answer(q)
            totals.append(time.perf_counter() - t0)
            if profiler:
                profiler.disable()
    finally:
        for obj, attr, original in saved:
            if original is None:
                delattr(obj, attr)
            else:
                setattr(obj, attr, original)

    total = sum(totals)
    print(f"\nwhere an answer's time goes ({len(qs)} answers; mean per answer, ms)")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {label:<48} {seconds / len(qs) * 1000:>7.1f}  {seconds / total:>5.1%}")
    rest = total - sum(spent.values())
    print(
        f"  {'everything else (fusion, caches)':<48} {rest / len(qs) * 1000:>7.1f}  "
        f"{rest / total:>5.1%}"
    )
    print(f"  {'total answer':<48} {total / len(qs) * 1000:>7.1f}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        lines = out.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        print("\ntop functions by own time (cProfile over the breakdown pass):")
        print("\n".join(lines[start:]).rstrip())


if __name__ == "__main__":
    main()
