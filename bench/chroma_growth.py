"""Chroma's size on disk after many small ingests against one ingest of the same articles.

chromadb users report an index growing to hundreds of GB under many small upserts (1.5.7); an
ingest here writes a new generation and retires the old one each time. This reads the first N
articles of a JSON corpus, writes each to its own JSONL file, and ingests them into two fresh
data directories: all at once, and one ingest per article (N ingests). It prints the size on
disk of each data directory (and of its Chroma files) and the ratio.

    python -m bench.chroma_growth [--corpus FILE] [--articles N]

Defaults: ../shared/data/multihop-rag/corpus.json, 200 articles.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from bot.runtime import Runtime
from bot.settings import Settings
from ingest.sources import spec_from_argument

DEFAULT_CORPUS = "../shared/data/multihop-rag/corpus.json"


def size_on_disk(root: Path) -> int:
    return sum(f.stat().st_blocks * 512 for f in root.rglob("*") if f.is_file())


def ingest_into(data_dir: Path, batches: list[list[Path]]) -> float:
    """Ingest each batch of files in turn into `data_dir` (one Runtime); the seconds taken."""
    os.environ["NEWSBOT_DATA_DIR"] = str(data_dir)
    runtime = Runtime(Settings())
    started = time.monotonic()
    try:
        for i, batch in enumerate(batches, start=1):
            runtime.ingest([spec_from_argument(str(p)) for p in batch])
            if i % 20 == 0:
                print(f"  {i}/{len(batches)} ingests, {size_on_disk(data_dir) / 1e6:.1f} MB")
    finally:
        runtime.close()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--articles", type=int, default=200)
    args = parser.parse_args()
    records = json.loads(Path(args.corpus).read_text(encoding="utf-8"))[: args.articles]
    root = Path(tempfile.mkdtemp(prefix="chroma-growth-"))
    files = []
    for i, record in enumerate(records):
        path = root / "articles" / f"{i:04d}.jsonl"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(record) + "\n", encoding="utf-8")
        files.append(path)
    once = ingest_into(root / "once", [files])
    print(f"one ingest of {len(files)} articles: {once:.0f} s")
    many = ingest_into(root / "many", [[p] for p in files])
    print(f"{len(files)} ingests of one article: {many:.0f} s")
    sizes = {name: size_on_disk(root / name) for name in ("once", "many")}
    for name, size in sizes.items():
        print(f"{name}: {size / 1e6:.1f} MB on disk")
    print(f"ratio many / once: {sizes['many'] / sizes['once']:.2f}")
    print(f"(left in {root})")


if __name__ == "__main__":
    main()
