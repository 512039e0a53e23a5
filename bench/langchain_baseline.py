"""The LangChain tutorial RAG pipeline on MultiHop-RAG, scored like newsbot's own retrieval.

RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200) over the 609 article bodies
of `corpus.json`, a Chroma collection (langchain-chroma, cosine space) in a temporary directory,
the bundled all-MiniLM-L6-v2 through newsbot's `Embedder`, top-k similarity search; fact-level
Hits@10 / Hits@4 / MRR@10 and document recall@k from `retrieval.eval.scoring`.

    python bench/langchain_baseline.py ../shared/data/multihop-rag --split dev

Needs the `bench` extra: langchain-text-splitters, langchain-chroma. Nothing is cached: the
collection is rebuilt (a few minutes on two cores) and deleted on exit.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from retrieval.embedding import BUNDLED_MODEL, Embedder, load_embedder
from retrieval.eval.scoring import CORPUS_FILE, load_queries, run_eval, split_queries
from retrieval.types import Passage

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200


class EmbedderEmbeddings(Embeddings):
    """newsbot's `Embedder` (unit vectors) as a LangChain `Embeddings`."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.encode([text])[0].tolist()


def load_documents(dataset: Path) -> list[Document]:
    with (dataset / CORPUS_FILE).open(encoding="utf-8") as fh:
        articles = json.load(fh)
    documents = []
    for number, article in enumerate(articles):
        meta = {
            key: article[key]
            for key in ("title", "source", "url", "published_at")
            if article.get(key)
        }
        meta["article"] = number
        documents.append(Document(page_content=article["body"], metadata=meta))
    return documents


def to_passage(document: Document, rank: int) -> Passage:
    meta = document.metadata
    text = document.page_content
    start = int(meta.get("start_index", 0))
    return Passage(
        id=f"{meta.get('article')}:{start}:{rank}",
        text=text,
        article_id=str(meta.get("article")),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        published_at=meta.get("published_at"),
        url=meta.get("url"),
        author=None,
        chunk_index=0,
        start=start,
        end=start + len(text),
        content_hash="",
        text_hash="",
        origin="corpus.json",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "dataset",
        type=Path,
        nargs="?",
        default=Path("../shared/data/multihop-rag"),
        help="directory holding corpus.json and MultiHopRAG.json",
    )
    parser.add_argument(
        "--split",
        choices=["dev", "test", "both"],
        default="dev",
        help="queries to score (both: dev then test, one index build)",
    )
    parser.add_argument("--k", type=int, default=10, help="passages retrieved per query")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    embeddings = EmbedderEmbeddings(load_embedder(BUNDLED_MODEL))
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
    )
    chunks = splitter.split_documents(load_documents(args.dataset))
    print(f"{len(chunks)} chunks; embedding...", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="newsbot-baseline-") as tmp:
        store = Chroma.from_documents(
            chunks,
            embeddings,
            collection_name="langchain-baseline",
            persist_directory=tmp,
            client_settings=ChromaSettings(anonymized_telemetry=False),
            collection_configuration={"hnsw": {"space": "cosine"}},
        )
        indexed = time.perf_counter() - started
        print(f"indexed in {indexed:.0f} s", file=sys.stderr)

        def search(query: str, k: int) -> list[Passage]:
            found = store.similarity_search(query, k=k)
            return [to_passage(doc, rank) for rank, doc in enumerate(found, start=1)]

        queries = load_queries(args.dataset)
        splits = ["dev", "test"] if args.split == "both" else [args.split]
        reports = {}
        for split in splits:
            t0 = time.perf_counter()
            report = run_eval(split_queries(queries, split), search=search, answer=None, k=args.k)
            reports[split] = (report, time.perf_counter() - t0)

    for split, (report, seconds) in reports.items():
        if args.json:
            print(
                json.dumps(
                    {
                        "split": split,
                        "chunks": len(chunks),
                        "index_seconds": indexed,
                        "eval_seconds": seconds,
                        **report.to_dict(),
                    }
                )
            )
            continue
        print(
            f"LangChain baseline ({CHUNK_SIZE}/{CHUNK_OVERLAP} chars, Chroma, MiniLM), "
            f"{split} split: Hits@10 {report.hits_at_10:.3f}  Hits@4 {report.hits_at_4:.3f}  "
            f"MRR@10 {report.mrr_at_10:.3f}  doc recall@{report.k} {report.doc_recall:.3f}"
        )
        print(
            f"  {report.answerable} answerable queries; {len(chunks)} chunks; "
            f"index {indexed:.0f} s; queries {seconds:.0f} s"
        )
        print("  " + report.render().replace("\n", "\n  "))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
