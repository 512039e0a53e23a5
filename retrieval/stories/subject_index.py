"""Learning a topic's subject from the index, and finding the articles that belong to it.

The I/O around retrieval/subject.py: the topic is searched (dense and BM25, fused), the
articles found are read with their passages' stored vectors (nothing is embedded but the
topic), those matching the topic strongly become the seeds, and their salient names,
stories and centre the subject (`SubjectFinder.learn`). A timeline asks `members` for every
article of the subject: the retrieval hits, the articles nearest the subject's centre and the
seeds' stories, each kept when it belongs (`retrieval.subject.belongs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.index.store import IndexStore
from retrieval.search.retriever import Retriever
from retrieval.stories.subject import (
    Evidence,
    Seed,
    Subject,
    SubjectParams,
    article_vectors,
    belongs,
    lead_names_of,
    lead_share,
    lead_words_of,
    learn_subject,
    salient_names,
    spelling,
)
from retrieval.tokens import tokenize
from retrieval.types import ArticleRecord

SEED_SCORE = 1.10  # dense + 0.5 x the share of the topic's words: the strict follow rule
SEED_DENSE = 0.45
MAX_SEEDS = 20
SEARCH_HITS = 40
NEAR_CENTRE = 60  # articles nearest the subject's centre, for a timeline


@dataclass(frozen=True)
class ArticleText:
    """An article as read for its subject: its passages' text in order, and their vectors."""

    article: ArticleRecord
    text: str
    vectors: np.ndarray

    def names(self) -> frozenset[str]:
        return salient_names(self.article.title, self.text)


def seed_strength(topic_vector: np.ndarray, terms: frozenset[str], text: ArticleText) -> float:
    """How strongly an article matches the topic: its best passage cosine plus half the share
    of the topic's words it carries (the follow matcher's score)."""
    dense = float(np.max(text.vectors @ topic_vector)) if text.vectors.size else 0.0
    words = frozenset(tokenize(text.article.title + " " + text.text))
    coverage = len(terms & words) / len(terms) if terms else 0.0
    return dense + 0.5 * coverage if dense >= SEED_DENSE else 0.0


def evidence_of(
    text: ArticleText, topic: str, topic_vector: np.ndarray, subject: Subject
) -> Evidence:
    """What `belongs` needs of one article (as a story of its own, or of its story)."""
    vectors = text.vectors
    story = text.article.story_id or text.article.article_id
    if not vectors.size:
        return Evidence(story, text.names(), 0.0)
    mean = article_vectors([vectors])[0]
    return Evidence(
        story_id=story,
        names=text.names(),
        dense=float(np.max(vectors @ topic_vector)),
        focus=float(mean @ topic_vector),
        focus_centre=float(mean @ subject.centre) if subject.centre is not None else 0.0,
        lead_words=lead_share(
            frozenset(tokenize(topic)), lead_words_of(text.article.title, text.text)
        ),
        lead_names=lead_names_of(text.article.title, text.text),
    )


class SubjectFinder:
    """Subjects of topics, learned from the live index through the retriever."""

    def __init__(
        self,
        retriever: Retriever,
        params: SubjectParams | None = None,
        articles: IndexStore | None = None,
    ):
        self.retriever = retriever
        self.params = params or SubjectParams()
        self.articles = articles  # the article vectors, for a timeline's nearest articles

    def read(self, articles: Iterable[ArticleRecord]) -> list[ArticleText]:
        articles = list({a.key: a for a in articles}.values())
        rows = self.retriever.store.fetch(
            (pid for a in articles for pid in a.passage_ids()), vectors=True
        )
        texts = []
        for article in articles:
            found = [rows[p] for p in article.passage_ids() if p in rows]
            vectors = [r.vector for r in found if r.vector is not None]
            texts.append(
                ArticleText(
                    article,
                    "\n\n".join(r.text for r in found),
                    np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, 1)),
                )
            )
        return texts

    def found(self, topic: str) -> list[ArticleRecord]:
        """The live articles retrieval finds for the topic (and their folded copies)."""
        live = self.retriever.catalog().articles
        ids: list[str] = []
        for hit in self.retriever.search(topic, SEARCH_HITS):
            ids.append(hit.passage.article_id)
            ids.extend(p.article_id for p in hit.also_in)
        return [live[i] for i in dict.fromkeys(ids) if i in live]

    def learn(self, topic: str, vector: np.ndarray | None = None) -> Subject:
        """The subject of `topic` in the index now (empty when nothing matches it strongly)."""
        if vector is None:
            vector = self.retriever.query_vector(topic)
        candidates = self.read(self.found(topic))
        return subject_from(topic, np.asarray(vector, np.float32), candidates, self.idf())

    def idf(self):
        return self.retriever.idf()

    def members(self, topic: str, subject: Subject, vector: np.ndarray) -> list[ArticleRecord]:
        """The live articles that belong to the subject: among those retrieval finds, those
        nearest its centre, and every article of its stories."""
        live = self.retriever.catalog().articles
        candidates = {a.key: a for a in self.found(topic)}
        if subject.centre is not None and self.articles is not None:
            for key, _ in self.articles.nearest_articles(subject.centre, NEAR_CENTRE):
                article = live.get(key.split(":", 1)[0])
                if article is not None and article.key == key:
                    candidates[key] = article
        for article in live.values():
            if article.story_id and article.story_id in subject.stories:
                candidates[article.key] = article
        return [
            t.article
            for t in self.read(candidates.values())
            if belongs(subject, evidence_of(t, topic, vector, subject), self.params)
        ]


def subject_from(
    topic: str,
    vector: np.ndarray,
    candidates: Sequence[ArticleText],
    idf,
    params: SubjectParams | None = None,
) -> Subject:
    """The subject learned from candidate articles: the strongest matches are its seeds."""
    terms = frozenset(tokenize(topic))
    scored = sorted(
        ((seed_strength(vector, terms, t), t) for t in candidates),
        key=lambda st: -st[0],
    )
    seeds = []
    for strength, text in scored[:MAX_SEEDS]:
        if strength < SEED_SCORE:
            break
        mean = np.mean(text.vectors, axis=0)
        seeds.append(
            Seed(
                story_id=text.article.story_id or text.article.article_id,
                names=text.names(),
                vector=mean / (np.linalg.norm(mean) or 1.0),
            )
        )
    texts = [t.article.title + "\n" + t.text for _, t in scored[: len(seeds)]]
    return learn_subject(topic, seeds, idf, params, spell=lambda key: spelling(key, texts))
