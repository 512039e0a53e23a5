"""The encoder backends side by side: torch, onnx (fp32) and onnx-int8, one run, same texts.

In one process (`python -m bench.encoder`): chunks the first articles of MultiHop-RAG's
corpus.json as an ingest does (128 word pieces, the title before each passage), then in rounds
of `--batch` passages runs each backend's `encode_with_sentences` (what an ingest calls), the
order rotating each round, and times one-question `encode` calls the same way. Prints medians:
passages per second, ms per question, and each backend's vectors against torch's (cosine mean
and min over every passage). `--encoder-batches 8,32,128` also times the ONNX backends at those
internal batch sizes (what NEWSBOT ingest batches into the model).

Whole processes (`--whole`): for each backend in turn, rounds alternating, a first
`newsbot ingest` of the first `--articles` corpus articles into a fresh data dir, and a cold
`newsbot ask` on an index of the seed; medians and the ratio to torch.

    python -m bench.encoder [--passages 256] [--batch 64] [--encoder-batches 8,32,128]
    python -m bench.encoder --whole [--articles 150] [--rounds 2]

The ONNX exports are made beforehand (NEWSBOT_ENCODER_CACHE); on a shared machine quote the
medians and ratios, with the load average printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.settings import Settings
from ingest.chunking import chunk_text
from retrieval.embedding import BACKENDS, BUNDLED_MODEL, choose_encoder, load_encoder
from retrieval.sentences import split_sentences

CORPUS = Path("../shared/data/multihop-rag/corpus.json")
QUERIES = Path("../shared/data/multihop-rag/MultiHopRAG.json")
SEED = Path("samples/000_fea4cf2722b2191c.txt")


def passages(corpus: Path, count: int, count_tokens) -> list[tuple[str, list[tuple[int, int]]]]:
    """(embedded text, sentence spans in it) of the first `count` passages of the corpus."""
    found: list[tuple[str, list[tuple[int, int]]]] = []
    for article in json.loads(corpus.read_text(encoding="utf-8")):
        prefix = article["title"] + "\n"
        for chunk in chunk_text(article["body"], count_tokens=count_tokens, budget=230, target=128):
            spans = [
                (s.start + len(prefix), s.end + len(prefix)) for s in split_sentences(chunk.text)
            ]
            found.append((prefix + chunk.text, spans))
            if len(found) == count:
                return found
    return found


def questions(path: Path, count: int) -> list[str]:
    return [q["query"] for q in json.loads(path.read_text(encoding="utf-8"))[:count]]


def in_process(args: argparse.Namespace) -> None:
    cache = Settings().encoder_cache_dir
    encoders = {b: load_encoder(choose_encoder(BUNDLED_MODEL, b, cache)) for b in BACKENDS}
    items = passages(args.corpus, args.passages, encoders["torch"].count_tokens)
    asked = questions(args.queries, args.questions)
    load_before = os.getloadavg()[0]
    for encoder in encoders.values():
        encoder.encode_with_sentences([items[0][0]], [items[0][1]])  # warm up
    rates: dict[str, list[float]] = {b: [] for b in BACKENDS}
    vectors: dict[str, list[np.ndarray]] = {b: [] for b in BACKENDS}
    for round_number, start in enumerate(range(0, len(items), args.batch)):
        group = items[start : start + args.batch]
        order = BACKENDS[round_number % 3 :] + BACKENDS[: round_number % 3]
        for backend in order:
            t0 = time.perf_counter()
            got, _ = encoders[backend].encode_with_sentences(
                [t for t, _ in group], [s for _, s in group]
            )
            rates[backend].append(len(group) / (time.perf_counter() - t0))
            vectors[backend].append(got)
    query_ms: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for i, question in enumerate(asked):
        for backend in BACKENDS[i % 3 :] + BACKENDS[: i % 3]:
            t0 = time.perf_counter()
            encoders[backend].encode([question])
            query_ms[backend].append((time.perf_counter() - t0) * 1000)
    print(
        f"{len(items)} passages in rounds of {args.batch}, {len(asked)} questions; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after; {os.cpu_count()} cores"
    )
    reference = np.vstack(vectors["torch"])
    base = statistics.median(rates["torch"])
    print("backend     passages/s  vs torch  query ms  cosine to torch (mean / min)")
    for backend in BACKENDS:
        cosines = (np.vstack(vectors[backend]) * reference).sum(axis=1)
        rate = statistics.median(rates[backend])
        query = statistics.median(query_ms[backend])
        print(
            f"{backend:10} {rate:11.1f} {rate / base:8.2f}x {query:9.1f}"
            f"  {cosines.mean():.5f} / {cosines.min():.5f}"
        )
    if args.encoder_batches:
        batch_sizes(encoders, items, [int(b) for b in args.encoder_batches.split(",")])


def batch_sizes(encoders: dict, items: list, sizes: list[int]) -> None:
    """Passages per second of the ONNX backends at each internal batch size, rotating."""
    texts, spans = [t for t, _ in items], [s for _, s in items]
    rates: dict[tuple[str, int], list[float]] = {}
    for repeat in range(3):
        for size in sizes[repeat % len(sizes) :] + sizes[: repeat % len(sizes)]:
            for backend in ("onnx", "onnx-int8"):
                encoders[backend].batch_size = size
                t0 = time.perf_counter()
                encoders[backend].encode_with_sentences(texts, spans)
                rates.setdefault((backend, size), []).append(
                    len(texts) / (time.perf_counter() - t0)
                )
    for (backend, size), values in sorted(rates.items()):
        rate = statistics.median(values)
        print(f"{backend:10} batch {size:4}: {rate:7.1f} passages/s (median of 3)")


def run_timed(command: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - t0


def whole_process(args: argparse.Namespace) -> None:
    """First ingest of `--articles` articles and a cold ask on the seed, per backend."""
    cli = [sys.executable, "-m", "bot.cli"]
    work = Path(tempfile.mkdtemp(prefix="bench-encoder-"))
    subset = work / "corpus.json"
    subset.write_text(json.dumps(json.loads(args.corpus.read_text())[: args.articles]))
    ingest_s: dict[str, list[float]] = {b: [] for b in BACKENDS}
    ask_s: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for round_number in range(args.rounds):
        order = BACKENDS[round_number % 3 :] + BACKENDS[: round_number % 3]
        for backend in order:
            env = {**os.environ, "NEWSBOT_ENCODER_BACKEND": backend}
            env["NEWSBOT_DATA_DIR"] = str(work / f"{backend}-{round_number}")
            ingest_s[backend].append(run_timed([*cli, "ingest", str(subset)], env))
            env["NEWSBOT_DATA_DIR"] = str(work / f"seed-{backend}")
            if round_number == 0:
                run_timed([*cli, "ingest", str(SEED)], env)
            ask_s[backend].append(run_timed([*cli, "ask", "Who is invited to Moscow?"], env))
    print(
        f"{args.articles} articles, {args.rounds} rounds alternating; load {os.getloadavg()[0]:.1f}"
    )
    base = statistics.median(ingest_s["torch"])
    for backend in BACKENDS:
        ingest = statistics.median(ingest_s[backend])
        print(
            f"{backend:10} first ingest {ingest:6.1f} s ({base / ingest:.2f}x torch's speed); "
            f"cold ask {statistics.median(ask_s[backend]):5.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--encoder-batches", default="")
    parser.add_argument("--whole", action="store_true")
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    whole_process(args) if args.whole else in_process(args)


if __name__ == "__main__":
    main()
