"""One ingest run: read sources, decide what changed, embed only new text, commit the change.

Library code: it reports progress through a callback and never prints.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from ingest.article import Article, SourceFailure
from ingest.chunking import ChunkingParams, chunk_text
from ingest.sources import SourceResult, SourceSpec
from ingest.validators import Validator, ValidatorStore
from retrieval.embedding import Encoder
from retrieval.index.store import IndexStore
from retrieval.languages import detect_language
from retrieval.sentence_vectors import pack
from retrieval.sentences import split_sentences
from retrieval.stories.grouping import NewArticle, group_into_stories, needs_backfill
from retrieval.stories.story import StoryParams, article_vector
from retrieval.types import ArticleRecord, Passage

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
# (spec, *, known=article id -> feed date, validators=URL -> Validator)
SourceReader = Callable[..., SourceResult]
PUT_BATCH = 2000  # passages per write to the store
ENCODE_GROUP = 1024  # texts per encode call, cut from one global order (see encode_order)


@dataclass
class IngestReport:
    """What one ingest did: articles added, updated, unchanged, removed, failures and notes."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0  # feed entries not fetched again: indexed, their feed date unchanged
    not_modified: int = 0  # feeds and pages the server said were unchanged (HTTP 304)
    failed: list[SourceFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    embedded: int = 0  # texts sent to the model in this run
    reused: int = 0  # texts whose stored vectors were reused
    seconds: float = 0.0
    # Wall seconds per stage (reading, model, chunking, embedding, indexing): where an
    # ingest's time goes, for operators and for bench/ingest.py.
    stages: dict[str, float] = field(default_factory=dict)
    finished_at: str = ""
    # Stories this run started and stories it added to (and older articles given a story).
    stories: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": self.skipped,
            "not_modified": self.not_modified,
            "failed": [{"source": f.source, "reason": f.reason} for f in self.failed],
            "notes": list(self.notes),
            "embedded": self.embedded,
            "reused": self.reused,
            "seconds": round(self.seconds, 3),
            "stages": {stage: round(seconds, 3) for stage, seconds in self.stages.items()},
            "finished_at": self.finished_at,
            "stories": dict(self.stories) or {"new": 0, "updated": 0, "backfilled": 0},
        }


@dataclass
class ReadOutcome:
    """What the sources gave: articles, failures, and which origins were read completely."""

    articles: list[Article] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    complete_origins: set[str] = field(default_factory=set)
    listed_origins: set[str] | None = None  # a sources file: origins not listed are gone
    skipped: int = 0  # feed entries not fetched (indexed, feed date unchanged)
    not_modified: list[str] = field(default_factory=list)  # URLs answered 304
    kept: list[str] = field(default_factory=list)  # indexed articles that a 304 stands for
    validators: dict[str, Validator | None] = field(default_factory=dict)  # to remember


@dataclass(frozen=True)
class Plan:
    """What an ingest will change, decided from content hashes alone (pure)."""

    added: list[Article]
    updated: list[Article]
    unchanged: list[str]
    removed: list[str]

    @property
    def changes_index(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def run_ingest(
    specs: list[SourceSpec],
    *,
    read_source: SourceReader,
    store: IndexStore,
    embedder: Encoder,
    params: ChunkingParams,
    prune: bool = False,
    sources_file: bool = False,
    progress: Progress | None = None,
    validators: ValidatorStore | None = None,
) -> IngestReport:
    """Ingest `specs` into the index. With `sources_file`, the specs are the whole truth:
    articles from origins no longer listed are removed too (implies pruning).

    With `validators`, feeds and pages are fetched conditionally (ETag / Last-Modified), and
    what the servers said this time is remembered once the run has committed."""
    clock = StageClock()
    with store.ingest_lock():
        clock.start("reading")
        indexed = {a.article_id: a for a in store.live_articles()}
        known = {a.article_id: a.feed_date for a in indexed.values() if a.feed_date is not None}
        usable = {
            url: v
            for url, v in _recall(validators).items()
            if v.article_id is None or v.article_id in indexed  # a page's article still here
        }
        outcome = read_all(specs, read_source, progress, known=known, validators=usable)
        if sources_file:
            outcome.listed_origins = {spec.origin for spec in specs}
        plan = plan_changes(
            outcome.articles,
            {a.article_id: (a.content_hash, a.origin) for a in indexed.values()},
            prune_origins=outcome.complete_origins if (prune or sources_file) else None,
            listed_origins=outcome.listed_origins,
            kept=outcome.kept,
        )
        report = apply_plan(
            plan,
            outcome,
            indexed=indexed,
            store=store,
            embedder=embedder,
            params=params,
            progress=progress,
            clock=clock,
        )
        if validators is not None:
            _remember(validators, outcome.validators)
        return report


def _recall(validators: ValidatorStore | None) -> dict[str, Validator]:
    """What the servers said last time; an unreadable file costs full GETs, not the ingest."""
    if validators is None:
        return {}
    try:
        return validators.load()
    except (OSError, sqlite3.Error) as error:
        logger.warning("could not read the feeds' validators (fetching in full): %s", error)
        return {}


def _remember(validators: ValidatorStore, seen: dict[str, Validator | None]) -> None:
    """Validators are a politeness: failing to keep them costs a full GET next time, no more."""
    try:
        validators.save(seen)
    except (OSError, sqlite3.Error) as error:
        logger.warning("could not remember the feeds' validators: %s", error)


def read_all(
    specs: list[SourceSpec],
    read_source: SourceReader,
    progress: Progress | None = None,
    *,
    known: dict[str, str] | None = None,
    validators: dict[str, Validator] | None = None,
) -> ReadOutcome:
    """Read every source; one that fails, even unexpectedly, never stops the others.

    `known` (article id -> feed date of what is indexed) lets feeds skip unchanged entries;
    `validators` (URL -> ETag / Last-Modified) make feed and page fetches conditional."""
    outcome = ReadOutcome()
    note = progress or (lambda *_: None)
    note("sources", 0, len(specs))
    for done, spec in enumerate(specs, start=1):
        try:
            result = read_source(spec, known=known or {}, validators=validators or {})
        except Exception as exc:  # a bug in one reader must not cost the other sources
            logger.exception("reading %s failed", spec.location)
            outcome.failures.append(SourceFailure(spec.location, f"unexpected error: {exc}"))
        else:
            outcome.articles.extend(result.articles)
            outcome.failures.extend(result.failures)
            outcome.notes.extend(result.notes)
            outcome.skipped += result.skipped
            outcome.not_modified.extend(result.not_modified)
            outcome.kept.extend(result.kept)
            outcome.validators.update(result.validators)
            # A feed lists only its latest entries: one that rolled off is not gone from the
            # news, so feeds never prune by entry (a feed dropped from the sources file does).
            if result.complete and spec.kind != "feed":
                outcome.complete_origins.add(spec.origin)
        note("sources", done, len(specs))
    return outcome


def plan_changes(
    articles: Iterable[Article],
    indexed: dict[str, tuple[str, str]],
    *,
    prune_origins: set[str] | None,
    listed_origins: set[str] | None = None,
    kept: Iterable[str] = (),
) -> Plan:
    """Compare arriving articles with the index (article_id -> (content_hash, origin)).

    Articles are pruned only when `prune_origins` is given: those indexed from an origin that
    was read completely but no longer yields them, and (for a sources file) those from origins
    the file no longer lists. `kept` are indexed articles whose page the server said was not
    modified: unchanged, whatever else arrives.
    """
    added: list[Article] = []
    updated: list[Article] = []
    unchanged: list[str] = [k for k in dict.fromkeys(kept) if k in indexed]
    seen = set(unchanged)
    for article in articles:
        if article.id in seen:
            continue  # the same article from two places: the first one wins
        seen.add(article.id)
        state = indexed.get(article.id)
        if state is None:
            added.append(article)
        elif state[0] == article.content_hash or article.summary_only:
            # A feed summary standing in for an unreachable page keeps the indexed text.
            unchanged.append(article.id)
        else:
            updated.append(article)
    removed = []
    if prune_origins is not None:
        for article_id, (_, origin) in indexed.items():
            if article_id in seen:
                continue
            gone_from_source = origin in prune_origins
            unlisted = listed_origins is not None and origin not in listed_origins
            if gone_from_source or unlisted:
                removed.append(article_id)
    return Plan(added, updated, unchanged, sorted(removed))


def to_passages(
    article: Article,
    embedder_tokens: Callable[[list[str]], list[int]],
    *,
    window: int,
    params: ChunkingParams,
) -> tuple[list[Passage], list[str]]:
    """An article's passages and, for each, the exact text the model embeds."""
    prefix = ""
    budget = window - 2  # [CLS] and [SEP]
    if params.title_in_embedding and article.title:
        title_tokens = embedder_tokens([article.title])[0] + 1
        if title_tokens <= window // 4:  # a runaway title must not eat the passage's room
            prefix = article.title + "\n"
            budget -= title_tokens
    chunks = chunk_text(
        article.body,
        count_tokens=embedder_tokens,
        budget=budget,
        target=min(params.target_tokens, budget),
        overlap=params.overlap_sentences,
    )
    passages, texts = [], []
    version = article_version(article)
    for chunk in chunks:
        embedded = prefix + chunk.text
        passages.append(
            Passage(
                id=f"{article.id}:{version}:{chunk.index}",
                text=chunk.text,
                article_id=article.id,
                title=article.title,
                source=article.source,
                published_at=article.published_at,
                url=article.url,
                author=article.author,
                chunk_index=chunk.index,
                start=chunk.start,
                end=chunk.end,
                content_hash=article.content_hash,
                text_hash=hashlib.sha1(embedded.encode()).hexdigest(),
                origin=article.origin,
                attribution=article.attribution,
            )
        )
        texts.append(embedded)
    return passages, texts


def article_version(article: Article) -> str:
    """The version of an article's text: passage ids carry it, so a changed article's new
    passages never overwrite the ones readers of the previous generation still use."""
    return article.content_hash[:16]


def article_record(article: Article, chunks: int) -> ArticleRecord:
    return ArticleRecord(
        article_id=article.id,
        version=article_version(article),
        title=article.title,
        source=article.source,
        published_at=article.published_at,
        url=article.url,
        author=article.author,
        attribution=article.attribution,
        content_hash=article.content_hash,
        origin=article.origin,
        chunks=chunks,
        feed_date=article.feed_date,
        language=detect_language(f"{article.title}\n{article.body}"),
    )


def apply_plan(
    plan: Plan,
    outcome: ReadOutcome,
    *,
    indexed: dict[str, ArticleRecord],
    store: IndexStore,
    embedder: Encoder,
    params: ChunkingParams,
    progress: Progress | None = None,
    clock: StageClock | None = None,
    story_params: StoryParams | None = None,
) -> IngestReport:
    """Embed what is new and commit it with what it replaces; or only record the run."""
    clock = clock or StageClock()
    clock.stop()
    report = IngestReport(
        added=len(plan.added),
        updated=len(plan.updated),
        unchanged=len(plan.unchanged),
        removed=len(plan.removed),
        skipped=outcome.skipped,
        not_modified=len(outcome.not_modified),
        failed=list(outcome.failures),
        notes=list(outcome.notes),
        stages=clock.stages,
    )
    note = progress or (lambda *_: None)
    # Unchanged articles whose feed now dates them differently (or that were indexed before
    # feed dates were kept): remember the date, so the next run need not fetch them.
    by_id = {a.id: a for a in outcome.articles}
    stale_dates: dict[str, str] = {}
    for unchanged_id in plan.unchanged:
        if unchanged_id not in by_id:
            continue  # a page not modified (304): nothing arrived to compare
        feed_date = by_id[unchanged_id].feed_date
        if feed_date is not None and indexed[unchanged_id].feed_date != feed_date:
            stale_dates[indexed[unchanged_id].key] = feed_date
    if stale_dates:
        store.note_feed_dates(stale_dates)
    if not plan.changes_index and not needs_backfill(indexed.values()):
        _finish(report, clock)
        store.record_ingest(report.to_dict())
        return report

    by_article: list[tuple[Article, list[Passage]]] = []
    texts_by_hash: dict[str, str] = {}
    passage_texts: dict[str, str] = {}  # what each embedded text ends with: the passage
    arriving = plan.added + plan.updated
    if arriving:  # a run that only gives older articles their stories loads no model
        clock.start("model")
        window = embedder.max_tokens  # loads a lazy model: its own stage, not chunking's
        clock.start("chunking")
    for article in arriving:
        article_passages, texts = to_passages(
            article, embedder.count_tokens, window=window, params=params
        )
        by_article.append((article, article_passages))
        for passage, text in zip(article_passages, texts, strict=True):
            texts_by_hash.setdefault(passage.text_hash, text)
            passage_texts.setdefault(passage.text_hash, passage.text)

    clock.start("embedding")  # stored vectors reused included: the alternative to embedding
    vectors = store.vectors_for(texts_by_hash)
    report.reused = len(vectors)
    missing = encode_order([h for h in texts_by_hash if h not in vectors], texts_by_hash)
    # The model's word-piece vectors give each sentence its vector in the same pass
    # (retrieval.sentence_vectors); an encoder without them (a test fake) gives none.
    with_sentences = getattr(embedder, "encode_with_sentences", None)
    sentences: dict[str, str] = {}
    note("embedding", 0, len(missing))
    for i in range(0, len(missing), ENCODE_GROUP):
        group = missing[i : i + ENCODE_GROUP]
        texts = [texts_by_hash[h] for h in group]
        if with_sentences is None:
            encoded = embedder.encode(texts)
        else:
            spans = [_sentence_spans(passage_texts[h], texts_by_hash[h]) for h in group]
            encoded, pooled = with_sentences(texts, spans)
            for h, text_spans, text_vectors in zip(group, spans, pooled, strict=True):
                shift = len(texts_by_hash[h]) - len(passage_texts[h])
                own = [(start - shift, end - shift) for start, end in text_spans]
                sentences[h] = pack(own, text_vectors)
        vectors.update(zip(group, encoded, strict=True))
        note("embedding", min(i + ENCODE_GROUP, len(missing)), len(missing))
    report.embedded = len(missing)

    retired = [indexed[a.id] for a in plan.updated] + [indexed[i] for i in plan.removed]
    total = sum(len(passages) for _, passages in by_article)
    clock.start("stories")
    with store.transaction() as transaction:
        new = [
            NewArticle(
                article_record(a, len(ps)),
                article_vector([vectors[p.text_hash] for p in ps]),
                ps[0].text,
            )
            for a, ps in by_article
            if ps
        ]
        stories = group_into_stories(
            store,
            transaction,
            new,
            indexed=indexed,
            leaving={a.id for a in plan.updated} | set(plan.removed),
            params=story_params or StoryParams(),
        )
        report.stories = stories.summary()
        clock.start("indexing")
        note("indexing", 0, total)
        done = 0
        for batch in _batches(by_article, PUT_BATCH):
            records = [
                (
                    replace(
                        article_record(a, len(ps)),
                        story_id=stories.assigned.get(a.id, a.id),
                    ),
                    ps,
                )
                for a, ps in batch
            ]
            rows = [vectors[p.text_hash] for _, ps in batch for p in ps]
            transaction.put(
                records,
                np.stack(rows) if rows else np.zeros((0, 1), np.float32),
                sentences=sentences,
            )
            done += len(rows)
            note("indexing", done, total)
        transaction.retire(retired)
        transaction.set_stories(stories.backfilled)
        clock.stop()
        _finish(report, clock)
        transaction.commit(report.to_dict())
    return report


def _sentence_spans(passage_text: str, embedded: str) -> list[tuple[int, int]]:
    """The passage's sentences as spans of the embedded text (the passage, after any title)."""
    shift = len(embedded) - len(passage_text)
    return [(span.start + shift, span.end + shift) for span in split_sentences(passage_text)]


def _batches(
    items: list[tuple[Article, list[Passage]]], size: int
) -> Iterable[list[tuple[Article, list[Passage]]]]:
    """Articles in groups of about `size` passages (an article is never split)."""
    batch: list[tuple[Article, list[Passage]]] = []
    count = 0
    for item in items:
        batch.append(item)
        count += len(item[1])
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


def encode_order(text_hashes: list[str], texts_by_hash: dict[str, str]) -> list[str]:
    """The new texts longest first, as sentence-transformers orders one `encode` call.

    Encode groups cut from one global order pad their batches no worse than a single call
    over everything (groups sorted only within themselves cost ~5% more encoder time here),
    while still letting progress be reported group by group. Ties keep arrival order.
    """
    return sorted(text_hashes, key=lambda h: -len(texts_by_hash[h]))


class StageClock:
    """An ingest's wall time since it began, and per stage: starting a stage ends the last."""

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.stages: dict[str, float] = {}
        self.current: tuple[str, float] | None = None

    def start(self, stage: str) -> None:
        self.stop()
        self.current = (stage, time.monotonic())

    def stop(self) -> None:
        if self.current:
            stage, since = self.current
            self.stages[stage] = self.stages.get(stage, 0.0) + time.monotonic() - since
            self.current = None


def _finish(report: IngestReport, clock: StageClock) -> None:
    report.seconds = time.monotonic() - clock.began
    report.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
