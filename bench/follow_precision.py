"""Precision and recall of follow pushes on MultiHop-RAG, with the matcher the bot ships.

Every corpus article is a new story; a push is a (topic, article) pair that the bot's own
matcher (`bot.follows.matching.match_topics`, `Match.accepted`, the shipped `MatchParams`)
accepts. The threshold is per pair, so how the articles are cut into ingests does not change
which pairs are pushed: the whole corpus is one simulated stream, and a topic is pushed
every article that matches it (several per topic, which gives precision its sample size).

Topics, two forms of each MultiHop question (null queries left out):

- *question*: the question itself (a reader may follow a question);
- *names*: what a reader would type to follow the question's subject: the names it contains
  (`question_names`: runs of capitalised words, without the outlets the question cites, month
  names and sentence-initial question words; at most MAX_NAMES runs), e.g. "Sam
  Bankman-Fried FTX". A question naming nothing has no names topic.

Three measures of a push being right:

- *strict*: the article is one of the question's gold evidence articles (the issue's
  protocol). A MultiHop question has 2-4 gold articles while the corpus holds many more on the
  same subject (a dozen Verge and TechCrunch articles on the FTX trial), so strict precision
  counts most on-topic pushes as wrong;
- *pooled*: (names topics) the article is gold evidence of any question whose names topic
  contains all the words of this one (what the dataset itself says is about these names);
- *judged*: a uniform random sample of the pushes (drawn by `--sample`, seeded; every push
  when there are fewer) judged by hand in bench/follow_judgements.json: right when the
  article's subject is what the topic names (for several names, the story linking them),
  wrong when it is another subject that mentions them. Precision with its 95% Wilson
  interval.

Recall is over the gold pairs (strict or pooled): what share of the questions' evidence a
follower would have been pushed. Thresholds are chosen on the dev split only (i % 5 != 0);
the test split (i % 5 == 0) is reported with the values shipped in bot/follows/matching.py.

    NEWSBOT_DATA_DIR=/tmp/mh python -m bench.follow_precision [DATASET_DIR] [--json]
    ... --sample 60 --split dev --form names   # pushes to judge, as JSON lines

The index under NEWSBOT_DATA_DIR must hold the MultiHop corpus (`newsbot ingest corpus.json`).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.follows.matching import MatchParams, match_topics, story_words, topic_terms
from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.tokens import tokenize

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "multihop-rag"
JUDGEMENTS = Path(__file__).resolve().parent / "follow_judgements.json"
GRID = (1.00, 1.02, 1.04, 1.06, 1.08, 1.10, 1.12, 1.15, 1.20)
MAX_NAMES = 4
MONTHS = frozenset(
    "january february march april may june july august september october november december".split()
)
# capitalised only because they open the question or a clause: not names
OPENERS = frozenset(
    """
    who which what does did do is was has have after before considering according the a an
    based between both in on of
    """.split()
)


# -- topics ----------------------------------------------------------------------------------


def question_names(question: str, outlets: Iterable[str]) -> str:
    """The names topic of a question: its runs of capitalised words, the outlets it cites,
    month names and opening question words left out, at most MAX_NAMES distinct runs."""
    text = question
    for outlet in sorted(set(outlets), key=len, reverse=True):
        text = re.sub(r"['\"‘’“”]?" + re.escape(outlet) + r"['\"‘’“”]?", " | ", text)
    runs: list[str] = []
    current: list[str] = []
    tokens = list(re.finditer(r"[\w'’&-]+|[^\w\s]", text))
    for i, token in enumerate(tokens):
        word = re.sub(r"['’]s$", "", token.group())
        first = i == 0 or tokens[i - 1].group() in ".?!|"
        if (
            word[:1].isupper()
            and word.lower() not in MONTHS
            and not (first and word.lower() in OPENERS)
        ):
            current.append(word)
        else:
            if current:
                runs.append(" ".join(current))
            current = []
    if current:
        runs.append(" ".join(current))
    distinct: list[str] = []
    for run in runs:
        if run not in distinct and run.lower() not in OPENERS:
            distinct.append(run)
    return " ".join(distinct[:MAX_NAMES])


# -- measures --------------------------------------------------------------------------------


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (0, 1 when nothing was measured)."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def pooled_gold(topics: Sequence[str], gold: np.ndarray) -> np.ndarray:
    """gold[t] or'ed with the gold of every topic whose words include all of t's."""
    words = [frozenset(tokenize(t)) for t in topics]
    pooled = gold.copy()
    for i, own in enumerate(words):
        if not own:
            continue
        for j, other in enumerate(words):
            if j != i and own <= other:
                pooled[i] |= gold[j]
    return pooled


def precision_recall(accepted: np.ndarray, gold: np.ndarray) -> dict:
    pushes = int(accepted.sum())
    correct = int((accepted & gold).sum())
    low, high = wilson(correct, pushes)
    return {
        "pushes": pushes,
        "precision": round(correct / pushes, 3) if pushes else None,
        "ci95": [round(low, 3), round(high, 3)],
        "recall": round(correct / int(gold.sum()), 4) if gold.any() else None,
    }


def judged(
    accepted: np.ndarray,
    topics: Sequence[str],
    titles: Sequence[str],
    labels: Sequence[tuple[str, str, bool]],
) -> dict:
    """Precision over the judged pushes that `accepted` contains (a pair drawn twice, from
    two questions with the same names topic, counts twice, as it was drawn)."""
    row = {t: i for i, t in enumerate(titles)}
    rows_of: dict[str, list[int]] = {}
    for q, topic in enumerate(topics):
        rows_of.setdefault(topic, []).append(q)
    verdicts = [
        ok
        for topic, title, ok in labels
        if title in row and any(accepted[q, row[title]] for q in rows_of.get(topic, ()))
    ]
    low, high = wilson(sum(verdicts), len(verdicts))
    return {
        "judged": len(verdicts),
        "precision": round(sum(verdicts) / len(verdicts), 3) if verdicts else None,
        "ci95": [round(low, 3), round(high, 3)],
    }


# -- scoring with the bot's matcher ----------------------------------------------------------


@dataclass
class Corpus:
    """The live articles as the follow service sees stories: titles, openings, vectors, words."""

    titles: list[str]
    sources: list[str]
    openings: list[str]
    vectors: list[np.ndarray]  # each article's passage vectors
    words: list[frozenset[str]]


def load_corpus(runtime: Runtime) -> Corpus:
    """Each live article as the follow service sees a story: its stored passage vectors and
    the words of its title and passages."""
    store = runtime.store
    corpus = Corpus([], [], [], [], [])
    for article in store.live_articles(store.require()):
        fetched = store.fetch(article.passage_ids(), vectors=True)
        texts = [r.text for r in fetched.values()]
        corpus.titles.append(article.title)
        corpus.sources.append(article.source)
        corpus.openings.append(texts[0][:200] if texts else "")
        corpus.vectors.append(np.vstack([r.vector for r in fetched.values()]))
        corpus.words.append(story_words([article.title, *texts]))
    return corpus


def scores(runtime: Runtime, topics: Sequence[str], corpus: Corpus) -> tuple:
    """score[t, a], dense[t, a] from `match_topics`, the shipped matcher, per article."""
    vectors = runtime.model.encode(list(topics))
    terms = [topic_terms(t) for t in topics]
    score = np.zeros((len(topics), len(corpus.titles)), dtype=np.float32)
    dense = np.zeros_like(score)
    for a, (passages, words) in enumerate(zip(corpus.vectors, corpus.words, strict=True)):
        found = match_topics(vectors, terms, passages, words)
        score[:, a] = [m.score for m in found]
        dense[:, a] = [m.dense for m in found]
    return score, dense


def accepted(score: np.ndarray, dense: np.ndarray, params: MatchParams) -> np.ndarray:
    """`Match.accepted` over the matrices (the same two comparisons)."""
    return (dense >= params.min_dense) & (score >= params.threshold)


# -- the run ---------------------------------------------------------------------------------


def load_labels(path: Path, split: str) -> list[tuple[str, str, bool]]:
    """The judged pushes of one split's sample: (topic, article title, about the topic)."""
    if not path.exists():
        return []
    return [
        (j["topic"], j["title"], bool(j["about"]))
        for j in json.loads(path.read_text())
        if j["split"] == split
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sample", type=int, default=0, help="print N pushes to judge")
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--form", choices=("question", "names"), default="names")
    parser.add_argument("--floor", type=float, default=1.00, help="lowest score sampled")
    args = parser.parse_args(argv)
    started = time.monotonic()
    runtime = Runtime(Settings())
    corpus = load_corpus(runtime)
    row_of = {t: i for i, t in enumerate(corpus.titles)}
    outlets = {s for s in corpus.sources if s != "seed"}
    queries = json.loads((args.dataset / "MultiHopRAG.json").read_text())
    shipped = MatchParams()
    results: dict = {"articles": len(corpus.titles), "shipped": vars(shipped)}
    for split in ("dev", "test"):
        labels = load_labels(JUDGEMENTS, split)
        picked = [
            q
            for i, q in enumerate(queries)
            if q["question_type"] != "null_query"
            and q["evidence_list"]
            and (i % 5 == 0) == (split == "test")
        ]
        for form in ("question", "names"):
            if args.sample and (split, form) != (args.split, args.form):
                continue
            topics = [
                q["query"] if form == "question" else question_names(q["query"], outlets)
                for q in picked
            ]
            keep = [i for i, t in enumerate(topics) if t]
            topics = [topics[i] for i in keep]
            gold = np.zeros((len(topics), len(corpus.titles)), dtype=bool)
            for row, i in enumerate(keep):
                for evidence in picked[i]["evidence_list"]:
                    if evidence["title"] in row_of:
                        gold[row, row_of[evidence["title"]]] = True
            score, dense = scores(runtime, topics, corpus)
            if args.sample:
                print_sample(args, score, dense, gold, topics, corpus, labels)
                return 0
            pooled = pooled_gold(topics, gold) if form == "names" else None
            curve = []
            for threshold in GRID:
                take = accepted(score, dense, MatchParams(threshold, shipped.min_dense))
                point = {
                    "threshold": threshold,
                    "strict": precision_recall(take, gold),
                    "topics_with_a_push": int(take.any(axis=1).sum()),
                }
                if pooled is not None:
                    point["pooled"] = precision_recall(take, pooled)
                point["judged"] = judged(take, topics, corpus.titles, labels)
                curve.append(point)
            take = accepted(score, dense, shipped)
            result = {
                "topics": len(topics),
                "gold_pairs": int(gold.sum()),
                "shipped": {
                    "strict": precision_recall(take, gold),
                    "topics_with_a_push": int(take.any(axis=1).sum()),
                },
            }
            result["shipped"]["judged"] = judged(take, topics, corpus.titles, labels)
            if pooled is not None:
                result["shipped"]["pooled"] = precision_recall(take, pooled)
            if split == "dev":
                result["curve"] = curve
            results[f"{split}_{form}"] = result
    results["seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key}: {json.dumps(value)}")
    return 0


def print_sample(args, score, dense, gold, topics, corpus: Corpus, labels: list) -> None:
    """A seeded uniform sample of the pushes scoring at least --floor, as JSON lines to judge
    (an `about` to fill in; pairs judged already are marked)."""
    take = accepted(score, dense, MatchParams(args.floor, MatchParams().min_dense))
    rows, cols = np.nonzero(take)
    rng = np.random.default_rng(11 if args.split == "dev" else 12)
    picks = rng.choice(len(rows), size=min(args.sample, len(rows)), replace=False)
    for k in sorted(picks, key=lambda k: -score[rows[k], cols[k]]):
        t, a = rows[k], cols[k]
        line = {
            "topic": topics[t],
            "title": corpus.titles[a],
            "split": args.split,
            "score": round(float(score[t, a]), 3),
            "gold": bool(gold[t, a]),
            "source": corpus.sources[a],
            "opening": corpus.openings[a],
            "about": next(
                (ok for tp, tt, ok in labels if (tp, tt) == (topics[t], corpus.titles[a])), None
            ),
        }
        print(json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
