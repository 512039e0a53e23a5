"""Sentence boundaries in news text, as character spans (pure).

Used by chunking (passages are runs of whole sentences) and by answering (a citation quotes
one exact sentence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Sentence ends: . ! ? … and Arabic script's question mark ؟ and full stop ۔ (Urdu, Pashto),
# optionally closed by quotes/brackets, then space, then a likely start: a capital (Latin or
# Cyrillic), a digit, or any letter of Arabic script (which has no capitals). The Arabic comma
# ، separates clauses, as a comma does: it ends no sentence. Chinese and Japanese end one with
# 。！？ and no space after.
# Linear time on any input: a match starts only at the first mark of a run (the lookbehind) and
# never backtracks into it (possessive quantifiers), so a megabyte of "....." costs one pass.
# Backtracking could never have found another match anyway: a shorter run is followed by a mark
# or a closer, not by the space the lookahead needs.
_SENTENCE_END = re.compile(
    r"""(?<![.!?…؟۔])[.!?…؟۔]++["'”’»)\]]*+"""
    r"""(?=\s++["'“‘«„(\[]?[A-Z0-9А-ЯЁЄІЇҐ\u0620-\u064A\u0660-\u0669\u066E-\u06D3\u06F0-\u06F9])"""
    r"""|(?<![。！？])[。！？]++[」』”）]*+(?=\S)"""
)
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sen",
        "rep",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "gov",
        "pres",
        "st",
        "jr",
        "sr",
        "inc",
        "ltd",
        "co",
        "corp",
        "vs",
        "etc",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "u.n",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
    }
)
_PARAGRAPH = re.compile(r"\n\s*\n|\n")


@dataclass(frozen=True)
class Span:
    """A sentence's offsets in its text."""

    start: int
    end: int


def split_sentences(text: str) -> list[Span]:
    """Spans of sentences, trimmed of surrounding whitespace; paragraphs always end one."""
    spans: list[Span] = []
    for para_start, para_end in _paragraphs(text):
        start = para_start
        for match in _SENTENCE_END.finditer(text, para_start, para_end):
            if _is_abbreviation(text, start, match.start()):
                continue
            spans.append(Span(start, match.end()))
            start = _skip_space(text, match.end(), para_end)
        if start < para_end:
            spans.append(Span(start, para_end))
    return [s for s in spans if s.end > s.start]


def _paragraphs(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for match in _PARAGRAPH.finditer(text):
        bounds.append((start, match.start()))
        start = match.end()
    bounds.append((start, len(text)))
    result = []
    for a, b in bounds:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            result.append((a, b))
    return result


def _skip_space(text: str, i: int, end: int) -> int:
    while i < end and text[i].isspace():
        i += 1
    return i


def _is_abbreviation(text: str, sentence_start: int, dot: int) -> bool:
    """True when the period at `dot` ends an abbreviation or an initial, not a sentence."""
    if text[dot] != ".":
        return False
    word_start = dot
    while word_start > sentence_start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].strip("\"'“‘(").lower()
    if word in _ABBREVIATIONS:
        return True
    if word == "no":  # "No. 2" abbreviates; "said no." ends a sentence
        return text[dot + 1 : dot + 3].strip()[:1].isdigit()
    # A single capital letter ("George W. Bush") is an initial.
    return len(word) == 1 and word.isalpha()
