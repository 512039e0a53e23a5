"""Finding the passages that answer a query."""

from __future__ import annotations

from retrieval.embedding import Embedder
from retrieval.store import IndexStore
from retrieval.types import SearchHit


def dense_search(query: str, *, store: IndexStore, embedder: Embedder, k: int) -> list[SearchHit]:
    """Plain nearest-neighbour search over passage embeddings."""
    vector = embedder.encode([query])[0]
    return [
        SearchHit(passage=passage, score=score, rank=rank)
        for rank, (passage, score) in enumerate(store.query(vector, k), start=1)
    ]
