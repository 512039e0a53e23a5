"""Plain data shared by the index, search and answering."""

from __future__ import annotations

from dataclasses import dataclass, field
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

    def to_metadata(self) -> dict[str, str | int | float]:
        """Chroma metadata: no None values, dates also as a number for range filters."""
        meta: dict[str, str | int | float] = {
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "chunk_index": self.chunk_index,
            "start": self.start,
            "end": self.end,
            "content_hash": self.content_hash,
            "text_hash": self.text_hash,
            "origin": self.origin,
        }
        for key in ("published_at", "url", "author", "attribution"):
            value = getattr(self, key)
            if value:
                meta[key] = value
        if self.published_at:
            meta["published_ts"] = iso_to_timestamp(self.published_at)
        return meta

    @classmethod
    def from_record(cls, id: str, text: str, meta: dict) -> Passage:
        return cls(
            id=id,
            text=text,
            article_id=str(meta["article_id"]),
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            published_at=meta.get("published_at") or None,
            url=meta.get("url") or None,
            author=meta.get("author") or None,
            chunk_index=int(meta.get("chunk_index", 0)),
            start=int(meta.get("start", 0)),
            end=int(meta.get("end", 0)),
            content_hash=str(meta.get("content_hash", "")),
            text_hash=str(meta.get("text_hash", "")),
            origin=str(meta.get("origin", "")),
            attribution=meta.get("attribution") or None,
        )


@dataclass(frozen=True)
class SearchHit:
    """A passage found for a query; `score` is higher for better matches."""

    passage: Passage
    score: float
    rank: int = 0
    also_in: tuple[Passage, ...] = field(default=())  # near-duplicates from other outlets
    similarity: float = 0.0  # cosine of query and passage embeddings: an absolute measure


def parse_published(value: str) -> datetime:
    """A stored ISO 8601 date as an aware datetime (a date without a zone is UTC)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def iso_to_timestamp(value: str) -> float:
    return parse_published(value).timestamp()


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


@dataclass(frozen=True)
class Freshness:
    """How new the news behind an answer is: the newest cited article (copies included) and
    when the index last finished an ingest; ISO 8601 strings, None when unknown."""

    newest_cited: str | None = None
    index_updated: str | None = None

    def to_dict(self) -> dict:
        return {"newest_cited": self.newest_cited, "index_updated": self.index_updated}


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
