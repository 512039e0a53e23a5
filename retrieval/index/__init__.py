"""What is stored and how it is written: `store` (the Chroma collections: reads, the write
`Transaction`, the ingest lease, migrations), `article_cache` (a local SQLite copy of the
article records), `text_index` (the BM25 index over passages, a cache rebuilt from the store),
`status` (the figures `newsbot status` and /status show)."""

__all__ = ["article_cache", "status", "store", "text_index"]
