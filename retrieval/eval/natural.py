"""Scoring answers on natural questions: short, as typed in a chat, with the key facts a right
answer must state, and near-topic questions that no article answers.

A question set is a JSON-lines file (`tests/fixtures/questions/README.md` gives the schema).
An answerable question is *right* when the answerer answered and every key group has at least
one alternative as a case-insensitive substring of the answer text; *wrong* when it answered
without them; a *false decline* when it declined. An unanswerable question is *declined* or
*answered*. A decline is `answered == False`, so a "the news doesn't say …; it reports …"
answer counts as a decline. The figures are also broken down per question word and per corpus.

Everything here is pure except `load_questions`; `run_natural_eval` takes the answerer as a
callable, so a test drives it with a fake and the CLI with the real index.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from retrieval.types import Answer

SPLITS = ("dev", "test", "all")
Progress = Callable[[int, int], None]  # (done, total)

QUESTION_WORDS = (
    "who",
    "what",
    "when",
    "where",
    "how many",
    "how much",
    "why",
    "which",
    "yes-no",
    "other",
)
_WH = re.compile(
    r"\b(?P<w>how many|how much|who|whom|whose|what|when|where|why|which)\b|\b(?P<s>who|what)'s\b"
)
_YES_NO_START = re.compile(
    r"^(is|are|was|were|did|does|do|has|have|had|will|would|can|could|should|shall|may)\b"
)


@dataclass(frozen=True)
class NaturalQuestion:
    """One question of a set: what a right answer must state, or why nothing answers it."""

    id: str
    question: str
    answerable: bool
    keys: tuple[tuple[str, ...], ...]  # every group must have one alternative in the answer
    kind: str
    corpus: str
    split: str
    article: str = ""
    evidence: str = ""
    missing: str = ""


def parse_question(record: dict) -> NaturalQuestion:
    """A question from one JSON object; a malformed one raises ValueError naming its id."""
    qid = str(record.get("id", "")).strip()
    question = str(record.get("question", "")).strip()
    if not qid or not question:
        raise ValueError(f"a record needs an id and a question: {record!r:.80}")
    answerable = record.get("answerable")
    if not isinstance(answerable, bool):
        raise ValueError(f"{qid}: answerable must be true or false")
    keys = tuple(tuple(str(alt) for alt in group) for group in record.get("keys", ()))
    if answerable and (not keys or not all(keys) or any(not a.strip() for g in keys for a in g)):
        raise ValueError(f"{qid}: an answerable question needs non-empty key groups")
    if not answerable and keys:
        raise ValueError(f"{qid}: an unanswerable question has no keys")
    return NaturalQuestion(
        id=qid,
        question=question,
        answerable=answerable,
        keys=keys,
        kind=str(record.get("kind", "")),
        corpus=str(record.get("corpus", "")),
        split=str(record.get("split", "")),
        article=str(record.get("article", "")),
        evidence=str(record.get("evidence", "")),
        missing=str(record.get("missing", "")),
    )


def parse_questions(lines: Iterable[str]) -> list[NaturalQuestion]:
    """Questions from JSON lines (blank lines skipped); duplicate ids are an error."""
    questions: list[NaturalQuestion] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise ValueError(f"line {number}: not a JSON object")
        q = parse_question(record)
        if q.id in seen:
            raise ValueError(f"line {number}: duplicate id {q.id}")
        seen.add(q.id)
        questions.append(q)
    return questions


def load_questions(path: Path | str) -> list[NaturalQuestion]:
    with open(path, encoding="utf-8") as f:
        return parse_questions(f)


def split_questions(questions: Iterable[NaturalQuestion], split: str) -> list[NaturalQuestion]:
    return [q for q in questions if split == "all" or q.split == split]


def question_word(question: str) -> str:
    """The question word people typed: who, what, when, …, "yes-no" or "other"."""
    text = " ".join(question.casefold().replace("’", "'").split())
    if _YES_NO_START.match(text):
        return "yes-no"
    found = _WH.search(text)
    if found is None:
        return "other"
    word = found.group("w") or found.group("s")
    return "who" if word in ("whom", "whose") else word


def has_keys(text: str, keys: Sequence[Sequence[str]]) -> bool:
    """Every key group has at least one alternative in `text`, case-insensitively."""
    folded = text.casefold()
    return bool(keys) and all(any(alt.casefold() in folded for alt in group) for group in keys)


def outcome(q: NaturalQuestion, answered: bool, text: str) -> str:
    """right | wrong | false_decline for an answerable question; declined | answered if not."""
    if not q.answerable:
        return "answered" if answered else "declined"
    if not answered:
        return "false_decline"
    return "right" if has_keys(text, q.keys) else "wrong"


@dataclass(frozen=True)
class QuestionResult:
    """How one question went: its outcome and the answer given."""

    id: str
    question: str
    word: str
    corpus: str
    answerable: bool
    outcome: str
    answered: bool
    answer: str
    seconds: float


@dataclass(frozen=True)
class Tally:
    """Counts of outcomes over a group of questions."""

    answerable: int = 0
    right: int = 0
    wrong: int = 0
    false_declines: int = 0
    unanswerable: int = 0
    declined: int = 0
    answered: int = 0

    @property
    def right_share(self) -> float | None:
        return self.right / self.answerable if self.answerable else None

    @property
    def wrong_share(self) -> float | None:
        return self.wrong / self.answerable if self.answerable else None

    @property
    def declined_share(self) -> float | None:
        return self.declined / self.unanswerable if self.unanswerable else None

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "right_share": self.right_share,
            "wrong_share": self.wrong_share,
            "declined_share": self.declined_share,
        }


def tally(results: Iterable[QuestionResult]) -> Tally:
    counts = dict.fromkeys(("right", "wrong", "false_decline", "declined", "answered"), 0)
    answerable = unanswerable = 0
    for r in results:
        counts[r.outcome] += 1
        if r.answerable:
            answerable += 1
        else:
            unanswerable += 1
    return Tally(
        answerable=answerable,
        right=counts["right"],
        wrong=counts["wrong"],
        false_declines=counts["false_decline"],
        unanswerable=unanswerable,
        declined=counts["declined"],
        answered=counts["answered"],
    )


@dataclass
class NaturalReport:
    """The figures of one run: overall, per question word and per corpus."""

    overall: Tally
    by_word: dict[str, Tally]
    by_corpus: dict[str, Tally]
    answer_seconds: float | None = None  # median per answer call
    total_seconds: float = 0.0
    results: list[QuestionResult] = field(default_factory=list, repr=False)

    def to_dict(self, *, per_query: bool = False) -> dict:
        data = {
            "questions": len(self.results),
            **self.overall.to_dict(),
            "by_word": {w: t.to_dict() for w, t in self.by_word.items()},
            "by_corpus": {c: t.to_dict() for c, t in self.by_corpus.items()},
            "median_answer_seconds": self.answer_seconds,
            "total_seconds": self.total_seconds,
        }
        if per_query:
            data["results"] = [asdict(r) for r in self.results]
        return data

    def render(self) -> str:
        """A plain-text table; the CLI prints it (library code never prints)."""
        o = self.overall
        lines = [
            f"{len(self.results)} questions: {o.answerable} answerable, "
            f"{o.unanswerable} unanswerable",
            "",
            f"{'':<12} {'n':>4} {'right':>6} {'wrong':>6} {'f.decl':>6}"
            f" {'n unans':>8} {'declined':>8} {'answered':>8}",
        ]
        groups = [
            *self.by_word.items(),
            ("", None),
            *self.by_corpus.items(),
            ("", None),
            ("all", o),
        ]
        for name, t in groups:
            lines.append(_row(name, t) if t is not None else "")
        lines += [
            "right/wrong/f.decl: answerable questions answered with every key, answered "
            "without, declined",
            "declined/answered: unanswerable questions",
            "",
            f"right {_share(o.right_share)}, wrong {_share(o.wrong_share)}, "
            f"near-topic declined {_share(o.declined_share)}",
        ]
        timing = f"total {self.total_seconds:.1f} s"
        if self.answer_seconds is not None:
            timing = f"median answer {self.answer_seconds * 1000:.1f} ms; {timing}"
        lines.append(timing)
        return "\n".join(lines)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _row(name: str, t: Tally) -> str:
    return (
        f"{name:<12} {t.answerable:>4} {t.right:>6} {t.wrong:>6} {t.false_declines:>6}"
        f" {t.unanswerable:>8} {t.declined:>8} {t.answered:>8}"
    )


def summarize(results: Sequence[QuestionResult], total_seconds: float = 0.0) -> NaturalReport:
    """The report over results: question words in a fixed order, corpora alphabetically."""
    by_word = {
        w: tally(r for r in results if r.word == w)
        for w in QUESTION_WORDS
        if any(r.word == w for r in results)
    }
    by_corpus = {
        c: tally(r for r in results if r.corpus == c) for c in sorted({r.corpus for r in results})
    }
    times = [r.seconds for r in results]
    return NaturalReport(
        overall=tally(results),
        by_word=by_word,
        by_corpus=by_corpus,
        answer_seconds=statistics.median(times) if times else None,
        total_seconds=total_seconds,
        results=list(results),
    )


def run_natural_eval(
    questions: Sequence[NaturalQuestion],
    answer: Callable[[str], Answer],
    progress: Progress | None = None,
) -> NaturalReport:
    """Answer every question and score it."""
    started = time.perf_counter()
    results = []
    for done, q in enumerate(questions, start=1):
        t0 = time.perf_counter()
        reply = answer(q.question)
        seconds = time.perf_counter() - t0
        results.append(
            QuestionResult(
                id=q.id,
                question=q.question,
                word=question_word(q.question),
                corpus=q.corpus,
                answerable=q.answerable,
                outcome=outcome(q, reply.answered, reply.text),
                answered=reply.answered,
                answer=reply.text,
                seconds=seconds,
            )
        )
        if progress is not None:
            progress(done, len(questions))
    return summarize(results, time.perf_counter() - started)
