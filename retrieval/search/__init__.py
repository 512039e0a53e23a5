"""From a question to ranked passages: `query` (terms, kind, parts, outlets of a question),
`dates` (the days a question asks about), `catalog` (the live article versions a reader sees),
`retriever` (`Retriever`: hybrid vector + BM25 search, kept up with each commit)."""

__all__ = ["catalog", "dates", "query", "retriever"]
