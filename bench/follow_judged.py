"""Precision and recall of follow pushes on blind-judged pairs: the old matcher and the new.

Topics are what a reader would type ("Sam Bankman-Fried trial", "Serra Valley peace talks"),
over the index of MultiHop-RAG + the Serra Valley fixtures. Each topic's pool of candidate
articles comes from two rankers that are not the matchers under test: the best passage cosine
with the topic (dense) and BM25 over the topic's words (lexical), the top POOL_DEPTH articles
of each. Every (topic, article) pair of the pools was judged by hand (relevant: the article is
about the topic's subject; not: it only mentions it, e.g. in a list) BEFORE any matcher was run
on it, with a second pass on the doubtful ones (bench/follow_judged.json). Topics alternate
dev / test; thresholds are tuned on dev only.

Both matchers see every article of the index as new (each with its stored story): the old one
pushes when `Match.accepted` (dense + 0.5 x the topic's words >= 1.10); the new one learns
the topic's subject from the index as /follow does (`SubjectFinder.learn`) and pushes what
`bot.follows.matching.accepts` accepts. Precision is over the judged pairs pushed; recall over
the judged relevant pairs (pairs outside the pools are not judged: recall is of the pools).

    NEWSBOT_DATA_DIR=idx python -m bench.follow_judged pool > pairs.jsonl   # to judge
    NEWSBOT_DATA_DIR=idx python -m bench.follow_judged [--split dev|test] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from bench.follow_precision import wilson
from bot.follows.matching import Match, MatchParams, accepts, topic_terms
from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.stories.subject import Subject, SubjectParams
from retrieval.stories.subject_index import ArticleText, SubjectFinder, evidence_of, subject_from
from retrieval.tokens import tokenize

JUDGED = Path(__file__).resolve().parent / "follow_judged.json"
POOL_DEPTH = 8


def read_index(runtime: Runtime) -> list[ArticleText]:
    finder = SubjectFinder(runtime.retriever)
    return finder.read(runtime.store.live_articles(runtime.store.require()))


def pools(runtime: Runtime, topics: list[str], corpus: list[ArticleText]) -> dict[str, list[int]]:
    """Per topic, the corpus rows of its pool: the dense and the BM25 top POOL_DEPTH."""
    vectors = runtime.model.encode(topics)
    row_of = {t.article.key: i for i, t in enumerate(corpus)}
    catalog = runtime.retriever.catalog()
    out = {}
    for topic, vector in zip(topics, vectors, strict=True):
        dense = [float(np.max(t.vectors @ vector)) if t.vectors.size else 0.0 for t in corpus]
        ranked = list(np.argsort(dense)[::-1][:POOL_DEPTH])
        lexical: list[int] = []
        for pid, _ in runtime.text_index.top(tokenize(topic), 200):
            article = catalog.article_of(pid)
            row = row_of.get(article.key) if article is not None else None
            if row is not None and row not in lexical:
                lexical.append(row)
            if len(lexical) == POOL_DEPTH:
                break
        out[topic] = list(dict.fromkeys([int(r) for r in ranked] + lexical))
    return out


def decisions(
    runtime: Runtime, topic: str, corpus: list[ArticleText], params: SubjectParams
) -> tuple[set[str], set[str], Subject]:
    """The titles the old and the new matcher push for `topic`, and the subject learned."""
    vector = np.asarray(runtime.model.encode([topic])[0], np.float32)
    finder = SubjectFinder(runtime.retriever, params)
    candidates = finder.read(finder.found(topic))
    subject = subject_from(topic, vector, candidates, finder.idf(), params)
    terms = topic_terms(topic)
    old, new = set(), set()
    for text in corpus:
        words = frozenset(tokenize(text.article.title + " " + text.text))
        dense = float(np.max(text.vectors @ vector)) if text.vectors.size else 0.0
        how = Match(dense, len(terms & words) / len(terms) if terms else 0.0)
        if how.accepted(MatchParams()):
            old.add(text.article.title)
        if accepts(how, MatchParams(), subject, evidence_of(text, topic, vector, subject), params):
            new.add(text.article.title)
    return old, new, subject


def measure(pushed: dict[str, set[str]], pairs: list[dict]) -> dict:
    hits = [p for p in pairs if p["title"] in pushed[p["topic"]]]
    right = sum(p["relevant"] for p in hits)
    relevant = sum(p["relevant"] for p in pairs)
    found = sum(p["relevant"] for p in hits)
    return {
        "pushed": len(hits),
        "precision": round(right / len(hits), 3) if hits else None,
        "precision_ci95": [round(x, 3) for x in wilson(right, len(hits))],
        "relevant": relevant,
        "recall": round(found / relevant, 3) if relevant else None,
        "recall_ci95": [round(x, 3) for x in wilson(found, relevant)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=("pool", "score"), default="score")
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--show", action="store_true", help="list each topic's errors")
    args = parser.parse_args(argv)
    started = time.monotonic()
    judged = json.loads(JUDGED.read_text())
    runtime = Runtime(Settings())
    corpus = read_index(runtime)
    if args.command == "pool":
        topics = [t["topic"] for t in judged["topics"]]
        for topic, rows in pools(runtime, topics, corpus).items():
            for row in rows:
                text = corpus[row]
                print(
                    json.dumps(
                        {
                            "topic": topic,
                            "title": text.article.title,
                            "source": text.article.source,
                            "opening": " ".join(text.text[:400].split()),
                        },
                        ensure_ascii=False,
                    )
                )
        return 0
    topics = [t["topic"] for t in judged["topics"] if t["split"] == args.split]
    pairs = [p for p in judged["pairs"] if p["topic"] in topics]
    old: dict[str, set[str]] = {}
    new: dict[str, set[str]] = {}
    subjects = {}
    for topic in topics:
        # only the judged pairs are measured: the topic's pool, not the whole corpus
        pool = {p["title"] for p in pairs if p["topic"] == topic}
        judged_texts = [t for t in corpus if t.article.title in pool]
        old[topic], new[topic], subject = decisions(runtime, topic, judged_texts, SubjectParams())
        subjects[topic] = subject.watching()
    result = {
        "split": args.split,
        "topics": len(topics),
        "judged_pairs": len(pairs),
        "old": measure(old, pairs),
        "new": measure(new, pairs),
        "seconds": round(time.monotonic() - started, 1),
    }
    if args.show:
        for topic in topics:
            mine = [p for p in pairs if p["topic"] == topic]
            print(f"# {topic}  watching: {', '.join(subjects[topic])}")
            for p in mine:
                pushed = p["title"] in new[topic]
                if pushed != p["relevant"]:
                    print(f"   {'FP' if pushed else 'FN'} {p['title'][:90]}")
    print(json.dumps(result, indent=2) if args.json else json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
