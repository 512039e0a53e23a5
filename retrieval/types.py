"""Plain data shared by the index, search and answering."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime


@dataclass(frozen=True)
class Passage:
    """One indexed chunk of an article, with what a citation needs.

    `start`/`end` are character offsets of `text` in the article body, so an answer can quote
    the exact sentence and point back into the article.
    """

    id: str
    text: str
    article_id: str
    title: str
    source: str  # the outlet
    published_at: str | None  # ISO 8601, or None when the article carries no date
    url: str | None
    author: str | None
    chunk_index: int
    start: int
    end: int
    content_hash: str  # of the whole article: tells unchanged articles from changed ones
    text_hash: str  # of the text that was embedded: never embed the same text twice
    origin: str  # the source (path, URL, feed) the article came from: pruning works per origin
    attribution: str | None = None
    language: str = ""  # ISO 639-1 of its article (retrieval.languages); "" unknown


@dataclass(frozen=True)
class SearchHit:
    """A passage found for a query; `score` is higher for better matches."""

    passage: Passage
    score: float
    rank: int = 0
    also_in: tuple[Passage, ...] = field(default=())  # near-duplicates from other outlets
    similarity: float = 0.0  # cosine of query and passage embeddings: an absolute measure
    # The passage's sentence vectors, packed (retrieval.sentence_vectors); None when the index
    # has none for it (built before them, or by an encoder without word-piece vectors).
    sentence_vectors: str | None = field(default=None, compare=False, repr=False)


def parse_published(value: str) -> datetime:
    """A stored ISO 8601 date as an aware datetime (a date without a zone is UTC)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def iso_to_timestamp(value: str) -> float:
    return parse_published(value).timestamp()


def timestamp_or_none(value: str | None) -> float | None:
    """A stored date as a timestamp; None when undated or unreadable."""
    if not value:
        return None
    try:
        return iso_to_timestamp(value)
    except ValueError:
        return None


def published_day(value: str | None) -> str | None:
    """The calendar day an article is dated, as written by its outlet (its own zone), for
    display: "2021-03-10"; None when undated or unreadable."""
    if not value:
        return None
    try:
        return parse_published(value).date().isoformat()
    except ValueError:
        return None


@dataclass(frozen=True)
class Carrier:
    """Another outlet's copy of a cited passage (the same wire text under its own headline)."""

    source: str
    title: str
    url: str | None
    published_at: str | None

    @classmethod
    def of(cls, passage: Passage) -> Carrier:
        return cls(passage.source, passage.title, passage.url, passage.published_at)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "title": self.title,
            "url": self.url,
            "published_at": self.published_at,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Carrier:
        return cls(data["source"], data["title"], data.get("url"), data.get("published_at"))


@dataclass(frozen=True)
class Freshness:
    """How new the news behind an answer is: the newest cited article (copies included) and
    when the index last finished an ingest; ISO 8601 strings, None when unknown."""

    newest_cited: str | None = None
    index_updated: str | None = None

    def to_dict(self) -> dict:
        return {"newest_cited": self.newest_cited, "index_updated": self.index_updated}

    @classmethod
    def from_dict(cls, data: dict) -> Freshness:
        return cls(data.get("newest_cited"), data.get("index_updated"))


@dataclass(frozen=True)
class Citation:
    """Where one `[n]` in an answer points: the article and the sentence quoted from it."""

    n: int
    title: str
    source: str
    published_at: str | None
    url: str | None
    quote: str
    article_id: str
    also_in: tuple[str, ...] = ()  # other outlets that carried the same passage
    carriers: tuple[Carrier, ...] = ()  # their copies: outlet, headline, link, date
    language: str = ""  # of the article quoted (ISO 639-1), "" unknown

    @classmethod
    def quoting(
        cls, n: int, passage: Passage, quote: str, also_in: tuple[str, ...] = ()
    ) -> Citation:
        """Citation `[n]` of the article `passage` belongs to, quoting `quote` from it."""
        return cls(
            n=n,
            title=passage.title,
            source=passage.source,
            published_at=passage.published_at,
            url=passage.url,
            quote=quote,
            article_id=passage.article_id,
            also_in=also_in,
            language=passage.language,
        )


@dataclass(frozen=True)
class Answer:
    """A short answer whose sentences carry `[n]` markers, or a plain decline."""

    question: str
    text: str
    answered: bool
    citations: tuple[Citation, ...] = ()
    freshness: Freshness | None = None

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "answered": self.answered,
            "freshness": (self.freshness or Freshness()).to_dict(),
            "citations": [
                {
                    "n": c.n,
                    "title": c.title,
                    "source": c.source,
                    "published_at": c.published_at,
                    "url": c.url,
                    "quote": c.quote,
                    "article_id": c.article_id,
                    "also_in": [carrier.to_dict() for carrier in c.carriers],
                }
                for c in self.citations
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Answer:
        """The answer `to_dict` wrote (as kept for the "Sources" buttons)."""
        citations = []
        for c in data.get("citations", ()):
            carriers = tuple(Carrier.from_dict(copy) for copy in c.get("also_in", ()))
            citations.append(
                Citation(
                    n=c["n"],
                    title=c["title"],
                    source=c["source"],
                    published_at=c.get("published_at"),
                    url=c.get("url"),
                    quote=c["quote"],
                    article_id=c.get("article_id", ""),
                    also_in=tuple(copy.source for copy in carriers),
                    carriers=carriers,
                )
            )
        freshness = Freshness.from_dict(data.get("freshness") or {})
        return cls(
            question=data["question"],
            text=data["answer"],
            answered=data["answered"],
            citations=tuple(citations),
            freshness=freshness if freshness != Freshness() else None,
        )


@dataclass(frozen=True)
class ArticleRecord:
    """One version of an article as the index keeps it: its facts once, not per passage.

    `version` is its content hash (short): a changed article is a new version. `added` is the
    ingest generation that wrote it, `removed` the one that retired it (0 while live).
    """

    article_id: str
    version: str
    title: str
    source: str
    published_at: str | None
    url: str | None
    author: str | None
    attribution: str | None
    content_hash: str
    origin: str
    chunks: int
    added: int = 0
    removed: int = 0
    feed_date: str | None = None  # what its feed entry said (feeds only), to skip refetching
    # The story it belongs to (retrieval/stories/story.py): the id of the story's first article,
    # so a story keeps its id as it grows. "" for records written before stories existed,
    # until the next ingest backfills them.
    story_id: str = ""
    language: str = ""  # ISO 639-1, detected at ingest (retrieval.languages); "" unknown

    @property
    def key(self) -> str:
        return f"{self.article_id}:{self.version}"

    @property
    def published_ts(self) -> float | None:
        return timestamp_or_none(self.published_at)

    def passage_id(self, chunk_index: int) -> str:
        return f"{self.key}:{chunk_index}"

    def passage_ids(self) -> list[str]:
        return [self.passage_id(i) for i in range(self.chunks)]

    def at(self, generation: int) -> ArticleRecord:
        return replace(self, added=generation, removed=0)

    def visible_at(self, generation: int) -> bool:
        return self.added <= generation and (self.removed == 0 or self.removed > generation)

    def to_metadata(self) -> dict[str, str | int | float]:
        meta: dict[str, str | int | float] = {
            "article_id": self.article_id,
            "version": self.version,
            "title": self.title,
            "source": self.source,
            "content_hash": self.content_hash,
            "origin": self.origin,
            "chunks": self.chunks,
            "added": self.added,
            "removed": self.removed,
            "collected": 0,
        }
        for key in ("published_at", "url", "author", "attribution"):
            value = getattr(self, key)
            if value:
                meta[key] = value
        if self.feed_date is not None:
            meta["feed_date"] = self.feed_date
        if self.story_id:
            meta["story_id"] = self.story_id
        if self.language:
            meta["language"] = self.language
        if self.published_ts is not None:
            meta["published_ts"] = self.published_ts
        return meta

    @classmethod
    def from_metadata(cls, meta: dict) -> ArticleRecord:
        return cls(
            article_id=str(meta["article_id"]),
            version=str(meta["version"]),
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            published_at=meta.get("published_at") or None,
            url=meta.get("url") or None,
            author=meta.get("author") or None,
            attribution=meta.get("attribution") or None,
            content_hash=str(meta.get("content_hash", "")),
            origin=str(meta.get("origin", "")),
            chunks=int(meta.get("chunks", 0)),
            added=int(meta.get("added", 0)),
            removed=int(meta.get("removed", 0)),
            feed_date=meta.get("feed_date"),
            story_id=str(meta.get("story_id") or ""),
            language=str(meta.get("language") or ""),
        )
