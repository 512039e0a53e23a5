"""The index's migrations: named steps, each harmless to run twice and remembered so that it
runs once per index.

1. One growing collection instead of one collection per generation (the earlier layout): the
   first ingest into this layout reuses the vectors of the legacy live collection
   (`legacy_collections`, read by `IndexStore.vectors_for`) instead of embedding them again;
   the legacy collections are dropped once this layout has committed (`drop_legacy`, run by
   `Transaction.commit`).
2. Article vectors dated under their own key (`date_article_vectors`, run when a
   `Transaction` opens): those stored before ARTICLE_TS get their date under it; the commit
   record remembers that it was done.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from retrieval.index.chroma import ARTICLE_TS, PAGE, paged_records


class MigratableIndex(Protocol):
    """What the migrations need of the store (`IndexStore`)."""

    client: Any  # the Chroma client
    name: str  # the collection family

    def commit_metadata(self, *, fresh: bool = False) -> dict[str, Any]: ...

    def article_vectors_collection(self) -> Any: ...


def legacy_collections(store: MigratableIndex) -> list:
    """The live collection of the earlier layout (one collection per generation), whose
    vectors the first ingest into this layout reuses instead of embedding them again."""
    try:
        pointer = store.client.get_collection(f"{store.name}-pointer", embedding_function=None)
        current = (pointer.metadata or {}).get("current")
        return [store.client.get_collection(current, embedding_function=None)] if current else []
    except Exception:  # no earlier layout here
        return []


def drop_legacy(store: MigratableIndex) -> None:
    """Remove the earlier layout's collections once this layout has committed."""
    prefix = f"{store.name}-g"
    for collection in store.client.list_collections():
        if collection.name.startswith(prefix) or collection.name == f"{store.name}-pointer":
            with contextlib.suppress(Exception):
                store.client.delete_collection(collection.name)


def date_article_vectors(store: MigratableIndex) -> None:
    """Give article vectors stored before ARTICLE_TS their date under it (once per index,
    remembered by the commit record; rewriting one is harmless, so a run killed midway
    is simply done again by the next)."""
    meta = store.commit_metadata(fresh=True)
    if meta.get(ARTICLE_TS) or not meta.get("committed"):
        return
    collection = store.article_vectors_collection()
    dated: dict[str, float] = {}
    for key, _, row, _ in paged_records(collection, include=["metadatas"]):
        if row and ARTICLE_TS not in row and row.get("published_ts") is not None:
            dated[key] = float(row["published_ts"])
    keys = sorted(dated)
    for i in range(0, len(keys), PAGE):
        group = keys[i : i + PAGE]
        collection.update(ids=group, metadatas=[{ARTICLE_TS: dated[k]} for k in group])
