"""The extractive answerer: the sentences of retrieved passages that answer the question,
each marked with `[n]` pointing at its article. Needs no LLM; pure functions over plain data.

`score_sentences` scores every sentence of the hits against the whole question (the words it
holds, weighted by rarity, and the kind of answer asked for); the answerer declines on it, and
on `part_support` (how much of each part of the question some sentence holds).
`choose` then gives each part of the question (`Query.parts`: one per outlet it names, or per
clause) its best-supported sentence: from that outlet's passages, scored by the part's words,
the question's, and, when the passages carry sentence vectors, the sentence's closeness in
meaning to the question (`similarity`), all fused; then sentences that continue a chosen one
and, within `budget` characters, others nearly as good. The answer says at most `say`
characters of them; the rest, and the best sentences of further articles (up to `articles`
cited) and of each cited article (up to `quote_sentences` per citation), are quoted in the
citations without being said: the reader sees the evidence without a longer answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise

from retrieval.search.query import Part, Query
from retrieval.sentences import split_sentences
from retrieval.tokens import tokenize
from retrieval.types import Citation, SearchHit

_DATE_WORDS = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow|"
    r"yesterday|week|month|year|\d{4})\b|\b\d{1,2}(?:st|nd|rd|th)?\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
    r"thousand|million|billion|dozen)\b",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+|\b[A-Z]{2,}\b")
_PLACE = re.compile(r"\b(?:in|at|to|from|near)\s+[A-Z][a-z]+")


@dataclass(frozen=True)
class Sentence:
    """A scored sentence of one hit, a candidate for the answer."""

    hit: int  # index into the hits
    start: int  # offsets in the passage text
    end: int
    text: str
    score: float
    coverage: float  # share of the question's weight this sentence contains
    shown: bool = True  # False: quoted in its citation as support, not said in the answer
    stems: frozenset[str] = field(default=frozenset(), compare=False)  # its words' stems


_SUFFIX = re.compile(r"(?:ations?|ing|ed|es|s)$")


def stem(word: str) -> str:
    """A crude stem, so "invited", "invites" and "invitation" meet (only for long words)."""
    return _SUFFIX.sub("", word) if len(word) > 4 else word


def score_sentences(
    query: Query,
    hits: list[SearchHit],
    *,
    idf: Callable[[str], float],
    context_weight: float = 0.4,
    already_said: str = "",
) -> list[Sentence]:
    """Every sentence of the hits, scored by the question terms it holds (weighted by rarity),
    the kind of answer the question wants, and the rank of its passage. Best first.

    Terms of the query's context (a follow-up's earlier questions) weigh `context_weight` of
    their rarity. Sentences in `already_said` (the previous answer, for a follow-up) count
    half: a follow-up asks for something new."""
    weights = _weights(query.terms, idf)
    for term in query.context_terms:
        weights.setdefault(stem(term), context_weight * idf(term))
    total = sum(weights.values()) or 1.0
    kind = query.kind
    asked = frozenset(query.terms)
    sentences = []
    for h, hit in enumerate(hits):
        text = hit.passage.text
        prior = 1.0 / (1.0 + 0.1 * h)
        for span in split_sentences(text):
            sentence = text[span.start : span.end]
            terms = frozenset(stem(t) for t in tokenize(sentence))
            coverage = sum(w for t, w in weights.items() if t in terms) / total
            bonus = _kind_bonus(kind, sentence, asked)
            score = (coverage + bonus) * prior
            if already_said and sentence in already_said:
                score *= 0.5
            sentences.append(
                Sentence(h, span.start, span.end, sentence, score, coverage, stems=terms)
            )
    sentences.sort(key=lambda s: -s.score)
    return sentences


def part_support(query: Query, sentences: list[Sentence], *, idf: Callable[[str], float]) -> float:
    """How well `sentences` hold each part of the question, on average: for each part, the
    largest share of its words' weight one sentence holds. A question about two articles
    ("Did X report … before Y reported …?") has no sentence holding much of the whole of it,
    but a passage for each part holds much of that part."""
    parts = query.parts or (Part(query.text),)
    shares = []
    for part in parts:
        weights = _weights(part.terms, idf)
        total = sum(weights.values()) or 1.0
        best = max(
            (sum(w for t, w in weights.items() if t in s.stems) for s in sentences), default=0.0
        )
        shares.append(best / total)
    return sum(shares) / len(shares)


def _weights(terms: Iterable[str], idf: Callable[[str], float]) -> dict[str, float]:
    """Each stem's weight: the rarest of its words' rarity."""
    weights: dict[str, float] = {}
    for term in terms:
        weights[stem(term)] = max(weights.get(stem(term), 0.0), idf(term))
    return weights


def _kind_bonus(kind: str | None, sentence: str, asked: frozenset[str]) -> float:
    if kind is None:
        return 0.0
    if kind == "date":
        return 0.25 if _DATE_WORDS.search(sentence) else 0.0
    if kind == "number":
        return 0.2 if _NUMBER.search(sentence) else 0.0
    if kind == "place":
        return 0.15 if _PLACE.search(sentence) else 0.0
    new_names = {m.group().lower() for m in _ENTITY.finditer(sentence)} - asked
    return min(0.25, 0.05 * len(new_names))


_CONTINUES = re.compile(
    r"\b(?:as well|also|too|either)\b|^(?:they|it|he|she|this|these|those|that|the two)\b", re.I
)


def select(
    sentences: list[Sentence],
    hits: list[SearchHit],
    *,
    max_sentences: int = 3,
    relative: float = 0.7,
) -> list[Sentence]:
    """The best sentence and the others nearly as good, without repeating one another; a
    sentence that continues a chosen one ("… are invited as well") comes with it."""
    if not sentences:
        return []
    chosen = _best(sentences, max_sentences, relative)
    continuation = _continuations(sentences, hits)
    for sentence in list(chosen):
        nxt = continuation(sentence)
        if nxt is not None and nxt not in chosen:
            chosen.append(nxt)
    return chosen


def _continuations(
    sentences: list[Sentence], hits: list[SearchHit]
) -> Callable[[Sentence], Sentence | None]:
    """A lookup: the sentence that continues a given one ("… are invited as well"), in its
    passage or at the start of the article's next passage among `hits`, or None."""
    by_start = {(s.hit, s.start): s for s in sentences}
    position = {(x.passage.article_id, x.passage.chunk_index): j for j, x in enumerate(hits)}
    next_chunk = {
        h: position.get((hit.passage.article_id, hit.passage.chunk_index + 1))
        for h, hit in enumerate(hits)
    }

    def continuation(sentence: Sentence) -> Sentence | None:
        nxt = _next_sentence(sentence, by_start)
        if nxt is None and sentence.end == len(hits[sentence.hit].passage.text):
            following = next_chunk.get(sentence.hit)  # it may go on in the article's next passage
            nxt = by_start.get((following, 0)) if following is not None else None
        if nxt is not None and nxt.coverage > 0 and _CONTINUES.search(nxt.text):
            return nxt
        return None

    return continuation


def _next_sentence(sentence: Sentence, by_start: dict) -> Sentence | None:
    for gap in range(0, 4):  # the next sentence starts after a little whitespace
        found = by_start.get((sentence.hit, sentence.end + gap))
        if found is not None:
            return found
    return None


def _best(sentences: list[Sentence], max_sentences: int, relative: float) -> list[Sentence]:
    best = sentences[0].score
    chosen: list[Sentence] = []
    for sentence in sentences:
        if len(chosen) == max_sentences or sentence.score < relative * best:
            break
        words = set(tokenize(sentence.text))
        if any(_overlap(words, set(tokenize(c.text))) > 0.6 for c in chosen):
            continue
        chosen.append(sentence)
    return chosen


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / (min(len(a), len(b)) or 1)


def compose(hits: list[SearchHit], chosen: list[Sentence]) -> tuple[str, list[Citation]]:
    """The answer text with `[n]` after every sentence, and the citations it points to.

    One citation per article, numbered in order of first use; an article's sentences stay in
    their order in the article, and its quote holds each of them verbatim (sentences that
    follow one another in the passage joined as they stand, others by " … "). A sentence not
    `shown` is only quoted. Articles with no sentence shown come last, numbered after the
    others, and the text does not point to them: further reading (see `NewsAnswerer`).
    """
    articles: list[str] = []
    for sentence in sorted(chosen, key=lambda s: not s.shown):  # stable: said ones first
        article = hits[sentence.hit].passage.article_id
        if article not in articles:
            articles.append(article)
    parts: list[str] = []
    citations: list[Citation] = []
    for n, article in enumerate(articles, start=1):
        mine = sorted(
            (s for s in chosen if hits[s.hit].passage.article_id == article),
            key=lambda s: (hits[s.hit].passage.chunk_index, s.start),
        )
        parts.extend(f"{s.text} [{n}]" for s in mine if s.shown)
        passage = hits[mine[0].hit].passage
        outlets = {p.source for s in mine for p in hits[s.hit].also_in}
        citations.append(
            Citation.quoting(
                n,
                passage,
                quote=_quote(mine, hits),
                also_in=tuple(sorted(outlets - {passage.source})),
            )
        )
    return " ".join(parts), citations


def _quote(sentences: list[Sentence], hits: list[SearchHit]) -> str:
    """The sentences (in article order) as one quote: " … " where text was left out."""
    quote = sentences[0].text
    for before, after in pairwise(sentences):
        gap = hits[before.hit].passage.text[before.end : after.start]
        joined = after.hit == before.hit and len(gap) <= 3 and not gap.strip()
        quote += (gap if joined else " … ") + after.text
    return quote


# --- one sentence per part of the question --------------------------------------------------

SentenceKey = tuple[int, int]  # (hit, start): a sentence of the hits


@dataclass(frozen=True)
class ChoiceParams:
    """How `choose` fuses its signals; tuned on the MultiHop-RAG dev split (docs/benchmarks.md)."""

    part_weight: float = 1.0  # share of the part's words the sentence holds
    question_weight: float = 0.5  # share of the whole question's
    meaning_weight: float = 1.0  # cosine of sentence and question vectors, when known
    kind_weight: float = 1.0  # the kind of answer asked for (a date, a number, a name)
    rank_decay: float = 0.1  # a passage ranked h-th weighs 1 / (1 + decay * h)
    relative: float = 0.8  # extras must score this share of the best
    max_sentences: int = 4
    budget: int = 0  # characters of chosen sentences beyond which no extra is added
    say: int = 450  # characters said; a later part's sentence beyond them is only quoted
    articles: int = 6  # articles cited: the parts' first, then the best-supported others
    quote_sentences: int = 6  # sentences quoted per cited article, the said ones included
    further_relative: float = 0.3  # a further article's best sentence scores this share of the best
    further_similarity: float = 0.3  # and its passage is this close in meaning to the question
    quote_relative: float = 0.2  # a quoted sentence scores this share of the best


def choose(
    query: Query,
    hits: list[SearchHit],
    sentences: list[Sentence],
    *,
    idf: Callable[[str], float],
    similarity: Mapping[SentenceKey, float] | None = None,
    params: ChoiceParams | None = None,
) -> list[Sentence]:
    """The sentences the answer gives: the best-supported for each part of the question, in
    the parts' order, each from a passage of the outlet the part names when one has any; then
    continuations and extras (see the module docstring). `sentences` are `score_sentences`'s."""
    p = params or ChoiceParams()
    if not sentences:
        return []
    parts = query.parts or (Part(query.text),)
    similarity = similarity or {}
    words: dict[SentenceKey, set[str]] = {}  # token sets for `_repeats`, filled as needed
    outlets = [{hit.passage.source, *(other.source for other in hit.also_in)} for hit in hits]
    asked = frozenset(query.terms)
    # What does not depend on the part: the question's words, the answer kind, the meaning.
    base = {
        (s.hit, s.start): p.question_weight * s.coverage
        + p.kind_weight * _kind_bonus(query.kind, s.text, asked)
        + p.meaning_weight * similarity.get((s.hit, s.start), 0.0)
        for s in sentences
    }

    def fused(sentence: Sentence, weights: dict[str, float]) -> float:
        total = sum(weights.values()) or 1.0
        part = sum(w for t, w in weights.items() if t in sentence.stems) / total
        key = (sentence.hit, sentence.start)
        return (p.part_weight * part + base[key]) / (1.0 + p.rank_decay * sentence.hit)

    chosen: list[Sentence] = []
    best_score = 0.0
    for part in parts:
        weights = _weights(part.terms, idf)
        pool = [
            s for s in sentences if part.outlet is None or part.outlet in outlets[s.hit]
        ] or sentences
        part_score = {(s.hit, s.start): fused(s, weights) for s in pool}
        ranked = sorted(pool, key=lambda s: -part_score[(s.hit, s.start)])
        for sentence in ranked:
            if sentence in chosen or _repeats(sentence, chosen, words):
                continue
            chosen.append(sentence)
            best_score = max(best_score, part_score[(sentence.hit, sentence.start)])
            break

    question_weights = _weights(query.terms, idf)
    chosen = with_continuations(chosen, sentences, hits)
    score = {(s.hit, s.start): fused(s, question_weights) for s in sentences}
    extras = sorted(sentences, key=lambda s: -score[(s.hit, s.start)])
    for sentence in extras:
        if len(chosen) >= max(p.max_sentences, len(parts)):
            break
        if score[(sentence.hit, sentence.start)] < p.relative * best_score:
            break
        if sum(len(s.text) for s in chosen) + len(sentence.text) > p.budget:
            continue  # a shorter one may still fit
        if sentence in chosen or _repeats(sentence, chosen, words):
            continue
        chosen.append(sentence)
    top = max(score.values(), default=0.0)

    def above(share: float) -> list[Sentence]:
        return [s for s in extras if score[(s.hit, s.start)] >= share * top]

    further = [
        s for s in above(p.further_relative) if hits[s.hit].similarity >= p.further_similarity
    ]
    return _quoted(_said(chosen, p.say), hits, further, above(p.quote_relative), p, words)


def _said(chosen: list[Sentence], say: int) -> list[Sentence]:
    """`chosen` with the sentences after the first that would pass `say` characters marked
    not `shown`: their citation quotes them, the answer does not say them."""
    result: list[Sentence] = []
    said = 0
    for sentence in chosen:
        if result and said + len(sentence.text) > say:
            result.append(replace(sentence, shown=False))
        else:
            result.append(sentence)
            said += len(sentence.text)
    return result


def _quoted(
    chosen: list[Sentence],
    hits: list[SearchHit],
    further: list[Sentence],
    ranked: list[Sentence],
    p: ChoiceParams,
    words: dict[SentenceKey, set[str]],
) -> list[Sentence]:
    """`chosen`, then the best sentences of other articles (from `further`) until `p.articles`
    are cited (the answer points to them as further reading), then each cited article's best
    sentences (from `ranked`) until its quote holds `p.quote_sentences`; both lists best first.
    Added ones are not `shown`."""
    result = list(chosen)
    keys = {(s.hit, s.start) for s in result}
    cited = list(dict.fromkeys(hits[s.hit].passage.article_id for s in result))
    for sentence in further:
        if len(cited) >= p.articles:
            break
        article = hits[sentence.hit].passage.article_id
        if article in cited or _repeats(sentence, result, words):
            continue
        cited.append(article)
        result.append(replace(sentence, shown=False))
        keys.add((sentence.hit, sentence.start))
    quoted = {a: 0 for a in cited}
    for sentence in result:
        quoted[hits[sentence.hit].passage.article_id] += 1
    for sentence in ranked:
        article = hits[sentence.hit].passage.article_id
        if quoted.get(article, p.quote_sentences) >= p.quote_sentences:
            continue
        if (sentence.hit, sentence.start) in keys or _repeats(sentence, result, words):
            continue
        result.append(replace(sentence, shown=False))
        keys.add((sentence.hit, sentence.start))
        quoted[article] += 1
    return result


def _repeats(
    sentence: Sentence, chosen: list[Sentence], words: dict[SentenceKey, set[str]] | None = None
) -> bool:
    """Whether `sentence` says much the same as one of `chosen` (`words`: token sets, filled
    as needed)."""
    known = words if words is not None else {}

    def of(s: Sentence) -> set[str]:
        key = (s.hit, s.start)
        if key not in known:
            known[key] = set(tokenize(s.text))
        return known[key]

    mine = of(sentence)
    return any(_overlap(mine, of(c)) > 0.6 for c in chosen)


def with_continuations(
    chosen: list[Sentence], sentences: list[Sentence], hits: list[SearchHit]
) -> list[Sentence]:
    """`chosen`, each followed by the sentence that continues it ("… are invited as well")."""
    continuation = _continuations(sentences, hits)
    result = list(chosen)
    for sentence in chosen:
        nxt = continuation(sentence)
        if nxt is not None and nxt not in result:
            result.insert(result.index(sentence) + 1, nxt)
    return result
