"""What is stored and how it is written: `store` (`IndexStore`: the Chroma collections and
their reads, the ingest lock), `transaction` (writing the next generation), `lease` (one
ingest at a time on a shared server), `migrations` (named, run-once steps), `chroma` (client,
naming, filters and paging shared by these), `reader` (`IndexReader`: what a reader reads),
`article_cache` (a local SQLite copy of the article records), `text_index` (the BM25 index
over passages, a cache rebuilt from the store), `status` (the figures `newsbot status` and
/status show)."""

__all__ = [
    "article_cache",
    "chroma",
    "lease",
    "migrations",
    "reader",
    "status",
    "store",
    "text_index",
    "transaction",
]
