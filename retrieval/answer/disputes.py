"""Disputed facts: different figures or dates for the same thing in different outlets (pure).

"34 observers will monitor the ceasefire" (Delta Times) and "only 28 observers will monitor the
ceasefire" (Harbor Gazette) are one fact told two ways. A *figure* is a number and the noun it
counts, both normalised ("thirty-four international observers" is 34 × "observer"); a *date* is
a day of the calendar ("March 10", "10 March"). Two statements dispute each other when they
give different values for the same noun (or both a date), come from outlets that share none
(wire copies carry their outlets along), and say the same thing otherwise: their sentences
share enough other content words. The same figure in two outlets is agreement, and different
nouns are different facts.

`find_disputes` looks only at what concerns the question: nouns the question or the answer
counts, dates when the question asks "when" or the answer gives one. `side_by_side` then adds
one sentence to the answer that shows each version with its citation, unless the answer already
puts them side by side (as an LLM asked for it does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from retrieval.search.dates import find_days
from retrieval.search.query import Query
from retrieval.sentences import split_sentences
from retrieval.tokens import tokenize
from retrieval.types import Answer, Citation, SearchHit

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS, "dozen"], key=len, reverse=True))
_MONTH_WORDS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# A number as written: digits ("1,200", "3.5") or words ("thirty-four", "a dozen").
_NUMBER = re.compile(
    rf"(?<![\w.,:/$€£%-])(?P<digits>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)(?![\w%:/-]|\.\d|,\d)"
    rf"|\b(?P<words>(?:{_NUMBER_WORD})(?:[- ](?:{'|'.join(_UNITS)}))?)\b(?!-)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z]+(?:['’][a-z]+)?")
# Words that end the noun phrase after a number: nothing after them is what it counts.
_ENDS_PHRASE = frozenset(
    """
    a an and are as at be been but by can could did do does for from had has have he her his
    if in into is it its may might more must of off on or per percent over said says she
    should than that the their then there these they this those to under was were which while
    who will with would about after before between during each some than up
    """.split()
)
_IRREGULAR = {
    "people": "person",
    "persons": "person",
    "men": "man",
    "women": "woman",
    "children": "child",
    "police": "police",
    "personnel": "personnel",
    "staff": "staff",
    "troops": "troop",
    "civilians": "civilian",
}


def singular(word: str) -> str:
    """A plural noun's singular, roughly: "countries" -> "country", "observers" -> "observer"."""
    word = word.lower()
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _looks_plural(word: str) -> bool:
    lowered = word.lower()
    return lowered in _IRREGULAR or singular(lowered) != lowered


def number_value(text: str) -> float | None:
    """The value of a number as written: "1,200" -> 1200, "thirty-four" -> 34, "dozen" -> 12."""
    text = text.lower().strip()
    if re.fullmatch(r"\d[\d,]*(?:\.\d+)?", text):
        return float(text.replace(",", ""))
    if text == "dozen":
        return 12.0
    parts = re.split(r"[- ]", text)
    total = 0
    for part in parts:
        if part in _TENS:
            total += _TENS[part]
        elif part in _UNITS:
            total += _UNITS[part]
        else:
            return None
    return float(total)


@dataclass(frozen=True)
class Figure:
    """A number and the noun it counts, as found in a sentence."""

    value: float
    noun: str  # normalised: singular, lowercase
    number_text: str  # the number as written: "34", "thirty-four"
    noun_text: str  # the noun as written: "observers"
    start: int  # offsets of the number in the sentence
    end: int


def figures(sentence: str) -> list[Figure]:
    """The counted things in a sentence: "34 international observers" -> 34 × observer.

    Not figures: years, days of a month ("March 10"), percentages, money, times, ordinals,
    ages ("34-year-old"), and numbers followed by nothing they count."""
    found = []
    for match in _NUMBER.finditer(sentence):
        number_text = match.group()
        value = number_value(number_text)
        if value is None:
            continue
        before = sentence[: match.start()].rstrip().lower()
        before_word = (re.findall(r"[a-z]+$", before) or [""])[0]
        if before_word in _MONTH_WORDS or before.endswith(("$", "€", "£", "no.", "#")):
            continue
        rest = sentence[match.end() :]
        scale = re.match(r"\s+(hundred|thousand|million|billion)\b", rest, re.IGNORECASE)
        if scale:
            value *= _SCALES[scale.group(1).lower()]
            number_text = f"{number_text} {scale.group(1)}"
            rest = rest[scale.end() :]
        if match.group("digits") and not scale and 1900 <= value <= 2100 and "." not in number_text:
            continue  # a year
        noun = _counted_noun(rest)
        if noun is None:
            continue
        found.append(Figure(value, singular(noun), number_text, noun, match.start(), match.end()))
    return found


def _counted_noun(rest: str) -> str | None:
    """The noun a number counts, from the words after it (at most three, up to a function
    word or punctuation): the first plural among them, else the last."""
    if re.match(r"\s*(?:%|percent\b|per\s+cent\b|-)", rest, re.IGNORECASE):
        return None
    words: list[str] = []
    position = 0
    for match in _WORD.finditer(rest):
        if rest[position : match.start()].strip():
            break  # punctuation between the words: the phrase ended
        word = match.group()
        if word.lower() in _ENDS_PHRASE or word.lower() in _MONTH_WORDS or len(words) == 3:
            break
        words.append(word)
        position = match.end()
    if not words:
        return None
    noun = next((w for w in words if _looks_plural(w)), words[-1])
    return noun if len(noun) >= 3 else None


@dataclass(frozen=True)
class Statement:
    """One version of a fact: its value in one sentence of one hit."""

    key: str  # what it is about: a noun ("observer"), or "date"
    value: tuple  # comparable: (34.0,) or (year, month, day)
    shown: str  # the value as written: "34", "March 10"
    noun_text: str  # the noun as written ("observers"); "" for dates
    hit: int  # index into the hits
    sentence: str
    outlets: tuple[str, ...]  # the hit's outlet first, then those of its copies


@dataclass(frozen=True)
class Dispute:
    """Different values for one thing; one statement per value (the best placed hit's)."""

    key: str
    statements: tuple[Statement, ...]


def _outlets(hit: SearchHit) -> tuple[str, ...]:
    names = [hit.passage.source]
    for copy in hit.also_in:
        if copy.source not in names:
            names.append(copy.source)
    return tuple(names)


def statements(hits: Sequence[SearchHit]) -> list[Statement]:
    """Every figure and every dated day in the hits' sentences."""
    found = []
    for h, hit in enumerate(hits):
        text = hit.passage.text
        outlets = _outlets(hit)
        for span in split_sentences(text):
            sentence = text[span.start : span.end]
            for figure in figures(sentence):
                found.append(
                    Statement(
                        figure.noun,
                        (figure.value,),
                        figure.number_text,
                        figure.noun_text,
                        h,
                        sentence,
                        outlets,
                    )
                )
            for shown, day in find_days(sentence):
                found.append(Statement("date", day, shown, "", h, sentence, outlets))
    return found


def _context(statement: Statement) -> set[str]:
    """The sentence's content words, less numbers and the words of the fact itself."""
    words = {singular(w) for w in tokenize(statement.sentence)}
    fact = {singular(w) for w in tokenize(f"{statement.shown} {statement.noun_text}")}
    return {
        w
        for w in words - fact
        if not w.isdigit()
        and number_value(w) is None
        and w not in _MONTH_WORDS
        and w not in _SCALES
    }


def disagree(a: Statement, b: Statement, *, min_shared: int = 2) -> bool:
    """Whether two statements are different versions of one fact from different outlets."""
    if a.key != b.key or a.value == b.value or set(a.outlets) & set(b.outlets):
        return False
    shared = len(_context(a) & _context(b))
    needed = min_shared + 1 if a.key == "date" else min_shared  # a date names no thing
    return shared >= needed


def concerns(query: Query, answer_text: str) -> set[str]:
    """What a dispute may be about: nouns the question or the answer counts, and "date" when
    the question asks when or the answer gives a date."""
    keys = {singular(t) for t in query.terms}
    keys |= {f.noun for f in figures(answer_text)}
    if query.kind == "date" or find_days(answer_text):
        keys.add("date")
    return keys


def find_disputes(
    query: Query, answer_text: str, hits: Sequence[SearchHit], *, min_shared: int = 2
) -> list[Dispute]:
    """The facts the hits give differently in different outlets, among those that concern the
    question or the answer; each dispute lists one statement per value, best hit first."""
    relevant = concerns(query, answer_text)
    found = [s for s in statements(hits) if s.key in relevant]
    disputes = []
    for key in dict.fromkeys(s.key for s in found):
        mine = [s for s in found if s.key == key]
        contested = [s for s in mine if any(disagree(s, t, min_shared=min_shared) for t in mine)]
        if not contested:
            continue
        by_value: dict[tuple, Statement] = {}
        for statement in sorted(contested, key=lambda s: s.hit):
            by_value.setdefault(statement.value, statement)
        if len(by_value) > 1:
            disputes.append(Dispute(key, tuple(by_value.values())))
    return disputes


_MARKERS = re.compile(r"(?:\s*\[\d+\])+")


def _answer_sentences(text: str) -> list[str]:
    """The answer's sentences, each with the markers that follow it."""
    return [part for part in re.findall(r".+?(?:\[\d+\])+(?=\s|$)|.+$", text.strip()) if part]


def already_side_by_side(answer_text: str, dispute: Dispute) -> bool:
    """Whether one sentence of the answer already gives every version."""
    for sentence in _answer_sentences(answer_text):
        plain = _MARKERS.sub(" ", sentence).lower()
        if all(
            re.search(rf"(?<![\w.,]){re.escape(s.shown.lower())}(?![\w]|,\d)", plain)
            for s in dispute.statements
        ):
            return True
    return False


def join_names(names: Sequence[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _citation_for(
    answer_citations: list[Citation], hits: Sequence[SearchHit], statement: Statement
) -> int:
    """The number of the citation of the statement's article, added (quoting it) if new."""
    passage = hits[statement.hit].passage
    for citation in answer_citations:
        if citation.article_id == passage.article_id:
            if statement.sentence not in citation.quote:
                quote = f"{citation.quote} … {statement.sentence}"
                answer_citations[answer_citations.index(citation)] = replace(citation, quote=quote)
            return citation.n
    n = max((c.n for c in answer_citations), default=0) + 1
    answer_citations.append(Citation.quoting(n, passage, statement.sentence))
    return n


def describe(dispute: Dispute, numbers: Sequence[int]) -> str:
    """ "Reports differ: 34 observers according to Delta Times [2]; 28 according to the
    Harbor Gazette and the Plains Courier [1]." """
    parts = []
    for i, (statement, n) in enumerate(zip(dispute.statements, numbers, strict=True)):
        noun = f" {statement.noun_text}" if i == 0 and statement.noun_text else ""
        parts.append(f"{statement.shown}{noun} according to {join_names(statement.outlets)} [{n}]")
    about = " on the date" if dispute.key == "date" else ""
    return f"Reports differ{about}: {'; '.join(parts)}."


def side_by_side(answer: Answer, hits: Sequence[SearchHit], disputes: Sequence[Dispute]) -> Answer:
    """The answer with one sentence per dispute showing every version with its citation
    (citations added for versions the answer did not cite)."""
    if not answer.answered:
        return answer
    text, citations = answer.text, list(answer.citations)
    for dispute in disputes:
        if already_side_by_side(text, dispute):
            continue
        numbers = [_citation_for(citations, hits, s) for s in dispute.statements]
        text = f"{text} {describe(dispute, numbers)}"
    return replace(answer, text=text, citations=tuple(citations))
