"""The lexical side of search: BM25 over passages in a tantivy index on disk.

Exact names ("Kabulov", "Zakharova") match even when the embedding misses them. The index is
updated by applying each commit's changed article versions, never rebuilt, and it lives on
disk: a process holds only tantivy's caches, not the archive. Tantivy's top-k pruning keeps a
query's cost near-flat as the archive grows, and its BM25 (k1 1.2, b 0.75, idf
ln(1 + (N - n + 0.5) / (n + 0.5))) is the one this project tuned with.

Text is tokenized by `retrieval.lexical.tokenize` on both sides (stopwords, possessives), then
handed to tantivy as whitespace-separated terms, so index and queries agree exactly.

The index is a cache of the Chroma store, kept per data directory: `synced` records the
generation it reflects, and applying a change twice is harmless (a version's rows are deleted
before they are written), so a crash between tantivy's commit and the marker costs nothing.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterable
from pathlib import Path

from retrieval.index.chroma import passage_key
from retrieval.index.reader import IndexReader
from retrieval.tokens import tokenize
from retrieval.types import Passage, timestamp_or_none

logger = logging.getLogger(__name__)

WRITER_HEAP = 64_000_000  # bytes tantivy buffers before it flushes a segment


def index_terms(text: str) -> str:
    """`text` as the whitespace-separated terms tantivy indexes (apostrophes dropped: its
    whitespace tokenizer keeps them, and a query's terms are written the same way)."""
    return " ".join(term.replace("'", "").replace("’", "") for term in tokenize(text))


def document_text(passage: Passage) -> str:
    """What BM25 matches of a passage: its article's title and outlet too."""
    return f"{passage.title}\n{passage.source}\n{passage.text}"


def query_terms(terms: Iterable[str]) -> list[str]:
    return sorted({t.replace("'", "").replace("’", "") for t in terms if t})


class TextIndex:
    """BM25 search over passage rows: (passage id, version key, outlet, date, text)."""

    def __init__(self, path: Path | None):
        import tantivy

        self._tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("pid", stored=True, tokenizer_name="raw")
        builder.add_text_field("vkey", tokenizer_name="raw")  # article:version, to delete by
        builder.add_text_field("source", tokenizer_name="raw")
        builder.add_float_field("ts", indexed=True, fast=True)
        builder.add_text_field("body", tokenizer_name="whitespace")
        self.schema = builder.build()
        self.path = Path(path) if path else None
        if self.path:
            self.path.mkdir(parents=True, exist_ok=True)
            self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        else:
            self.index = tantivy.Index(self.schema)
        self._memory_mark: dict = {}
        self._lock = threading.Lock()

    # -- what it reflects ------------------------------------------------------------------

    def _marker(self) -> Path | None:
        return self.path / "synced.json" if self.path else None

    def synced(self, identity: str | None = None) -> int:
        """The generation this index reflects (0 when it is of another index than
        `identity`, when given)."""
        marker = self._marker()
        if marker is None:
            mark = self._memory_mark
        else:
            try:
                mark = json.loads(marker.read_text())
            except (OSError, ValueError):
                return 0
        if identity is not None and mark.get("identity", "") != identity:
            return 0
        return int(mark.get("generation", 0))

    def _mark(self, generation: int, identity: str = "") -> None:
        mark = {"generation": generation, "identity": identity}
        marker = self._marker()
        if marker is None:
            self._memory_mark = mark
            return
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(mark))
        tmp.replace(marker)  # atomic: a reader sees the old marker or the new one

    # -- writing ---------------------------------------------------------------------------

    def apply(
        self,
        generation: int,
        retired_keys: Iterable[str],
        rows: Iterable[tuple[str, str, str, float | None, str]],
        identity: str = "",
    ) -> bool:
        """Delete the rows of `retired_keys` (and of any version being rewritten), add
        `rows` (pid, version key, source, timestamp, text), and mark `generation` synced.

        False when another process is writing this index right now: it is syncing the
        same commits, so this reader just reloads later."""
        tantivy = self._tantivy
        with self._lock:
            try:
                writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
            except ValueError as exc:  # tantivy's LockBusy: another process holds the writer
                logger.info("lexical index busy (%s); using it as it is", exc)
                return False
            rows = list(rows)
            for key in set(retired_keys) | {row[1] for row in rows}:
                writer.delete_documents_by_term("vkey", key)
            for pid, key, source, ts, text in rows:
                doc = tantivy.Document(pid=pid, vkey=key, source=source, body=index_terms(text))
                if ts is not None:
                    doc.add_float("ts", float(ts))
                writer.add_document(doc)
            writer.commit()
            writer.wait_merging_threads()
            self._mark(generation, identity)
        self.index.reload()
        return True

    def reset(self) -> None:
        """Forget everything (a store that was rebuilt from scratch)."""
        with self._lock:
            writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
            writer.delete_all_documents()
            writer.commit()
            writer.wait_merging_threads()
            self._mark(0)
        self.index.reload()

    def catch_up(self, store: IndexReader, generation: int) -> None:
        """Bring the index to the store's `generation` by applying the commits it has not
        seen: the articles they added or retired, not the archive."""
        identity = store.identity()
        synced = self.synced(identity)
        if synced == 0 and self.size():  # of another index (rebuilt, or a new server)
            self.reset()
        if synced == generation:
            self.reload()
            return
        if synced > generation:  # a process on this data directory saw a later commit
            if store.committed() >= synced:
                self.reload()
                return
            self.reset()  # the store went back (rebuilt from scratch): start again
            synced = 0
        if synced == 0:
            changes = store.live_articles(generation)
        else:
            changes = store.article_changes(synced, generation)
        # A version only given its story in place (added before `synced`) has its rows.
        live = [a for a in changes if a.visible_at(generation) and a.added > synced]
        retired = [a.key for a in changes if not a.visible_at(generation)]
        rows = (
            (p.id, passage_key(p.id), p.source, timestamp_or_none(p.published_at), document_text(p))
            for p in store.passages_of(live)
        )
        self.apply(generation, retired, rows, identity)

    # -- reading ---------------------------------------------------------------------------

    def reload(self) -> None:
        self.index.reload()

    def size(self) -> int:
        return self.index.searcher().num_docs

    def idf(self, term: str) -> float:
        searcher = self.index.searcher()
        (term,) = query_terms([term]) or [""]
        df = searcher.doc_freq("body", term) if term else 0
        n = searcher.num_docs
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def top(
        self,
        terms: Iterable[str],
        k: int,
        *,
        source: str | None = None,
        after: float | None = None,
        before: float | None = None,
    ) -> list[tuple[str, float]]:
        """The k best (passage id, BM25 score) for the query's terms, optionally only of one
        outlet and a date range [after, before)."""
        tantivy = self._tantivy
        words = query_terms(terms)
        if not words or k <= 0:
            return []
        query = tantivy.Query
        should = [
            (tantivy.Occur.Should, query.term_query(self.schema, "body", word)) for word in words
        ]
        clauses = [(tantivy.Occur.Must, query.boolean_query(should))]
        if source is not None:
            clauses.append(
                (
                    tantivy.Occur.Must,
                    query.const_score_query(query.term_query(self.schema, "source", source), 0.0),
                )
            )
        if after is not None or before is not None:
            dates = query.range_query(
                self.schema,
                "ts",
                tantivy.FieldType.Float,
                after,
                before,
                include_lower=True,
                include_upper=before is None,  # tantivy: an unbounded side is inclusive
            )
            clauses.append((tantivy.Occur.Must, query.const_score_query(dates, 0.0)))
        searcher = self.index.searcher()
        found = searcher.search(query.boolean_query(clauses), k, count=False)
        return [(searcher.doc(address)["pid"][0], float(score)) for score, address in found.hits]
