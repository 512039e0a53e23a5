"""Timelines: what has happened in a topic, one dated entry per event, with its sources.

"What has happened in the Serra Valley talks?" wants the sequence, not the best passage. A
timeline takes the articles retrieval finds for the topic whose passage is close enough to it
(cosine of query and passage at least `min_similarity`, an absolute measure calibrated in
docs/benchmarks.md) and adds every article of their stories (stories/story.py): a wire copy
or a follow-up the query did not reach still belongs. Its entries are events: the copies of one
wire text fold into one entry citing every outlet; each entry has its day, one short sentence
(the lede of its first report) and its citations, oldest first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from retrieval.search.retriever import Retriever
from retrieval.sentences import split_sentences
from retrieval.stories.story import StoryParams, jaccard, processing_order
from retrieval.types import ArticleRecord, SearchHit, published_day

# "TOWN (Agency) - " or "TOWN, March 5 (Agency) — " opening a wire story.
_DATELINE = re.compile(r"^[A-Z][A-Z .'-]{1,40}(?:,[^()\n]{1,30})?\s*\([^()\n]{1,40}\)\s*[-–—]+\s*")
# How people ask for a timeline; what follows is the topic.
_ASKS = re.compile(
    r"^\s*(?:(?:please\s+)?(?:give\s+me\s+|show\s+me\s+)?(?:a\s+|the\s+)?timeline\s+(?:of|for|on)"
    r"|what\s+(?:has|have)\s+happened\s+(?:in|with|to|on|at)"
    r"|what\s+happened\s+(?:in|with|to)"
    r")\s+(?P<topic>.+?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
SHORT = 220  # characters of an entry's sentence before it is cut at a word


@dataclass(frozen=True)
class TimelineParams:
    """How much retrieval a timeline asks for and how close an article must be."""

    min_similarity: float = 0.45  # query-passage cosine for an article to be on the topic
    hits: int = 40  # passages retrieval is asked for
    max_entries: int = 60


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a timeline: its day, its sentence, the reports citing it."""

    date: str | None  # the day of its first report
    text: str
    citations: tuple[ArticleRecord, ...]  # the first report, then its copies

    def to_dict(self) -> dict:
        return {
            "date": self.date,
            "text": self.text,
            "citations": [
                {
                    "title": a.title,
                    "source": a.source,
                    "published_at": a.published_at,
                    "url": a.url,
                    "article_id": a.article_id,
                }
                for a in self.citations
            ],
        }


@dataclass(frozen=True)
class Timeline:
    """A topic's events, oldest first."""

    query: str
    entries: tuple[TimelineEntry, ...]

    def to_dict(self) -> dict:
        return {"query": self.query, "entries": [e.to_dict() for e in self.entries]}


def timeline_topic(text: str) -> str | None:
    """The topic of a request for a timeline ("timeline of X", "what has happened in X?"),
    None when `text` asks something else."""
    match = _ASKS.match(text)
    return match.group("topic").strip() if match else None


def lede(opening: str) -> str:
    """One short sentence for an entry: the first sentence of the article (its dateline off),
    cut at a word when long."""
    text = opening.strip()
    spans = split_sentences(text)
    sentence = text[spans[0].start : spans[0].end] if spans else text
    sentence = _DATELINE.sub("", sentence.strip(), count=1).strip()
    sentence = " ".join(sentence.split())
    if len(sentence) > SHORT:
        sentence = sentence[:SHORT].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return sentence


def fold_events(
    members: Iterable[tuple[ArticleRecord, str]], params: StoryParams | None = None
) -> list[TimelineEntry]:
    """Entries from articles and their opening passages: copies of one text (shingle Jaccard
    of the openings at least `copy_jaccard`) fold into the entry of the first of them; oldest
    first, undated last."""
    params = params or StoryParams()
    members = list(members)
    openings = {a.key: text for a, text in members}
    groups: list[list[ArticleRecord]] = []
    for article in processing_order(a for a, _ in members):
        for group in groups:
            if jaccard(openings[group[0].key], openings[article.key]) >= params.copy_jaccard:
                group.append(article)
                break
        else:
            groups.append([article])
    return [
        TimelineEntry(published_day(g[0].published_at), lede(openings[g[0].key]), tuple(g))
        for g in groups
    ]


def on_topic(
    hits: Iterable[SearchHit], live: Mapping[str, ArticleRecord], min_similarity: float
) -> list[ArticleRecord]:
    """The live articles (article id -> record) of the hits close enough to the query (and
    of their folded copies), with every other article of their stories."""
    hits = list(hits)
    found = {h.passage.article_id for h in hits if h.similarity >= min_similarity}
    for h in hits:  # a folded copy shares its leader's text, so its closeness too
        if h.passage.article_id in found:
            found.update(p.article_id for p in h.also_in)
    stories = {live[i].story_id or i for i in found if i in live}
    return [
        a for a in live.values() if a.article_id in found or (a.story_id and a.story_id in stories)
    ]


def within(entry: TimelineEntry, since: str | None, until: str | None) -> bool:
    """Is the entry's day in [since, until] (ISO days)? An undated entry is not, when asked."""
    if since is None and until is None:
        return True
    if entry.date is None:
        return False
    return (since is None or entry.date >= since) and (until is None or entry.date <= until)


class TimelineBuilder:
    """A timeline from the live index: retrieval for the topic, the stories it reaches."""

    def __init__(
        self,
        retriever: Retriever,
        params: TimelineParams | None = None,
        story_params: StoryParams | None = None,
    ):
        self.retriever = retriever
        self.params = params or TimelineParams()
        self.story_params = story_params or StoryParams()

    def members(self, query: str) -> list[ArticleRecord]:
        """The live articles on `query`'s topic: those found close enough, and the rest of
        their stories."""
        hits = self.retriever.search(query, self.params.hits)
        return on_topic(hits, self.retriever.catalog().articles, self.params.min_similarity)

    def build(self, query: str, *, since: str | None = None, until: str | None = None) -> Timeline:
        topic = timeline_topic(query) or query
        members = self.members(topic)
        openings = self._openings(members)
        entries = [
            e
            for e in fold_events(((a, openings.get(a.key, "")) for a in members), self.story_params)
            if within(e, since, until)
        ]
        return Timeline(query, tuple(entries[-self.params.max_entries :]))

    def _openings(self, articles: list[ArticleRecord]) -> dict[str, str]:
        rows = self.retriever.store.fetch(a.passage_id(0) for a in articles)
        return {a.key: rows[a.passage_id(0)].text for a in articles if a.passage_id(0) in rows}
