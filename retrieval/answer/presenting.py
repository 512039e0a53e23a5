"""What an answer says about the story behind it, added around the answerer's output (pure):
the latest state first (recency), disputed facts side by side (disputes), every outlet that
carried a cited passage (corroboration), and how fresh the news is."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from retrieval.answer.corroboration import corroborate
from retrieval.answer.disputes import find_disputes, side_by_side
from retrieval.answer.recency import freshness, latest_first, renumber
from retrieval.search.query import Query
from retrieval.types import Answer, SearchHit


def present(
    answer: Answer,
    hits: Sequence[SearchHit],
    query: Query,
    *,
    index_updated: str | None,
    answers: Callable[[str], bool] | None = None,
) -> Answer:
    """`answer` as the reader gets it; a decline only gains its freshness. `answers`: whether
    a sentence answers the question, for a question of a definite kind (a later report
    leads only when it does)."""
    if answer.answered and answer.citations:
        answer = latest_first(answer, hits, query, answers)
        answer = side_by_side(answer, hits, find_disputes(query, answer.text, hits))
        text, citations = renumber(answer.text, answer.citations)
        answer = corroborate(replace(answer, text=text, citations=citations), hits)
    return replace(answer, freshness=freshness(answer, index_updated))
