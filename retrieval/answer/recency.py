"""The latest state first, and how fresh an answer's news is (pure).

When a later report changes what earlier ones said (invited → withdrew, scheduled → postponed),
the answer leads with the later report, dated, and keeps the earlier ones after it, dated too:
"Latest, 13 March 2026: The Northern Alliance has withdrawn from the talks … [1] Earlier,
9 March 2026: The Northern Alliance will take part … [2]". A *change* is a sentence with a
word of reversal (withdrew, pulled out, postponed, cancelled, called off, no longer, …; or
вышел из, انسحب, انصراف … in the other supported languages) that
holds at least half of the question's terms, in an article dated after one the answer cites.
Questions that ask about now ("still", "currently", "now", `Query.current`, or "latest") put
the newest cited report first even without a word of reversal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from retrieval.answer.extractive import stem
from retrieval.search.query import Query
from retrieval.sentences import split_sentences
from retrieval.tokens import tokenize
from retrieval.types import (
    Answer,
    Citation,
    Freshness,
    SearchHit,
    parse_published,
    timestamp_or_none,
)

_CHANGE = re.compile(
    r"\b(?:withdr[ae]wn?|withdraw(?:s|ing|al)?|pull(?:s|ed|ing)?\s+out|back(?:s|ed|ing)?\s+out"
    r"|drop(?:s|ped|ping)?\s+out|walk(?:s|ed|ing)?\s+out|postpon\w+|put\s+off|delay(?:s|ed)"
    r"|cancel(?:s|l?ed|l?ing|lation)?|call(?:s|ed|ing)?\s+off|suspend(?:s|ed|ing)?|scrap(?:s|ped)"
    r"|rescind\w*|revers\w+|revok\w+|abandon(?:s|ed|ing)?|boycott\w*|reject(?:s|ed|ing)?"
    r"|resched\w+|no\s+longer|not\s+(?:take\s+part|attend|join|participate|go\s+ahead|sign))\b",
    re.IGNORECASE,
)
# The same words in the other supported languages. Russian and Ukrainian by stem; Arabic script
# without word boundaries, since "and"/"then" (و ف) and articles attach to the word in front.
_CHANGE_OTHER = re.compile(
    r"\b(?:отозва\w*|вы(?:шел|шла|шли|ходит)\s+из|ви(?:йшов|йшла|йшли|ходить)\s+з|отказал\w*"
    r"|відмовив\w*|отлож\w+|відклад\w+|відкла\w+|перенес[еёл]\w*|відклика\w*|отмен\w+"
    r"|скасова\w+|приостанов\w+|призупин\w+|больше\s+не|більше\s+не|бойкот\w*)"
    r"|انسحا|انسحب|ينسحب|إلغاء|ألغ[ىتي]|تأجيل|أرجأ|إرجاء|تعليق|مقاطعة"  # Arabic
    r"|انصراف|کناره‌گیری|لغو|تعویق|به تأخیر|تحریم"  # Persian
    r"|ووت|لغوه|وځنډ|ځنډول|بایکاټ",  # Pashto
    re.IGNORECASE,
)
_UNIT = re.compile(r".+?(?:\[\d+\])+(?=\s|$)|.+$")
_MARKER = re.compile(r"\[(\d+)\]")


def is_change(sentence: str) -> bool:
    """Whether a sentence reports a reversal: withdrew, postponed, called off, no longer…"""
    return bool(_CHANGE.search(sentence) or _CHANGE_OTHER.search(sentence))


def answer_units(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """The answer's sentences with the citation numbers each ends with."""
    units = []
    for line in text.splitlines():
        for match in _UNIT.finditer(line.strip()):
            part = match.group().strip()
            if part:
                units.append((part, tuple(int(n) for n in _MARKER.findall(part))))
    return units


def long_day(value: str | None) -> str:
    """ "2026-03-13T18:20:00Z" -> "13 March 2026" (the day as its outlet dated it)."""
    if not value:
        return "undated"
    day = parse_published(value)
    return f"{day.day} {day:%B %Y}"


def _stems(text: str) -> set[str]:
    return {stem(word) for word in tokenize(text)}


def _on_question(
    query: Query, hits: Sequence[SearchHit], min_share: float
) -> Iterator[tuple[int, float, str, float]]:
    """(hit index, its date, sentence, share of the question's words) for each sentence of a
    dated hit that holds at least `min_share` of the question."""
    asked = _stems(query.text)
    if not asked:
        return
    for h, hit in enumerate(hits):
        when = timestamp_or_none(hit.passage.published_at)
        if when is None:
            continue
        text = hit.passage.text
        for span in split_sentences(text):
            sentence = text[span.start : span.end]
            share = len(asked & _stems(sentence)) / len(asked)
            if share >= min_share:
                yield h, when, sentence, share


def latest_change(
    query: Query,
    hits: Sequence[SearchHit],
    *,
    min_share: float = 0.5,
    answers: Callable[[str], bool] | None = None,
) -> tuple[int, str] | None:
    """The newest sentence of the hits that reports a change to what the question asks
    about: (hit index, sentence); the one holding most of the question among equals. With
    `answers`, only a sentence that answers the question (a question asking when talks open
    is not led by the news that one party withdrew from them)."""
    changes = [
        ((when, share, -h), h, sentence)
        for h, when, sentence, share in _on_question(query, hits, min_share)
        if is_change(sentence) and (answers is None or answers(sentence))
    ]
    return max(changes, key=lambda c: c[0])[1:] if changes else None


def earlier_report(
    query: Query, hits: Sequence[SearchHit], before: float, *, min_share: float = 0.5
) -> tuple[int, str] | None:
    """The report a change reversed: the sentence of a hit dated before `before` that holds
    most of the question and reports no change itself: (hit index, sentence); the later one
    among equals, as it is the state the change replaced."""
    reports = [
        ((share, when, -h), h, sentence)
        for h, when, sentence, share in _on_question(query, hits, min_share)
        if when < before and not is_change(sentence)
    ]
    return max(reports, key=lambda r: r[0])[1:] if reports else None


def _cite(citations: list[Citation], hit: SearchHit, sentence: str) -> int:
    """The citation number of `hit`'s article, added quoting `sentence` when not yet cited."""
    passage = hit.passage
    for i, citation in enumerate(citations):
        if citation.article_id == passage.article_id:
            if sentence not in citation.quote:
                citations[i] = replace(citation, quote=f"{sentence} … {citation.quote}")
            return citation.n
    n = max((c.n for c in citations), default=0) + 1
    citations.append(Citation.quoting(n, passage, sentence))
    return n


def renumber(text: str, citations: Sequence[Citation]) -> tuple[str, tuple[Citation, ...]]:
    """Citations numbered 1..m in order of first use in `text`; unused ones dropped."""
    order: list[int] = []
    for n in _MARKER.findall(text):
        if int(n) not in order:
            order.append(int(n))
    new = {old: i for i, old in enumerate(order, start=1)}
    by_n = {c.n: c for c in citations}
    text = _MARKER.sub(lambda m: f"[{new.get(int(m.group(1)), m.group(1))}]", text)
    kept = tuple(replace(by_n[old], n=new[old]) for old in order if old in by_n)
    return text, kept


def latest_first(
    answer: Answer,
    hits: Sequence[SearchHit],
    query: Query,
    answers: Callable[[str], bool] | None = None,
) -> Answer:
    """The answer led by the latest report when later news changed what it says (or when the
    question asks about now), the earlier reports after it, each dated; `answers`: see
    `latest_change`."""
    if not answer.answered or not answer.citations:
        return answer
    citations = list(answer.citations)
    dated = {c.n: timestamp_or_none(c.published_at) for c in citations}
    units = answer_units(answer.text)

    def when(unit: tuple[str, tuple[int, ...]]) -> float | None:
        times = [t for n in unit[1] if (t := dated.get(n)) is not None]
        return max(times) if times else None

    earliest = min((t for t in map(when, units) if t is not None), default=None)
    change = latest_change(query, hits, answers=answers)
    lead_n: int | None = None
    lead_text = ""
    if change is not None and earliest is not None:
        h, sentence = change
        changed_at = timestamp_or_none(hits[h].passage.published_at) or 0
        if changed_at > earliest:
            lead_n = _cite(citations, hits[h], sentence)
            lead_text = sentence
        elif (was := earlier_report(query, hits, changed_at)) is not None:
            # the answer told only the change: the state it reversed is told after it
            lead_n = _cite(citations, hits[h], sentence)
            lead_text = sentence
            e, before = was
            n = _cite(citations, hits[e], before)
            dated[n] = timestamp_or_none(hits[e].passage.published_at)
            units.append((f"{before} [{n}]", (n,)))
    if lead_n is None and (query.current or query.dates.latest):
        newest = max(units, key=lambda u: when(u) or float("-inf"), default=None)
        if newest is not None and when(newest) is not None and newest[1]:
            lead_n, lead_text = newest[1][0], re.sub(r"(?:\s*\[\d+\])+$", "", newest[0])
    if lead_n is None:
        return answer
    first = units[0][1] if units else ()
    if lead_n in first and not any(
        when(u) is not None and when(u) != when(units[0]) for u in units[1:]
    ):
        return answer  # it already leads, and nothing earlier follows
    lead_date = timestamp_or_none(next(c.published_at for c in citations if c.n == lead_n))
    rest = [u for u in units if _unmarked(u[0]) != _unmarked(lead_text)]
    same = [u for u in rest if lead_n in u[1]]
    others = sorted(
        (u for u in rest if lead_n not in u[1]),
        key=lambda u: -(w if (w := when(u)) is not None else float("-inf")),
    )
    lead_citation = next(c for c in citations if c.n == lead_n)
    parts = [f"Latest, {long_day(lead_citation.published_at)}: {lead_text} [{lead_n}]"]
    parts += [u[0] for u in same]
    said: set[float] = set()
    for unit in others:
        t = when(unit)
        if t is not None and lead_date is not None and t < lead_date and t not in said:
            said.add(t)
            n = next(n for n in unit[1] if dated.get(n) == t)
            day = next(c.published_at for c in citations if c.n == n)
            parts.append(f"Earlier, {long_day(day)}: {unit[0]}")
        else:
            parts.append(unit[0])
    text, kept = renumber(" ".join(parts), citations)
    return replace(answer, text=text, citations=kept)


def _unmarked(text: str) -> str:
    return re.sub(r"(?:\s*\[\d+\])+\s*$", "", text).strip()


def newest_cited(citations: Sequence[Citation]) -> str | None:
    """The publication date of the newest cited article or copy of one."""
    best: tuple[float, str] | None = None
    for citation in citations:
        for value in (citation.published_at, *(c.published_at for c in citation.carriers)):
            t = timestamp_or_none(value)
            if t is not None and value and (best is None or t > best[0]):
                best = (t, value)
    return best[1] if best else None


def freshness(answer: Answer, index_updated: str | None) -> Freshness:
    return Freshness(newest_cited=newest_cited(answer.citations), index_updated=index_updated)


def age_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds from an ISO time to `now` (never negative); None when unknown."""
    t = timestamp_or_none(value)
    return None if t is None else max(0.0, now.timestamp() - t)
