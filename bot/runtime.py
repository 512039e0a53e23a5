"""The composition root: every part of newsbot is built here, from settings, and only here.

Entry points (the CLI commands, the Telegram bot, the benchmarks) create one `Runtime` and ask
it for what they need; each part is built on first use and kept, so a command that never
searches never loads the model, and a bot builds everything once at start-up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property, partial
from typing import Any

import httpx

from bot.follows.service import FollowService
from bot.follows.store import FollowStore
from bot.settings import Settings
from ingest.chunking import CHUNKING_SCHEME, ChunkingParams
from ingest.netguard import guarded_client
from ingest.pipeline import IngestReport, Progress, run_ingest
from ingest.sources import SourceSpec, read_source
from ingest.validators import ValidatorStore
from retrieval.answer.answerer import AnswerParams, NewsAnswerer
from retrieval.answer.llm import LLMComposer, build_chat_model
from retrieval.embedding import Encoder, LazyEmbedder, load_embedder
from retrieval.index.article_cache import ArticleCache
from retrieval.index.chroma import HnswParams, index_name, open_client
from retrieval.index.status import IndexStatus, index_status
from retrieval.index.store import IndexStore
from retrieval.index.text_index import TextIndex
from retrieval.search.retriever import Retriever
from retrieval.stories.timeline import TimelineBuilder

USER_AGENT = "newsbot/0.1 (+news QA bot)"


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
    name = index_name(
        settings.embedding_model, settings.chunk_tokens, settings.chunk_overlap, CHUNKING_SCHEME
    )
    return IndexStore(
        client,
        name,
        lock_dir=settings.data_dir,
        location=location,
        shared=bool(settings.chroma_host),
        # embedded Chroma holds vectors in memory: a commit by another process needs a reopen
        reopen=None
        if settings.chroma_host
        else partial(open_client, settings.data_dir, fresh=True),
        article_cache=ArticleCache(settings.data_dir / "articles" / f"{name}.sqlite"),
        hnsw=HnswParams(
            settings.hnsw_max_neighbors, settings.hnsw_ef_construction, settings.hnsw_ef_search
        ),
    )


def http_client(settings: Settings) -> httpx.Client:
    """The client for article pages and feeds: no loopback or private address is reached
    except what NEWSBOT_FETCH_ALLOW_HOSTS lists (ingest.netguard)."""
    return guarded_client(
        allow=settings.fetch_allow_hosts,
        timeout=settings.http_timeout,
        max_redirects=5,
        headers={"User-Agent": USER_AGENT},
    )


def answer_params(settings: Settings, **overrides) -> AnswerParams:
    """What the answerer takes from settings: the question limit and the follow-up turns."""
    values: dict[str, Any] = {
        "max_question_chars": settings.max_question_chars,
        "follow_up_turns": settings.history_turns,
    }
    values.update(overrides)
    return AnswerParams(**values)


class Runtime:
    """The parts of one newsbot process, built lazily from `settings` and shared.

    `eager_model` loads the model with the first part that needs it; otherwise an ingest that
    finds nothing new never pays for loading it.
    """

    def __init__(
        self, settings: Settings, *, eager_model: bool = True, model: Encoder | None = None
    ):
        self.settings = settings
        self.eager_model = eager_model
        self._keeping_up: threading.Event | None = None
        if model is not None:  # an already loaded model (tests, benchmarks) is used as is
            self.__dict__["model"] = model

    @cached_property
    def store(self) -> IndexStore:
        return open_store(self.settings)

    @cached_property
    def model(self) -> Encoder:
        if self.eager_model:
            return load_embedder(self.settings.embedding_model)
        return LazyEmbedder(self.settings.embedding_model)

    @cached_property
    def http(self) -> httpx.Client:
        return http_client(self.settings)

    @cached_property
    def text_index(self) -> TextIndex:
        """The lexical index, a cache of the store kept per data directory."""
        return TextIndex(self.settings.data_dir / "lexical" / self.store.name)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.model, lexical=self.text_index)

    @cached_property
    def timelines(self) -> TimelineBuilder:
        """Timelines of a topic: the retriever's articles and the stories they belong to."""
        return TimelineBuilder(self.retriever)

    @cached_property
    def answerer(self) -> NewsAnswerer:
        """Extractive by default; an LLM composer writes the answer when NEWSBOT_LLM_MODEL is
        set (the extractive answer stays the fallback)."""
        return NewsAnswerer(
            self.retriever,
            composer=self.composer,
            params=answer_params(self.settings),
            index_updated=self.index_updated,
        )

    @cached_property
    def follow_store(self) -> FollowStore:
        """The chats' follows and pushes (SQLite, NEWSBOT_FOLLOWS_DB)."""
        return FollowStore(self.settings.follows_path)

    @cached_property
    def follows(self) -> FollowService:
        return FollowService(self.store, self.model, self.follow_store)

    def index_updated(self) -> str | None:
        """When the last ingest into the index finished (ISO 8601), None before any."""
        return (self.store.last_ingest() or {}).get("finished_at") or None

    @cached_property
    def composer(self) -> LLMComposer | None:
        s = self.settings
        if not s.llm_model:
            return None
        key = s.llm_api_key.get_secret_value() if s.llm_api_key else None
        chat = build_chat_model(
            s.llm_model, base_url=s.llm_base_url, api_key=key, timeout=s.llm_timeout
        )
        return LLMComposer(chat)

    def source_reader(self) -> Callable:
        max_bytes = int(self.settings.max_source_mb * 1024 * 1024)
        return partial(read_source, http=self.http, max_bytes=max_bytes)

    def ingest(
        self,
        specs: list[SourceSpec],
        *,
        prune: bool = False,
        sources_file: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        """The one way into `run_ingest`: the CLI and the bot both call this.

        After a commit the lexical index of this data directory catches up at once (it reads
        back only what the run wrote), so the next question here pays nothing for it."""
        report = run_ingest(
            specs,
            read_source=self.source_reader(),
            store=self.store,
            embedder=self.model,
            params=chunking_params(self.settings),
            prune=prune,
            sources_file=sources_file,
            progress=progress,
            validators=ValidatorStore(self.settings.data_dir / "fetch_validators.sqlite"),
        )
        if report.added or report.updated or report.removed:
            self.text_index.catch_up(self.store, self.store.committed())
        return report

    def status(self) -> IndexStatus:
        return index_status(self.store, self.settings.embedding_model)

    def keep_up(self) -> None:
        """A long-lived reader applies new commits between questions (Retriever.keep_up)."""
        if self._keeping_up is None:
            self._keeping_up = self.retriever.keep_up()

    def close(self) -> None:
        if self._keeping_up is not None:
            self._keeping_up.set()
        if "http" in self.__dict__:
            self.http.close()
        if "follow_store" in self.__dict__:
            self.follow_store.close()
