"""HNSW parameters by measurement: recall@10 of Chroma's index against exact search.

Takes the real passage embeddings of an existing newsbot index (build it first with
`newsbot ingest ../shared/data/multihop-rag/corpus.json`), embeds the MultiHop-RAG dev-split
questions, and for each HNSW setting builds a fresh collection from the same vectors and
measures recall@10 (share of the exact top 10 that the index returns) and the median query
time. Prints one row per setting.

    python -m bench.hnsw_recall [--dataset ../shared/data/multihop-rag] [--queries 500]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.index.chroma import PAGE, HnswParams, open_client

SETTINGS = [
    HnswParams(16, 100, 100),  # Chroma's defaults
    HnswParams(16, 100, 200),
    HnswParams(32, 200, 64),
    HnswParams(32, 200, 128),
    HnswParams(32, 200, 256),
    HnswParams(48, 300, 256),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/multihop-rag"))
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()

    settings = Settings()
    parts = Runtime(settings)
    parts.store.require()
    source = parts.store.passages_collection()
    got = source.get(include=["embeddings"], limit=10**7)
    ids = got["ids"]
    vectors = np.asarray(got["embeddings"], dtype=np.float32)
    questions = json.loads((args.dataset / "MultiHopRAG.json").read_text())
    dev = [q["query"] for i, q in enumerate(questions) if i % 5 != 0][: args.queries]
    queries = parts.model.encode(dev)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, : args.k]
    exact_ids = [{ids[j] for j in row} for row in exact]
    print(f"{len(ids)} passages, {len(dev)} dev questions, recall@{args.k} against exact search")
    print("max_neighbors ef_construction ef_search  build_s  recall  p50_query_ms")
    with tempfile.TemporaryDirectory() as tmp:
        client = open_client(Path(tmp))
        for n, params in enumerate(SETTINGS):
            collection = client.create_collection(
                f"hnsw-bench-{n}", configuration=params.configuration(), embedding_function=None
            )
            started = time.perf_counter()
            for i in range(0, len(ids), PAGE):
                collection.add(ids=ids[i : i + PAGE], embeddings=vectors[i : i + PAGE])
            build = time.perf_counter() - started
            recalls, times = [], []
            for q, truth in zip(queries, exact_ids, strict=True):
                t = time.perf_counter()
                found = collection.query(query_embeddings=[q], n_results=args.k, include=[])
                times.append(time.perf_counter() - t)
                recalls.append(len(truth & set(found["ids"][0])) / args.k)
            print(
                f"{params.max_neighbors:13} {params.ef_construction:15} {params.ef_search:9}"
                f"  {build:7.1f}  {statistics.mean(recalls):.4f}  "
                f"{1000 * statistics.median(times):.2f}"
            )
            client.delete_collection(collection.name)


if __name__ == "__main__":
    main()
