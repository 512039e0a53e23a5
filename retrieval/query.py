"""A question parsed once: what search and the extractive answer need to know of it (pure).

The terms, the kind of answer it wants, its dates and the outlets it names are read here, once,
and shared by `Retriever.search` and `score_sentences`; a follow-up's context (earlier questions)
widens recall and weighs in a little, but its dates and outlets do not count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from retrieval.dates import DateIntent, parse_dates
from retrieval.lexical import tokenize

_KINDS = {  # cue -> the kind of answer; the first cue the question holds wins
    "who": "entity",
    "whom": "entity",
    "whose": "entity",
    "which": "entity",
    "when": "date",
    "where": "place",
    "how many": "number",
    "how much": "number",
}
# A question about the present state ("Is X still invited?", "Who leads now?"): answers lead
# with the newest report.
_CURRENT = re.compile(
    r"\b(?:now|still|currently|presently|at\s+present|at\s+the\s+moment|any\s*more|"
    r"any\s+longer|as\s+of\s+(?:today|now)|these\s+days)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Query:
    text: str  # the cleaned question
    terms: tuple[str, ...]  # its content words (`tokenize`)
    kind: str | None  # the kind of answer it asks for: entity, date, place, number
    dates: DateIntent
    outlets: tuple[str, ...]  # outlets of the index it names
    context: str = ""  # earlier questions a follow-up leans on
    context_terms: tuple[str, ...] = field(default=())
    current: bool = False  # asks about now ("still", "currently"): the newest report leads

    @property
    def search_text(self) -> str:
        """What is embedded and matched: the context, then the question."""
        return f"{self.context} {self.text}".strip() if self.context else self.text

    @property
    def search_terms(self) -> tuple[str, ...]:
        """The terms of `search_text` (tokens never span the space that joins the two)."""
        return self.context_terms + self.terms

    def with_context(self, context: str) -> Query:
        return replace(self, context=context, context_terms=tuple(tokenize(context)))


def parse_query(
    text: str, *, context: str = "", outlets: Mapping[str, str], now: datetime
) -> Query:
    """`text` (already cleaned) as a Query; `outlets` maps lowercased names to the index's."""
    query = Query(
        text=text,
        terms=tuple(tokenize(text)),
        kind=answer_kind(text),
        dates=parse_dates(text, now),
        outlets=tuple(mentioned_outlets(text, outlets)),
        current=asks_current(text),
    )
    return query.with_context(context) if context else query


def asks_current(question: str) -> bool:
    """Whether the question asks about the present state: "now", "still", "currently"."""
    return bool(_CURRENT.search(question))


def answer_kind(question: str) -> str | None:
    lowered = question.lower()
    for cue, kind in _KINDS.items():
        if re.search(rf"\b{cue}\b", lowered):
            return kind
    return None


def mentioned_outlets(query: str, outlets: Mapping[str, str]) -> list[str]:
    """Outlets of the index named in the question ("according to Reuters")."""
    lowered = query.lower()
    found = []
    for key, name in outlets.items():
        if len(key) >= 3 and re.search(rf"(?<!\w){re.escape(key)}(?!\w)", lowered):
            found.append(name)
    # "The New York Times" also contains "New York Times"-like shorter names: keep the longest.
    return [n for n in found if not any(n != m and n.lower() in m.lower() for m in found)]
