"""The core of newsbot: the embedding model, the Chroma index, search and answering.

Imports nothing from `ingest` or `bot`.
"""
