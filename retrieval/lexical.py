"""BM25 over passages, in memory: exact names ("Kabulov", "Zakharova") match even when the
embedding misses them. Built once per index generation; a query costs a few milliseconds.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable

import numpy as np

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
STOPWORDS = frozenset(
    """
    a about above according after again against ago all also am an and any are article as at
    be because been before being below between both but by can could did do does doing down
    during each few for from further going had happen happened happening has have having he
    her here hers herself him himself his how i if in into is it its itself just latest me
    more most my myself new news no nor not now of off on once only or other our ours out over
    own recent recently report reported said same say says she should since so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up update updates very was we were what when where which while who whom why
    will with would you your yours yourself
    """.split()
)


def tokenize(text: str) -> list[str]:
    """Lowercased words without stopwords; possessive 's dropped ("Russia's" -> "russia")."""
    words = []
    for match in _WORD.finditer(text.lower()):
        word = re.sub(r"['’]s$", "", match.group())
        if word not in STOPWORDS:
            words.append(word)
    return words


class BM25Index:
    """Okapi BM25 with an inverted index of numpy arrays."""

    def __init__(self, documents: list[str], *, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        postings: dict[str, dict[int, int]] = defaultdict(dict)
        lengths = np.zeros(len(documents), dtype=np.float32)
        for doc_id, text in enumerate(documents):
            terms = tokenize(text)
            lengths[doc_id] = len(terms)
            for term in terms:
                row = postings[term]
                row[doc_id] = row.get(doc_id, 0) + 1
        self.size = len(documents)
        average = float(lengths.mean()) if len(documents) else 1.0
        self._norm = k1 * (1 - b + b * lengths / max(average, 1e-9))
        self._postings = {
            term: (
                np.fromiter(row.keys(), dtype=np.int32, count=len(row)),
                np.fromiter(row.values(), dtype=np.float32, count=len(row)),
            )
            for term, row in postings.items()
        }

    def idf(self, term: str) -> float:
        df = len(self._postings[term][0]) if term in self._postings else 0
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, terms: Iterable[str]) -> np.ndarray:
        """A BM25 score for every document (zero where no query term occurs).

        `terms` are the query's, as `tokenize` gives them (a query is tokenized once, by
        `retrieval.query`, not once per ranking)."""
        if isinstance(terms, str):
            raise TypeError("BM25 takes the query's terms (tokenize(text)), not its text")
        scores = np.zeros(self.size, dtype=np.float32)
        for term in set(terms):
            posting = self._postings.get(term)
            if posting is None:
                continue
            ids, tf = posting
            scores[ids] += self.idf(term) * tf * (self.k1 + 1) / (tf + self._norm[ids])
        return scores

    def top(
        self, terms: Iterable[str], k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The k best (document, score) pairs with a positive score, best first."""
        scores = self.scores(terms)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, int(np.count_nonzero(scores)))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(i), float(scores[i])) for i in best]
