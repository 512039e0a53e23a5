"""A question parsed once: what search and the extractive answer need to know of it (pure).

The terms, the kind of answer it wants, its dates and the outlets it names are read here, once,
and shared by `Retriever.search` and `score_sentences`; a follow-up's context (earlier questions)
widens recall and weighs in a little, but its dates and outlets do not count.

A question may ask for several facts ("Did TechCrunch report X before The Verge reported Y?"):
`question_parts` cuts it into its parts, one per outlet it names (at the conjunction between two
mentions: "before", "while", ", and" …) or, naming fewer than two, at a strong conjunction
between two clauses that each hold enough words; the answer gives each part its own sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import pairwise

from retrieval.search.dates import DateIntent, parse_dates
from retrieval.tokens import tokenize

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
class Part:
    """One part of a question: its words, and the outlet it names, if any."""

    text: str
    outlet: str | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(tokenize(self.text))


@dataclass(frozen=True)
class Query:
    """A parsed question: its words, the kind of answer, dates, outlets and parts."""

    text: str  # the cleaned question
    terms: tuple[str, ...]  # its content words (`tokenize`)
    kind: str | None  # the kind of answer it asks for: entity, date, place, number
    dates: DateIntent
    outlets: tuple[str, ...]  # outlets of the index it names
    context: str = ""  # earlier questions a follow-up leans on
    context_terms: tuple[str, ...] = field(default=())
    current: bool = False  # asks about now ("still", "currently"): the newest report leads
    parts: tuple[Part, ...] = ()  # what it asks, part by part (one part: the whole question)

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
        parts=question_parts(text, outlets),
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


def outlet_mentions(text: str, outlets: Mapping[str, str]) -> list[tuple[int, int, str]]:
    """Where the question names outlets of the index: (start, end, outlet), in order; of
    overlapping mentions the longest ("The New York Times", not "New York Times") wins."""
    lowered = text.lower()
    found: list[tuple[int, int, str]] = []
    for key, name in outlets.items():
        if len(key) < 3:
            continue
        for match in re.finditer(rf"(?<!\w){re.escape(key)}(?!\w)", lowered):
            found.append((match.start(), match.end(), name))
    found.sort(key=lambda m: (m[0], -(m[1] - m[0])))
    kept: list[tuple[int, int, str]] = []
    for start, end, name in found:
        if kept and start < kept[-1][1]:  # inside or across the previous, longer one
            continue
        kept.append((start, end, name))
    return kept


# Where one part of a question ends and the next begins, strongest first: a cut between two
# outlet mentions takes the strongest conjunction there (the last of equals).
_CUTS = (
    re.compile(
        r"[,;]?\s+(?:before|after|while|whereas|compared\s+(?:to|with)|in\s+contrast\s+to|"
        r"than|but)\s+|;\s*",
        re.IGNORECASE,
    ),
    re.compile(r",\s+(?:and|or)\s+", re.IGNORECASE),
    re.compile(r"\s+(?:and|or)\s+", re.IGNORECASE),
)
_GENERIC = frozenset(  # words that ask for something without saying what it is about
    "article articles company entity figure individual organization person publication".split()
)
MAX_PARTS = 4
MIN_PART_TERMS = 3  # a clause without two outlets is a part only with this many words


def question_parts(text: str, outlets: Mapping[str, str]) -> tuple[Part, ...]:
    """The question cut into the parts it asks about (see the module docstring); one part,
    the whole question, when it has none."""
    mentions = outlet_mentions(text, outlets)
    if len(mentions) >= 2:
        between = [
            _strongest_cut(text, end, start) for (_, end, _), (start, _, _) in pairwise(mentions)
        ]
        found = [cut for cut in between if cut is not None]
        # "Did Fortune disagree with The Age?": no cut, each outlet asked the whole question
        pieces = _pieces(text, found) if len(found) == len(between) else [text] * len(mentions)
        parts = []
        for piece, (_, _, name) in zip(pieces, mentions, strict=True):
            own = set(tokenize(piece)) - set(tokenize(name)) - _GENERIC
            # "Which company, as reported by both TechCrunch": the part is the question's
            parts.append(Part(piece if own else text, outlet=name))
        return tuple(parts[:MAX_PARTS])
    outlet = mentions[0][2] if mentions else None
    for pattern in _CUTS[:2]:
        cuts = [(m.start(), m.end()) for m in pattern.finditer(text)]
        pieces = _pieces(text, cuts)
        if 2 <= len(pieces) <= MAX_PARTS and all(
            len(tokenize(piece)) >= MIN_PART_TERMS for piece in pieces
        ):
            return tuple(Part(piece, outlet=outlet) for piece in pieces)
    return (Part(text, outlet=outlet),)


def _strongest_cut(text: str, start: int, end: int) -> tuple[int, int] | None:
    for pattern in _CUTS:
        found = list(pattern.finditer(text, start, end))
        if found:
            return found[-1].start(), found[-1].end()
    return None


def _pieces(text: str, cuts: list[tuple[int, int]]) -> list[str]:
    pieces, start = [], 0
    for cut_start, cut_end in cuts:
        pieces.append(text[start:cut_start])
        start = cut_end
    pieces.append(text[start:])
    return [p.strip(" ,;?") for p in pieces]
