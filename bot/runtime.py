"""Builds the heavy parts once from settings; the CLI and the bot pass them down."""

from __future__ import annotations

from functools import partial

import httpx

from bot.settings import Settings
from ingest.pipeline import ChunkingParams
from ingest.sources import read_source
from retrieval.answering import NewsAnswerer
from retrieval.embedding import Embedder, LazyEmbedder, load_embedder
from retrieval.hybrid import Retriever
from retrieval.llm import LLMComposer, build_chat_model
from retrieval.store import HnswParams, IndexStore, index_name, open_client

CHUNKING_SCHEME = 1  # bump when chunking changes in a way that makes old vectors incomparable


def chunking_params(settings: Settings) -> ChunkingParams:
    return ChunkingParams(
        target_tokens=settings.chunk_tokens, overlap_sentences=settings.chunk_overlap
    )


def open_store(settings: Settings) -> IndexStore:
    client = open_client(settings.data_dir, settings.chroma_host, settings.chroma_port)
    location = (
        f"chroma server {settings.chroma_host}:{settings.chroma_port}"
        if settings.chroma_host
        else str((settings.data_dir / "chroma").resolve())
    )
    return IndexStore(
        client,
        index_name(
            settings.embedding_model,
            settings.chunk_tokens,
            settings.chunk_overlap,
            CHUNKING_SCHEME,
        ),
        lock_dir=settings.data_dir,
        location=location,
        hnsw=HnswParams(
            settings.hnsw_max_neighbors, settings.hnsw_ef_construction, settings.hnsw_ef_search
        ),
    )


def load_model(settings: Settings) -> Embedder:
    return load_embedder(settings.embedding_model)


def lazy_model(settings: Settings) -> LazyEmbedder:
    """The model, loaded only if something needs embedding."""
    return LazyEmbedder(settings.embedding_model)


def http_client(settings: Settings) -> httpx.Client:
    return httpx.Client(
        timeout=settings.http_timeout,
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": "newsbot/0.1 (+news QA bot)"},
    )


def source_reader(settings: Settings, http: httpx.Client):
    return partial(read_source, http=http, max_bytes=int(settings.max_source_mb * 1024 * 1024))


def build_answerer(settings: Settings, store: IndexStore, model: Embedder) -> NewsAnswerer:
    """The answerer: extractive by default, an LLM composer when NEWSBOT_LLM_MODEL is set."""
    composer = None
    if settings.llm_model:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        chat = build_chat_model(
            settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=key,
            timeout=settings.llm_timeout,
        )
        composer = LLMComposer(chat)
    return NewsAnswerer(Retriever(store, model), composer=composer)
