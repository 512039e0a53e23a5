"""Stories and timelines, measured: grouping quality, its cost per ingest, timeline quality, and
disputed-fact detection, on the hand-made Serra Valley process mixed into MultiHop-RAG.

    python -m bench.stories --index /work/indexes/multihop [--work /tmp/stories-bench]

`--index` is a data directory holding MultiHop-RAG's corpus.json and the seed ingested with
the default settings and no stories yet (an index of before stories; it is copied, never
written). The run:

1. ingests tests/fixtures/stories/serra_valley.jsonl into the copy: the 610 stored articles get
   their stories backfilled from stored vectors (nothing embedded again) and the 12 new ones
   join or start stories; then one new wire copy and one unrelated article, each on its own:
   the stories stage's seconds per run show that the cost follows what changed;
2. scores the stories the ingest stored (B-cubed purity/completeness against hand labels: the
   Serra Valley events and two MultiHop-RAG stories labelled by hand, the OpenAI leadership
   crisis and the FTX trial), intrusions (other articles in Serra Valley stories), and weak
   MultiHop-RAG pairs (different outlets' articles in one dev question's evidence);
3. replays the grouping in memory (exact neighbours, same rules) over a grid of thresholds and
   windows, to show where the shipped ones sit (dev questions only for the weak pairs);
4. scores timelines of Serra Valley topics over a grid of similarity thresholds (coverage,
   precision, order, folding), and the recall of dev questions' gold articles in the timeline
   of the question;
5. asks the answerer a labelled set of questions with and without a disputed figure and counts
   "Reports differ".
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.runtime import Runtime
from bot.settings import Settings
from ingest.sources import spec_from_argument
from retrieval.eval.scoring import load_queries, split_queries
from retrieval.eval.story_scoring import bcubed, pair_recall, score_timeline
from retrieval.stories.story import StoryParams, assign_stories, jaccard
from retrieval.stories.timeline import TimelineParams, fold_events, on_topic, timeline_topic
from retrieval.types import ArticleRecord

ROOT = Path(__file__).resolve().parents[1]
SERRA = ROOT / "tests" / "fixtures" / "stories" / "serra_valley.jsonl"
DATASET = ROOT.parent / "shared" / "data" / "multihop-rag"

# Hand labels, by title. Serra Valley: which event each article reports (the monitoring
# mission and its size are one; the Alliance's acceptance and withdrawal are one).
SERRA_EVENTS = {
    "Mediators announce Serra Valley peace talks in Port Alva": "announced",
    "Truce monitors head for the Serra Valley": "monitors",
    "Serra Valley: ceasefire mission to deploy next week": "monitors",
    "Lake Council mission to watch over Serra Valley truce": "monitors",
    "Observers for the Serra Valley ceasefire named": "monitors",
    "Small team to watch fragile Serra Valley truce": "monitors",
    "Northern Alliance accepts invitation to Port Alva": "alliance",
    "Northern Alliance pulls out of Serra Valley talks": "alliance",
    "Families wait to return to Serra Valley villages": "families",
    "Serra Valley talks open without the Northern Alliance": "opening",
    "Prisoner exchange agreed at Port Alva": "prisoners",
    "Second round of Serra Valley talks set for April": "second round",
}
WIRE = {
    "Truce monitors head for the Serra Valley",
    "Serra Valley: ceasefire mission to deploy next week",
    "Lake Council mission to watch over Serra Valley truce",
}
# MultiHop-RAG articles labelled by hand (title prefixes): two stories of many outlets.
MULTIHOP_STORIES = {
    "openai": [
        "Sam Altman ousted as OpenAI",
        "OpenAI's ex-chairman accuses board",
        "WTF is going on at OpenAI",
        "A timeline of Sam Altman",
        "How the OpenAI fiasco could bolster Meta",
    ],
    "ftx trial": [
        "SBF Trial: The latest updates",
        "SBF’s trial starts soon",
        "Is Sam Bankman-Fried a bad",
        "The jury finally hears from Sam Bankman-Fried",
        "Sam Bankman-Fried didn’t ask where",
        "In the end, the FTX trial was about",
        "Is Sam Bankman-Fried’s defense even trying",
        "The FTX trial is bigger than Sam Bankman-Fried",
        "Sex, Signal messages, and sabotaging FTX",
        "How is it still getting worse for Sam Bankman-Fried",
        "Today the FTX jury suffered through a code review",
    ],
}
TOPICS = [
    "Serra Valley talks",
    "timeline of the Serra Valley peace process",
    "What has happened in the Serra Valley?",
    "Northern Alliance and the Port Alva talks",
]
# (question, does it have a disputed figure?)
DISPUTES = [
    ("How many observers will monitor the Serra Valley ceasefire?", True),
    ("How big is the Serra Valley ceasefire monitoring team?", True),
    ("When will the ceasefire monitoring mission deploy in the Serra Valley?", False),
    ("How many prisoners will be exchanged under the Port Alva deal?", False),
    ("When do the Serra Valley talks open?", False),
    ("When is the second round of the Serra Valley talks?", False),
    ("Who is invited to Moscow?", False),
]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ingest_one(runtime: Runtime, article: dict, folder: Path, name: str) -> dict:
    path = folder / f"{name}.jsonl"
    path.write_text(json.dumps(article) + "\n")
    report = runtime.ingest([spec_from_argument(str(path))])
    return {"stories_s": report.stages.get("stories", 0.0), **report.stories}


def simulate(
    live: list[ArticleRecord],
    vectors: dict[str, np.ndarray],
    openings: dict[str, str],
    params: StoryParams,
) -> dict[str, str]:
    """The ingest's grouping replayed in memory: exact nearest articles in the window."""
    keys = [a.key for a in live]
    matrix = np.stack([vectors[k] for k in keys])
    stamps = np.array([a.published_ts if a.published_ts is not None else np.nan for a in live])
    index = {a.article_id: i for i, a in enumerate(live)}
    span = params.window_days * 86400.0

    def candidates(article: ArticleRecord) -> list[tuple[str, float, bool]]:
        i = index[article.article_id]
        sims = matrix @ matrix[i]
        if article.published_ts is not None:
            near = np.abs(stamps - article.published_ts) <= span
            sims = np.where(near, sims, -2.0)
        order = np.argsort(-sims)[: params.neighbours + 1]
        out = []
        for j in order:
            if sims[j] <= -2.0 or j == i:
                continue
            copy = sims[j] >= 0.5 and jaccard(openings[keys[i]], openings[keys[j]]) >= 0.5
            out.append((live[j].article_id, float(sims[j]), bool(copy)))
        return out

    return assign_stories(live, candidates, {}, params)


def story_scores(
    predicted: dict[str, str],
    live: list[ArticleRecord],
    weak_pairs: list[tuple[str, str]],
) -> dict:
    by_title = {a.title: a for a in live}
    serra_gold = {by_title[t].article_id: e for t, e in SERRA_EVENTS.items() if t in by_title}
    hand_gold = {}
    for label, prefixes in MULTIHOP_STORIES.items():
        for prefix in prefixes:
            match = [a for a in live if a.title.startswith(prefix)]
            if match:
                hand_gold[match[0].article_id] = label
    serra_stories = {predicted[i] for i in serra_gold}
    intruders = [
        a
        for a in live
        if predicted[a.article_id] in serra_stories and a.article_id not in serra_gold
    ]
    wire_ids = {by_title[t].article_id for t in WIRE if t in by_title}
    counts: dict[str, int] = {}
    for story in predicted.values():
        counts[story] = counts.get(story, 0) + 1
    sizes = list(counts.values())
    s, h = bcubed(predicted, serra_gold), bcubed(predicted, hand_gold)
    return {
        "serra_purity": round(s.precision, 3),
        "serra_completeness": round(s.recall, 3),
        "wire_one_story": len({predicted[i] for i in wire_ids}) == 1,
        "intruders": len(intruders),
        "hand_purity": round(h.precision, 3),
        "hand_completeness": round(h.recall, 3),
        "weak_pair_recall": round(pair_recall(predicted, weak_pairs), 3),
        "stories": len(sizes),
        "singletons": round(sum(1 for n in sizes if n == 1) / len(sizes), 3),
        "largest": max(sizes),
    }


def weak_pairs(live: list[ArticleRecord]) -> list[tuple[str, str]]:
    by_title = {a.title: a for a in live}
    pairs = set()
    for query in split_queries(load_queries(DATASET), "dev"):
        found = [by_title[e.title] for e in query.evidence if e.title in by_title]
        for i, a in enumerate(found):
            for b in found[i + 1 :]:
                if a.source != b.source and a.article_id != b.article_id:
                    pairs.add(tuple(sorted((a.article_id, b.article_id))))
    return sorted(pairs)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/stories-bench"))
    parser.add_argument("--questions", type=int, default=150, help="dev questions for timelines")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    shutil.copytree(args.index, args.work / "data")
    settings = Settings(data_dir=args.work / "data")
    runtime = Runtime(settings)
    store = runtime.store

    # 1. Stories at ingest, and what they cost.
    began = time.monotonic()
    first = runtime.ingest([spec_from_argument(str(SERRA))])
    print(
        f"ingest of serra_valley into the MultiHop index: {time.monotonic() - began:.1f} s; "
        f"stories stage {first.stages.get('stories', 0):.2f} s, {first.stories}, "
        f"embedded {first.embedded} (the 12 new articles' passages only)"
    )
    serra = [json.loads(line) for line in SERRA.read_text().splitlines() if line.strip()]
    wire = next(a for a in serra if a["title"] in WIRE)
    runs = []
    for n in range(3):
        copy = dict(
            wire,
            source=f"Copy Outlet {n}",
            title=f"Mission to the Serra Valley front, report {n}",
            url=f"https://copy{n}.example/mission",
        )
        runs.append(ingest_one(runtime, copy, args.work, f"copy{n}"))
        other = {
            "title": f"Harbour cranes upgraded, part {n}",
            "body": "The port authority installed two new cranes this week. " * 5,
            "source": "Port News",
            "published_at": "2023-11-20T10:00:00Z",
            "url": f"https://port.example/cranes{n}",
        }
        runs.append(ingest_one(runtime, other, args.work, f"other{n}"))
    print(
        "one new article per ingest: stories stage median "
        f"{median([r['stories_s'] for r in runs]):.3f} s over {len(runs)} runs "
        f"(copies joined an existing story: {[r['updated'] for r in runs[::2]]}; "
        f"unrelated ones started one: {[r['new'] for r in runs[1::2]]})"
    )

    live = [a for a in store.live_articles() if not a.title.startswith(("Mission to", "Harbour"))]
    keys = [a.key for a in live]
    got = store.article_vectors_collection().get(ids=keys, include=["embeddings"])
    vectors = {
        k: np.asarray(v, dtype=np.float32)
        for k, v in zip(got["ids"], got["embeddings"], strict=True)
    }
    rows = store.fetch(f"{k}:0" for k in keys)
    openings = {k: rows[f"{k}:0"].text if f"{k}:0" in rows else "" for k in keys}
    pairs = weak_pairs(live)

    # 2. The stories the ingest stored.
    stored = {a.article_id: a.story_id or a.article_id for a in live}
    print(f"\nstored stories (shipped {StoryParams()}), {len(pairs)} weak pairs:")
    print(json.dumps(story_scores(stored, live, pairs)))

    # 3. The grid, replayed in memory.
    print("\nsame_event window | serra P/R | wire | intruders | hand P/R | weak | stories single")
    for window in (3.0, 7.0, 14.0):
        for same in (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9):
            params = replace(StoryParams(), same_event=same, window_days=window)
            s = story_scores(simulate(live, vectors, openings, params), live, pairs)
            print(
                f"{same:.2f} {window:>4.0f} d | "
                f"{s['serra_purity']:.3f}/{s['serra_completeness']:.3f}"
                f" | {s['wire_one_story']!s:5} | {s['intruders']:3d} | "
                f"{s['hand_purity']:.3f}/{s['hand_completeness']:.3f} | "
                f"{s['weak_pair_recall']:.3f} | {s['stories']} {s['singletons']:.2f}"
            )

    # 4. Timelines.
    retriever = runtime.retriever
    catalog = retriever.catalog()
    by_title = {a.title: a for a in catalog.articles.values()}
    events = {}
    for title in SERRA_EVENTS:
        if title in by_title:  # each report its own event; the wire copies one
            events[by_title[title].article_id] = "wire" if title in WIRE else title
    for article in catalog.articles.values():  # the copies step 1 added
        if article.title.startswith("Mission to the Serra Valley front"):
            events[article.article_id] = "wire"
    print("\ntimelines of Serra Valley topics: min_similarity | coverage precision ordered folded")
    hits = {topic: retriever.search(timeline_topic(topic) or topic, 40) for topic in TOPICS}
    rows_by_key = store.fetch(a.passage_id(0) for a in catalog.articles.values())
    opening_of = {
        a.key: rows_by_key[a.passage_id(0)].text
        for a in catalog.articles.values()
        if a.passage_id(0) in rows_by_key
    }
    for threshold in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55):
        scores = []
        for topic in TOPICS:
            members = on_topic(hits[topic], catalog.articles, threshold)
            entries = fold_events((a, opening_of.get(a.key, "")) for a in members)
            scores.append(
                score_timeline(
                    [(e.date, [c.article_id for c in e.citations]) for e in entries], events
                )
            )
        print(
            f"{threshold:.2f} | {statistics.mean(s.coverage for s in scores):.3f} "
            f"{statistics.mean(s.precision for s in scores):.3f} "
            f"{all(s.ordered for s in scores)} {all(s.folded for s in scores)}"
            + ("  <- shipped" if threshold == TimelineParams().min_similarity else "")
        )
    control = on_topic(
        retriever.search("Russia's Moscow conference on Afghan peace", 40),
        catalog.articles,
        TimelineParams().min_similarity,
    )
    print(
        "control topic (the Moscow conference): Serra Valley articles in its timeline:",
        sum(a.article_id in events for a in control),
    )
    dev = [q for q in split_queries(load_queries(DATASET), "dev") if q.evidence]
    dev = dev[: args.questions]
    print(
        f"\nMultiHop-RAG dev questions ({len(dev)}) as timeline topics: "
        "gold article recall, articles"
    )
    for threshold in (0.3, 0.4, 0.45, 0.5):
        recalls: list[float] = []
        sizes: list[float] = []
        for q in dev:
            found = on_topic(retriever.search(q.query, 40), catalog.articles, threshold)
            titles = {a.title for a in found}
            gold = {e.title for e in q.evidence}
            recalls.append(len(gold & titles) / len(gold))
            sizes.append(len(found))
        print(
            f"{threshold:.2f} | recall {statistics.mean(recalls):.3f} | "
            f"articles median {median(sizes)}"
        )

    # 5. Disputed facts.
    answerer = runtime.answerer
    hits_d = misses = false_alarms = clean = 0
    for question, disputed in DISPUTES:
        text = answerer.answer(question).text
        differ = "Reports differ" in text
        if disputed:
            hits_d += differ
            misses += not differ
        else:
            false_alarms += differ
            clean += not differ
    print(
        f"\ndisputed facts: detected {hits_d}/{hits_d + misses}; "
        f"false alarms {false_alarms}/{false_alarms + clean}"
    )
    runtime.close()


if __name__ == "__main__":
    main()
