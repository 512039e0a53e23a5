"""Hostile input stays near-linear: time on N bytes against time on N/10, same run.

For the sentence splitter (runs that once made a backtracking regex quadratic: 20 KB of dots
took 8 s), the chunker on a line with no sentence end (with the bundled model's tokenizer up to
the article cap, and a word counter on 20 MB), and the file readers on hostile files. A ratio
near 10 (ten times the input, ten times the time) is linear; a quadratic step would show 100.

    python -m bench.hostile [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot.runtime import Runtime
from bot.settings import Settings
from ingest.chunking import chunk_text
from ingest.files import read_path
from retrieval.sentences import split_sentences

UNITS = [".", "!?", ". a", "…”) ", "Mr. ", "A. "]


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def row(label: str, small: float, big: float) -> None:
    print(f"| {label} | {small:.3f} | {big:.3f} | {big / small:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print("| input | seconds on N/10 (median) | seconds on N (median) | ratio |")
    print("| --- | --- | --- | --- |")
    for unit in UNITS:
        small, big = unit * (200_000 // len(unit)), unit * (2_000_000 // len(unit))
        row(
            f"split_sentences, {unit!r} repeated to 2 MB",
            median_seconds(lambda s=small: split_sentences(s), args.repeat),
            median_seconds(lambda b=big: split_sentences(b), args.repeat),
        )

    encoder = Runtime(Settings(_env_file=None)).model
    count = encoder.count_tokens
    # The model's tokenizer on one line without a sentence end, at the article cap (200,000
    # characters) and a tenth of it; the words-split counter on the whole 20 MB line.
    small_line, big_line = "word " * 4_000, "word " * 40_000

    def chunk(line: str, counter=count) -> object:
        return chunk_text(line, count_tokens=counter, budget=256, target=128)

    row(
        "chunk_text, one 200 KB line without a sentence end (model tokenizer)",
        median_seconds(lambda: chunk(small_line), args.repeat),
        median_seconds(lambda: chunk(big_line), args.repeat),
    )

    def words(texts: list[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    row(
        "chunk_text, one 20 MB line without a sentence end (words counted)",
        median_seconds(lambda: chunk("word " * 400_000, words), args.repeat),
        median_seconds(lambda: chunk("word " * 4_000_000, words), args.repeat),
    )

    with tempfile.TemporaryDirectory() as folder:
        small_dir, big_dir = Path(folder) / "small", Path(folder) / "big"
        for target, scale in ((small_dir, 1), (big_dir, 10)):
            target.mkdir()
            rng = random.Random(12)
            for i in range(scale):
                (target / f"random-{i}.txt").write_bytes(rng.randbytes(100_000))
                (target / f"deep-{i}.json").write_text("[" * 100_000 + "]" * 100_000)
                (target / f"deep-{i}.html").write_text(
                    "<html><head><title>Deep</title></head><body>"
                    + "<div>" * 100_000
                    + "</div>" * 100_000
                    + "</body></html>"
                )
                (target / f"long-{i}.md").write_text("# Long\n\n" + "word " * 400_000)
        row(
            "read_path, hostile files ×1 and ×10",
            median_seconds(lambda: read_path(small_dir), args.repeat),
            median_seconds(lambda: read_path(big_dir), args.repeat),
        )


if __name__ == "__main__":
    main()
