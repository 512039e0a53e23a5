"""Does a story belong to a followed topic? (pure: vectors and text in, a decision out)

The same two signals as search, over the story's passages:

- *dense*: the best cosine of the topic's embedding with any passage of the story (the
  vectors are unit length, as the index stores them);
- *lexical*: the share of the topic's words (stopwords dropped, as BM25 drops them) that
  occur in the story's titles and passages.

A story matches when `dense + LEXICAL_WEIGHT * lexical >= threshold` and `dense` is at least
`min_dense`. The shipped values were calibrated on MultiHop-RAG's dev split, precision first:
a story is pushed only when it is close in meaning to the topic AND carries most of its words.
Measured with `python -m bench.follow_precision` (docs/benchmarks.md, "Follow the news"): for
topics a reader would type (the names of a MultiHop question, "Sam Bankman-Fried FTX") the
test split gets 457 pushes, 0.97 of a judged random sample of them about the topic, and 16% of
the questions' gold articles pushed; with the long questions themselves as topics almost
nothing passes (9 pushes on test). Against the questions' gold articles alone precision is
far lower, because the corpus holds a dozen on-topic articles for each question's two or
three.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from retrieval.tokens import tokenize

LEXICAL_WEIGHT = 0.5


@dataclass(frozen=True)
class MatchParams:
    """The thresholds a story must pass to match a topic (calibrated on dev, see above)."""

    threshold: float = 1.10
    min_dense: float = 0.30


@dataclass(frozen=True)
class Match:
    """A story's two signals against one topic, and whether they pass `MatchParams`."""

    dense: float
    lexical: float

    @property
    def score(self) -> float:
        return self.dense + LEXICAL_WEIGHT * self.lexical

    def accepted(self, params: MatchParams) -> bool:
        return self.dense >= params.min_dense and self.score >= params.threshold


def topic_terms(topic: str) -> frozenset[str]:
    return frozenset(tokenize(topic))


def lexical_coverage(terms: frozenset[str], words: frozenset[str]) -> float:
    """The share of the topic's words found in the story (0 for a topic of stopwords)."""
    if not terms:
        return 0.0
    return len(terms & words) / len(terms)


def dense_similarity(topic_vector: np.ndarray, passage_vectors: np.ndarray) -> float:
    """The best cosine of the topic with any of the story's passages (unit vectors)."""
    matrix = np.asarray(passage_vectors, dtype=np.float32)
    if matrix.size == 0:
        return 0.0
    return float(np.max(matrix @ np.asarray(topic_vector, dtype=np.float32)))


def story_words(texts: Iterable[str]) -> frozenset[str]:
    words: set[str] = set()
    for text in texts:
        words.update(tokenize(text))
    return frozenset(words)


def match(
    topic_vector: np.ndarray,
    terms: frozenset[str],
    passage_vectors: np.ndarray,
    words: frozenset[str],
) -> Match:
    return Match(
        dense=dense_similarity(topic_vector, passage_vectors),
        lexical=lexical_coverage(terms, words),
    )


def match_topics(
    topic_vectors: np.ndarray,
    terms: list[frozenset[str]],
    passage_vectors: np.ndarray,
    words: frozenset[str],
) -> list[Match]:
    """`match` for many topics against one story at once (one matrix product)."""
    matrix = np.asarray(passage_vectors, dtype=np.float32)
    if matrix.size == 0 or not len(terms):
        return [Match(0.0, lexical_coverage(t, words)) for t in terms]
    dense = (matrix @ np.asarray(topic_vectors, dtype=np.float32).T).max(axis=0)
    return [Match(float(d), lexical_coverage(t, words)) for d, t in zip(dense, terms, strict=True)]
