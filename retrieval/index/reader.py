"""What a reader reads of the index: the contract `Retriever` and `TextIndex` hold a store to.

`IndexStore` (store.py) is the implementation that ships; tests/retrieval/fakes.py's
`MemoryStore` is another, in memory, and mypy checks it against this protocol (the fake is in
mypy's files), so the fast tests' store cannot drift from what the retriever asks of the real one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np

from retrieval.index.store import PassageRow
from retrieval.types import ArticleRecord, Passage


class IndexReader(Protocol):
    """The reads a reader makes: the committed generation, the articles it changed, and the
    passages (nearest to a vector, by id, by article)."""

    def committed(self) -> int:
        """The generation last committed."""
        ...

    def identity(self) -> str:
        """Which index this is (a text index built for another is rebuilt)."""
        ...

    def live_articles(self, generation: int | None = None) -> list[ArticleRecord]:
        """The article versions visible at `generation` (the committed one by default)."""
        ...

    def article_changes(self, since: int, upto: int) -> list[ArticleRecord]:
        """The article records added or retired by the commits after `since` up to `upto`."""
        ...

    def passages_of(self, articles: Iterable[ArticleRecord]) -> Iterable[Passage]:
        """The stored passages of these article versions."""
        ...

    def fetch(self, ids: Iterable[str], *, vectors: bool = False) -> dict[str, PassageRow]:
        """The stored rows of these passage ids (with their vectors if asked)."""
        ...

    def nearest(
        self, vector: np.ndarray, k: int, where: dict | None = None
    ) -> list[tuple[str, float]]:
        """Ids and cosine similarities of the `k` nearest stored passages, of any version."""
        ...
