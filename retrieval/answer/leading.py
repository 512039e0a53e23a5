"""The sentence an answer leads with, and what a decline says instead (pure).

For a question of a definite kind (`Asked.definite`: who, where, when, how many, why), the
answer is the one sentence that holds the asked-for fact (`retrieval.answer.asking.answers`), said
first and alone (with a sentence that continues it, "… are invited as well"); the rest of
the evidence is quoted in the citations, not said. The sentences that hold an answer are
ranked by the words of the question they hold, the kind of answer, their passage's rank and
their closeness in meaning (the sentence vectors stored at ingest).

When no sentence holds the fact but the news is on the subject, the decline says what the
news does say: "The news I have doesn't say how many died; it reports: … [1]".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from retrieval.answer.asking import Asked, answers, focus_share, is_statement, specific
from retrieval.answer.extractive import Sentence, SentenceKey, with_continuations
from retrieval.types import SearchHit

DECLINE = "The news I have doesn't say."
MEANING_WEIGHT = 1.0  # as `ChoiceParams.meaning_weight`
SPECIFIC_BONUS = 0.2


def contexts(sentences: list[Sentence]) -> dict[SentenceKey, str]:
    """Each sentence's context: the sentence before it in its passage (the headline is
    not: it says what the article is about, not what the sentence says)."""
    ordered = sorted(sentences, key=lambda s: (s.hit, s.start))
    result: dict[SentenceKey, str] = {}
    previous: Sentence | None = None
    for sentence in ordered:
        before = previous.text if previous is not None and previous.hit == sentence.hit else ""
        result[(sentence.hit, sentence.start)] = before
        previous = sentence
    return result


def ranked(
    sentences: list[Sentence], meaning: Mapping[SentenceKey, float], asked: Asked | None = None
) -> list[Sentence]:
    """`sentences` best first: their score (question words, answer kind, passage rank), their
    closeness in meaning to the question, and how exactly they say the asked-for fact (a
    calendar date says more than a weekday)."""

    def value(s: Sentence) -> float:
        exact = SPECIFIC_BONUS if asked is not None and specific(asked, s.text) else 0.0
        return s.score + MEANING_WEIGHT * meaning.get((s.hit, s.start), 0.0) + exact

    return sorted(sentences, key=lambda s: -value(s))


def answering(
    asked: Asked,
    question: str,
    hits: list[SearchHit],
    sentences: list[Sentence],
    meaning: Mapping[SentenceKey, float],
) -> list[Sentence]:
    """The sentences that answer the question (hold an answer of the asked kind tied to the
    focus), best first."""
    around = contexts(sentences)
    found = [
        s
        for s in sentences
        if is_statement(s.text)
        and answers(asked, s.text, around[(s.hit, s.start)], question, _passage(hits[s.hit]))
    ]
    return ranked(found, meaning, asked)


def _passage(hit: SearchHit) -> str:
    return f"{hit.passage.title}\n{hit.passage.text}"


def lead_with(
    lead: Sentence, chosen: list[Sentence], sentences: list[Sentence], hits: list[SearchHit]
) -> list[Sentence]:
    """The answer's sentences: `lead` (and a sentence continuing it) said first and alone,
    then `chosen` (the evidence `choose` found) quoted in the citations but not said."""
    said = with_continuations([lead], sentences, hits)
    keys = {(s.hit, s.start) for s in said}
    quoted = [replace(s, shown=False) for s in chosen if (s.hit, s.start) not in keys]
    return said + quoted


def related(
    asked: Asked, sentences: list[Sentence], meaning: Mapping[SentenceKey, float]
) -> Sentence | None:
    """What the news does say on the subject of a question it does not answer: the statement
    holding most of the question's focus, the closest in meaning among equals."""
    candidates = [s for s in sentences if is_statement(s.text)]
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda s: (
            focus_share(asked, s.text),
            s.score + MEANING_WEIGHT * meaning.get((s.hit, s.start), 0.0),
        ),
    )


def says_instead(asked: Asked, reported: str) -> str:
    """The decline that says what the news does report (`reported`: a sentence with its
    marker): "The news I have doesn't say how many died; it reports: … [1]"."""
    if not asked.phrase:
        return DECLINE
    return f"{_doesnt_say(asked)}; it reports: {reported}"


def declined(asked: Asked) -> str:
    """The plain decline, naming what was asked when the question says it."""
    return f"{_doesnt_say(asked)}." if asked.phrase else DECLINE


def _doesnt_say(asked: Asked) -> str:
    verb = "answer" if asked.phrase.startswith("“") else "say"  # the question as asked
    return f"The news I have doesn't {verb} {asked.phrase}"
