"""What sentence vectors cost an ingest: the model pass with and without them, one run.

Chunks the first articles of MultiHop-RAG's corpus.json as an ingest does (128 word pieces,
the title before each passage), then times, in alternating rounds of `--batch` passages:
`encode(texts)` (today's ingest) and `encode_with_sentences(texts, spans)` (the same pass
keeping the word-piece vectors, pooled per sentence: retrieval.sentence_vectors), plus packing
them as stored. Prints the median seconds per 1,000 passages of each and their ratio, and the
stored size per passage.

    python -m bench.sentence_vectors [--passages 512] [--batch 128]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from ingest.chunking import chunk_text
from retrieval.embedding import load_embedder
from retrieval.sentence_vectors import pack
from retrieval.sentences import split_sentences


def passages(corpus: Path, count: int, count_tokens) -> list[tuple[str, str]]:
    """(embedded text, passage text) of the first `count` passages of the corpus."""
    found: list[tuple[str, str]] = []
    for article in json.loads(corpus.read_text(encoding="utf-8")):
        prefix = article["title"] + "\n"
        for chunk in chunk_text(article["body"], count_tokens=count_tokens, budget=230, target=128):
            found.append((prefix + chunk.text, chunk.text))
            if len(found) == count:
                return found
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=Path("../shared/data/multihop-rag/corpus.json")
    )
    parser.add_argument("--passages", type=int, default=512)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    model = load_embedder()
    items = passages(args.corpus, args.passages, model.count_tokens)
    load_before = os.getloadavg()[0]

    def spans_of(embedded: str, text: str) -> list[tuple[int, int]]:
        shift = len(embedded) - len(text)
        return [(s.start + shift, s.end + shift) for s in split_sentences(text)]

    model.encode([items[0][0]])  # warm up
    plain: list[float] = []
    with_sentences: list[float] = []
    sizes: list[int] = []
    for i in range(0, len(items), args.batch):
        group = items[i : i + args.batch]
        texts = [embedded for embedded, _ in group]
        spans = [spans_of(embedded, text) for embedded, text in group]
        order = ["plain", "sentences"] if (i // args.batch) % 2 == 0 else ["sentences", "plain"]
        for name in order:
            t0 = time.perf_counter()
            if name == "plain":
                model.encode(texts)
                plain.append((time.perf_counter() - t0) / len(group) * 1000)
            else:
                _, pooled = model.encode_with_sentences(texts, spans)
                packed = [
                    pack([(a - (len(e) - len(t)), b - (len(e) - len(t))) for a, b in s], v)
                    for (e, t), s, v in zip(group, spans, pooled, strict=True)
                ]
                with_sentences.append((time.perf_counter() - t0) / len(group) * 1000)
                sizes.extend(len(p) for p in packed)
    print(
        f"{len(items)} passages in rounds of {args.batch}; load average {load_before:.1f} "
        f"before, {os.getloadavg()[0]:.1f} after"
    )
    base = statistics.median(plain)
    extra = statistics.median(with_sentences)
    print(f"encode(texts)                        {base:8.2f} s per 1,000 passages (median round)")
    print(f"encode_with_sentences + pack         {extra:8.2f} s per 1,000 passages")
    print(f"ratio with / without sentence vectors {extra / base:.2f}")
    print(f"stored per passage: median {statistics.median(sizes):.0f} characters")


if __name__ == "__main__":
    main()
