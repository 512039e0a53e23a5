"""Plans pushes from the committed generation, and answers "what's new".

Pushes follow the index, not the command that changed it: after any commit (a /reingest or
/add here, the schedule, another process's ingest into a shared Chroma server) `plan()` takes
the stories the commits since the last planned generation added or changed, matches each
against every follow, and records one pending push per (chat, story) in the follows
database; `bot/telegram/follow.py` sends them. The plan is recorded with compare-and-set on
the planned generation, so processes sharing the database plan each generation once.

Costs follow what changed: one pass over the changed stories' passages (their stored vectors,
nothing is embedded) against the follows' stored topic vectors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.follows.matching import Match, MatchParams, match_topics, story_words, topic_terms
from bot.follows.store import Follow, FollowStore, PlannedPush, topic_key
from retrieval.embedding import Encoder, encode_queries
from retrieval.index.store import IndexStore
from retrieval.sentences import split_sentences
from retrieval.stories.grouping import stories_changed
from retrieval.stories.story import Story
from retrieval.types import ArticleRecord

logger = logging.getLogger(__name__)

WHATSNEW_LIMIT = 10
FIRST_ASK_GENERATIONS = 10  # a chat that never asked nor followed: the last ingests only
SENTENCE_CHARS = 300

StoriesChanged = Callable[[IndexStore, int, int], list[Story]]


def with_news(stories: Sequence[Story], since: int, upto: int) -> list[Story]:
    """The stories that gained an article in (since, upto]: a story that only lost one, or
    was given its id by a backfill of older articles, brings no news."""
    return [s for s in stories if any(since < a.added <= upto for a in s.articles)]


@dataclass(frozen=True)
class StoryText:
    """What matching and the message need of a story: its passages' vectors and words, and
    the opening sentence of each article."""

    story: Story
    vectors: np.ndarray
    words: frozenset[str]
    openings: dict[str, str]  # article key -> first sentence


@dataclass(frozen=True)
class PlanReport:
    """What one `plan()` did: the generations it covered, the stories and pushes it found."""

    since: int
    upto: int
    stories: int
    pushes: int
    recorded: bool  # False: another process planned these generations first


@dataclass
class Matched:
    """A story that matched a follow, how well, and its articles new since the last push."""

    story: StoryText
    follow: Follow
    how: Match
    new_articles: tuple[ArticleRecord, ...] = field(default=())


def first_sentence(text: str, limit: int = SENTENCE_CHARS) -> str:
    spans = split_sentences(text)
    sentence = text[spans[0].start : spans[0].end] if spans else text.strip()
    sentence = " ".join(sentence.split())
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def push_message(
    text: StoryText, topic: str, new_articles: Sequence[ArticleRecord], *, update: bool
) -> dict:
    """The message of one push as plain data (kept in the pending row): the story's lead
    article (the first one; for an update, the newest new one), its opening sentence and the
    other outlets that carried the story."""
    story = text.story
    lead = new_articles[-1] if update else story.articles[0]
    others = [a for a in story.articles if a.source != lead.source]
    carriers = list({a.source: a for a in others}.values())
    return {
        "topic": topic,
        "story_id": story.id,
        "update": update,
        "new_reports": len(new_articles),
        "title": lead.title,
        "source": lead.source,
        "published_at": lead.published_at,
        "url": lead.url,
        "article_id": lead.article_id,
        "sentence": text.openings.get(lead.key, ""),
        "carriers": [
            {"source": a.source, "title": a.title, "url": a.url, "published_at": a.published_at}
            for a in carriers
        ],
    }


class FollowService:
    """Plans the pushes after each commit and answers "what's new" for a chat's follows."""

    def __init__(
        self,
        store: IndexStore,
        model: Encoder,
        follows: FollowStore,
        *,
        params: MatchParams | None = None,
        changed: StoriesChanged = stories_changed,
    ):
        self.store = store
        self.model = model
        self.follows = follows
        self.params = params or MatchParams()
        self.changed = changed

    def encode_topic(self, topic: str) -> np.ndarray:
        return encode_queries(self.model, [topic])[0]

    def start(self) -> int:
        """Plan from the committed generation on (unless planning started already)."""
        return self.follows.start_at(self.store.committed(fresh=True))

    # -- matching --------------------------------------------------------------------------

    def story_texts(self, stories: Sequence[Story]) -> list[StoryText]:
        texts = []
        for story in stories:
            ids = [pid for a in story.articles for pid in a.passage_ids()]
            rows = self.store.fetch(ids, vectors=True)
            vectors = [r.vector for r in rows.values() if r.vector is not None]
            openings = {}
            for article in story.articles:
                first = rows.get(article.passage_id(0))
                if first is not None:
                    openings[article.key] = first_sentence(first.text)
            words = story_words([a.title for a in story.articles] + [r.text for r in rows.values()])
            matrix = np.vstack(vectors) if vectors else np.zeros((0, 1), dtype=np.float32)
            texts.append(StoryText(story, matrix, words, openings))
        return texts

    def matches(
        self, texts: Sequence[StoryText], follows: Sequence[Follow]
    ) -> list[tuple[StoryText, Follow, Match]]:
        """Every (story, follow) pair the matcher accepts."""
        if not follows:
            return []
        terms = [topic_terms(f.topic) for f in follows]
        topics = np.vstack([f.vector for f in follows])
        found = []
        for text in texts:
            if text.vectors.size == 0:
                continue
            for follow, how in zip(
                follows, match_topics(topics, terms, text.vectors, text.words), strict=True
            ):
                if how.accepted(self.params):
                    found.append((text, follow, how))
        return found

    # -- pushes ----------------------------------------------------------------------------

    def plan(self) -> PlanReport:
        """Plan the pushes of every commit since the last planned generation."""
        committed = self.store.committed(fresh=True)
        since = self.follows.start_at(committed)
        if committed <= since:
            return PlanReport(since, committed, 0, 0, recorded=False)
        follows = self.follows.follows()
        changed = self.changed(self.store, since, committed) if follows else []
        stories = with_news(changed, since, committed)
        best: dict[tuple[int, str], tuple[StoryText, Follow, Match]] = {}
        for text, follow, how in self.matches(self.story_texts(stories), follows):
            pair = (follow.chat_id, text.story.id)
            if pair not in best or how.score > best[pair][2].score:
                best[pair] = (text, follow, how)
        pushes = []
        for (chat_id, story_id), (text, follow, _) in best.items():
            seen = self.follows.pushed_articles(chat_id, story_id)
            keys = tuple(a.key for a in text.story.articles)
            new = [a for a in text.story.articles if seen is None or a.key not in seen]
            if not new:
                continue  # the chat has every article of this story already
            message = push_message(text, follow.topic, new, update=seen is not None)
            pushes.append(PlannedPush(chat_id, story_id, follow.key, keys, message))
        recorded = self.follows.record_plan(since, committed, pushes)
        if recorded:
            logger.info(
                "follows: generations %d..%d: %d stories changed, %d pushes planned",
                since + 1,
                committed,
                len(stories),
                len(pushes),
            )
        return PlanReport(since, committed, len(stories), len(pushes), recorded)

    # -- what's new ------------------------------------------------------------------------

    def whats_new(
        self, chat_id: int, kind: str, topic: str | None = None
    ) -> tuple[list[dict], int]:
        """Stories on the chat's follows (or `topic`) added since the chat last asked or was
        pushed to, newest first (at most WHATSNEW_LIMIT), as push messages; and the
        generation they were read at. The chat is then marked as having seen it."""
        committed = self.store.require()
        since = self.follows.seen_generation(chat_id) or max(0, committed - FIRST_ASK_GENERATIONS)
        if topic:
            follows = [Follow(chat_id, topic, self.encode_topic(topic), 0.0)]
        else:
            follows = self.follows.follows(chat_id)
        stories = (
            with_news(self.changed(self.store, since, committed), since, committed)
            if follows
            else []
        )
        by_story: dict[str, tuple[StoryText, Follow, Match]] = {}
        for text, follow, how in self.matches(self.story_texts(stories), follows):
            known = by_story.get(text.story.id)
            if known is None or how.score > known[2].score:
                by_story[text.story.id] = (text, follow, how)
        found = sorted(
            by_story.values(),
            key=lambda m: (m[0].story.last_published or "", m[0].story.id),
            reverse=True,
        )[:WHATSNEW_LIMIT]
        self.follows.mark_seen(chat_id, kind, committed)
        return [push_message(t, f.topic, t.story.articles, update=False) for t, f, _ in found], (
            committed
        )

    def follow(self, chat_id: int, kind: str, topic: str, *, limit: int) -> bool:
        """Follow `topic` (FollowLimitError past `limit`); a new follower's "what's new"
        starts now, not at the beginning of the archive."""
        added = self.follows.add_follow(chat_id, kind, topic, self.encode_topic(topic), limit=limit)
        if added and self.follows.seen_generation(chat_id) == 0:
            self.follows.mark_seen(chat_id, kind, self.store.committed())
        return added

    def key_of(self, topic: str) -> str:
        return topic_key(topic)
