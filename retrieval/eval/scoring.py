"""Scoring retrieval and answers on MultiHop-RAG (Tang and Yang, COLM 2024; ODC-BY 1.0).

Retrieval is scored at the fact level exactly as the paper's `retrieval_evaluate.py` does: a
retrieved passage is relevant when one of the query's gold `fact` sentences is a substring of it
once spaces and newlines are removed from both (a fact split across two passages never matches).
Hits@4, Hits@10 and MRR@10 are averaged over the answerable queries; `null_query` items are
excluded, as in the paper. On top of that: document-level recall@k (the share of a query's gold
articles among the articles of the top-k passages, by title or URL), how well the answerer
declines on null queries (a decline is `answered == False`; the positive class is `null_query`),
answer containment (the gold answer, case-insensitive, found in the answer text), and whether
the answer carries its evidence: a gold fact is *quoted* when it is a substring of the answer
text or of one of its citations' quotes, after the paper's normalisation (spaces and newlines
removed). Evidence-in-answer is the share of answerable queries whose answer quotes at least one
gold fact; fact coverage the mean share of a query's gold facts quoted (a decline quotes none).

Splits (`DATA.md`): dev is every query whose 0-based index `i` has `i % 5 != 0`, test the rest.
Everything here is pure except `load_queries`; `run_eval` takes the search and the answerer as
callables, so a test can drive it with fakes and the CLI with the real index.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from retrieval.types import Answer, Passage

QUERIES_FILE = "MultiHopRAG.json"
CORPUS_FILE = "corpus.json"
NULL_QUERY = "null_query"
Split = Literal["dev", "test", "all"]
Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class Evidence:
    """One gold fact: a verbatim sentence of the article it names."""

    title: str
    source: str
    url: str | None
    published_at: str | None
    fact: str


@dataclass(frozen=True)
class EvalQuery:
    """One MultiHop-RAG question with its gold answer and evidence."""

    index: int  # 0-based position in MultiHopRAG.json: decides the split
    query: str
    answer: str
    question_type: str
    evidence: tuple[Evidence, ...] = ()

    @property
    def is_null(self) -> bool:
        return self.question_type == NULL_QUERY

    @property
    def facts(self) -> list[str]:
        return [e.fact for e in self.evidence]


def parse_queries(records: Iterable[dict]) -> list[EvalQuery]:
    """Queries from MultiHopRAG.json records, keeping their index."""
    queries = []
    for index, record in enumerate(records):
        evidence = tuple(
            Evidence(
                title=str(e.get("title", "")),
                source=str(e.get("source", "")),
                url=e.get("url") or None,
                published_at=e.get("published_at") or None,
                fact=str(e.get("fact", "")),
            )
            for e in record.get("evidence_list") or ()
        )
        queries.append(
            EvalQuery(
                index=index,
                query=str(record["query"]),
                answer=str(record.get("answer", "")),
                question_type=str(record.get("question_type", "")),
                evidence=evidence,
            )
        )
    return queries


def load_queries(path: Path | str) -> list[EvalQuery]:
    """Read `MultiHopRAG.json`, given the file or the dataset directory holding it."""
    path = Path(path)
    if path.is_dir():
        path = path / QUERIES_FILE
    with path.open(encoding="utf-8") as fh:
        return parse_queries(json.load(fh))


def in_split(index: int, split: Split) -> bool:
    if split == "all":
        return True
    if split == "dev":
        return index % 5 != 0
    if split == "test":
        return index % 5 == 0
    raise ValueError(f"unknown split {split!r}: expected dev, test or all")


def split_queries(queries: Iterable[EvalQuery], split: Split) -> list[EvalQuery]:
    return [q for q in queries if in_split(q.index, split)]


# --- fact level, as the paper -------------------------------------------------------------


def squeeze(text: str) -> str:
    """The paper's normalisation: remove spaces and newlines (nothing else)."""
    return text.replace(" ", "").replace("\n", "")


def is_relevant(passage_text: str, facts: Sequence[str]) -> bool:
    text = squeeze(passage_text)
    return any(squeeze(fact) in text for fact in facts)


def first_relevant_rank(texts: Sequence[str], facts: Sequence[str], k: int = 10) -> int | None:
    """1-based rank of the first relevant passage among the first `k`, or None."""
    squeezed = [squeeze(f) for f in facts]
    for rank, text in enumerate(texts[:k], start=1):
        flat = squeeze(text)
        if any(fact in flat for fact in squeezed):
            return rank
    return None


# --- document level, answers, declining ---------------------------------------------------


def _norm_title(title: str) -> str:
    return " ".join(title.split()).casefold()


def document_recall(passages: Sequence[Passage], evidence: Sequence[Evidence], k: int) -> float:
    """Share of the query's distinct gold articles among the articles of the top-k passages."""
    gold: dict[str, Evidence] = {}
    for e in evidence:
        gold.setdefault(_norm_title(e.title) or (e.url or ""), e)
    if not gold:
        return 0.0
    titles = {_norm_title(p.title) for p in passages[:k]}
    urls = {p.url for p in passages[:k] if p.url}
    found = sum(
        1 for key, e in gold.items() if key in titles or (e.url is not None and e.url in urls)
    )
    return found / len(gold)


def contains_answer(text: str, gold: str) -> bool:
    """The gold answer, case-insensitive, inside the answer text and not inside a longer word.

    "Yes" is found in "Yes, both did [1]." but not in "yesterday".
    """
    gold = " ".join(gold.split())
    if not gold:
        return False
    flat = " ".join(text.split())
    pattern = rf"(?<!\w){re.escape(gold)}(?!\w)"
    return re.search(pattern, flat, flags=re.IGNORECASE) is not None


@dataclass(frozen=True)
class DecliningScore:
    """Declining as a classifier of null queries: positive = null_query, predicted = declined."""

    true_positives: int  # null query, declined
    false_positives: int  # answerable query, declined
    false_negatives: int  # null query, answered anyway
    true_negatives: int  # answerable query, answered

    @property
    def precision(self) -> float:
        declined = self.true_positives + self.false_positives
        return self.true_positives / declined if declined else 0.0

    @property
    def recall(self) -> float:
        nulls = self.true_positives + self.false_negatives
        return self.true_positives / nulls if nulls else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def declining_score(outcomes: Iterable[tuple[bool, bool]]) -> DecliningScore:
    """From (is_null_query, answered) pairs."""
    tp = fp = fn = tn = 0
    for is_null, answered in outcomes:
        declined = not answered
        if is_null and declined:
            tp += 1
        elif is_null:
            fn += 1
        elif declined:
            fp += 1
        else:
            tn += 1
    return DecliningScore(tp, fp, fn, tn)


def quoted_facts(answer: Answer, facts: Sequence[str]) -> int:
    """How many of `facts` the reader sees verbatim: in the answer text or a citation's quote,
    compared as the paper compares facts and passages (spaces and newlines removed). A decline
    quotes nothing."""
    if not answer.answered:
        return 0
    shown = [squeeze(answer.text), *(squeeze(c.quote) for c in answer.citations)]
    return sum(1 for fact in facts if any(squeeze(fact) in text for text in shown))


# --- the run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryResult:
    """What happened to one query; enough to recompute every figure or calibrate a threshold."""

    index: int
    question_type: str
    rank: int | None = None  # first relevant passage among the top 10 (answerable queries)
    doc_recall: float | None = None
    answered: bool | None = None
    contains_answer: bool | None = None
    answer: str | None = None
    facts: int = 0  # gold facts of the query
    quoted: int | None = None  # of them, quoted in the answer (None without an answerer)
    answer_chars: int | None = None  # length of the answer text (answered queries)

    @property
    def coverage(self) -> float:
        """Share of the gold facts the answer quotes (0 when there are none or no answer)."""
        return (self.quoted or 0) / self.facts if self.facts else 0.0


@dataclass(frozen=True)
class TypeScore:
    """The scores of one question type."""

    queries: int
    hits_at_4: float
    hits_at_10: float
    mrr_at_10: float
    # With an answerer (else None): answered share, >= 1 gold fact quoted, share of facts quoted
    answered: float | None = None
    evidence_in_answer: float | None = None
    fact_coverage: float | None = None


@dataclass
class EvalReport:
    """The scores of one evaluation run, overall and by question type."""

    k: int
    queries: int  # all queries scored, null ones included
    answerable: int
    null: int
    hits_at_4: float
    hits_at_10: float
    mrr_at_10: float
    doc_recall: float  # at k
    by_type: dict[str, TypeScore]
    declining: DecliningScore | None = None  # None when no answerer was given
    containment: float | None = None  # over answerable queries; None without an answerer
    evidence_in_answer: float | None = None  # answerable queries quoting >= 1 gold fact
    fact_coverage: float | None = None  # mean share of gold facts quoted, answerable queries
    answered: float | None = None  # share of answerable queries answered
    median_answer_chars: float | None = None  # over answered queries
    search_seconds: float = 0.0  # median per search call
    answer_seconds: float | None = None  # median per answer call
    total_seconds: float = 0.0
    results: list[QueryResult] = field(default_factory=list, repr=False)

    def to_dict(self, *, per_query: bool = False) -> dict:
        data = {
            "k": self.k,
            "queries": self.queries,
            "answerable": self.answerable,
            "null": self.null,
            "hits_at_4": self.hits_at_4,
            "hits_at_10": self.hits_at_10,
            "mrr_at_10": self.mrr_at_10,
            f"doc_recall_at_{self.k}": self.doc_recall,
            "by_type": {name: asdict(score) for name, score in sorted(self.by_type.items())},
            "declining": self.declining.to_dict() if self.declining else None,
            "answer_containment": self.containment,
            "answered_answerable": self.answered,
            "evidence_in_answer": self.evidence_in_answer,
            "fact_coverage": self.fact_coverage,
            "median_answer_chars": self.median_answer_chars,
            "median_search_seconds": self.search_seconds,
            "median_answer_seconds": self.answer_seconds,
            "total_seconds": self.total_seconds,
        }
        if per_query:
            data["results"] = [asdict(r) for r in self.results]
        return data

    def render(self) -> str:
        """A plain-text table; the CLI prints it (library code never prints)."""
        answers = self.evidence_in_answer is not None
        extra = f" {'answered':>8} {'evidence':>8} {'facts':>6}" if answers else ""
        lines = [
            f"{self.queries} queries: {self.answerable} answerable, {self.null} null; k={self.k}",
            "",
            f"{'question type':<20} {'n':>5} {'Hits@4':>7} {'Hits@10':>8} {'MRR@10':>7}{extra}",
        ]
        overall = TypeScore(
            self.answerable,
            self.hits_at_4,
            self.hits_at_10,
            self.mrr_at_10,
            self.answered,
            self.evidence_in_answer,
            self.fact_coverage,
        )
        for name, score in [*sorted(self.by_type.items()), ("all answerable", overall)]:
            row = (
                f"{name:<20} {score.queries:>5} {score.hits_at_4:>7.3f} "
                f"{score.hits_at_10:>8.3f} {score.mrr_at_10:>7.3f}"
            )
            if answers:
                row += (
                    f" {score.answered or 0.0:>8.3f} {score.evidence_in_answer or 0.0:>8.3f}"
                    f" {score.fact_coverage or 0.0:>6.3f}"
                )
            lines.append(row)
        if answers:
            lines.append(
                "answered: share answered; evidence: share quoting >= 1 gold fact; "
                "facts: share of gold facts quoted"
            )
        lines += ["", f"document recall@{self.k}: {self.doc_recall:.3f}"]
        if self.declining is not None:
            d = self.declining
            lines.append(
                f"declining null queries: precision {d.precision:.3f}, recall {d.recall:.3f} "
                f"(declined {d.true_positives} of {d.true_positives + d.false_negatives} null, "
                f"{d.false_positives} of {d.false_positives + d.true_negatives} answerable)"
            )
        if self.containment is not None:
            lines.append(f"answer containment: {self.containment:.3f}")
        if self.median_answer_chars is not None:
            lines.append(f"median answer: {self.median_answer_chars:.0f} characters")
        timing = f"median search {self.search_seconds * 1000:.1f} ms"
        if self.answer_seconds is not None:
            timing += f", median answer {self.answer_seconds * 1000:.1f} ms"
        lines.append(f"{timing}; total {self.total_seconds:.1f} s")
        return "\n".join(lines)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _type_score(results: Sequence[QueryResult], *, answers: bool) -> TypeScore:
    ranks = [r.rank for r in results]
    return TypeScore(
        queries=len(ranks),
        hits_at_4=_mean([1.0 if r is not None and r <= 4 else 0.0 for r in ranks]),
        hits_at_10=_mean([1.0 if r is not None and r <= 10 else 0.0 for r in ranks]),
        mrr_at_10=_mean([1.0 / r if r is not None else 0.0 for r in ranks]),
        answered=_mean([1.0 if r.answered else 0.0 for r in results]) if answers else None,
        evidence_in_answer=(
            _mean([1.0 if r.quoted else 0.0 for r in results]) if answers else None
        ),
        fact_coverage=_mean([r.coverage for r in results]) if answers else None,
    )


def run_eval(
    queries: Sequence[EvalQuery],
    *,
    search: Callable[[str, int], list[Passage]],
    answer: Callable[[str], Answer] | None,
    k: int,
    progress: Progress | None = None,
) -> EvalReport:
    """Search every answerable query (top `k`), answer every query when `answer` is given.

    Hits@10 and MRR@10 look at the first 10 passages returned, so `k` should be at least 10 to
    compare with the paper; document recall is taken at `k`.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    started = time.perf_counter()
    results: list[QueryResult] = []
    search_times: list[float] = []
    answer_times: list[float] = []
    for done, q in enumerate(queries, start=1):
        rank = recall = None
        if not q.is_null:
            t0 = time.perf_counter()
            passages = search(q.query, k)
            search_times.append(time.perf_counter() - t0)
            rank = first_relevant_rank([p.text for p in passages], q.facts, k=10)
            recall = document_recall(passages, q.evidence, k)
        answered = contained = text = quoted = chars = None
        if answer is not None:
            t0 = time.perf_counter()
            reply = answer(q.query)
            answer_times.append(time.perf_counter() - t0)
            answered, text = reply.answered, reply.text
            chars = len(reply.text) if reply.answered else None
            if not q.is_null:
                contained = reply.answered and contains_answer(reply.text, q.answer)
                quoted = quoted_facts(reply, q.facts)
        results.append(
            QueryResult(
                q.index,
                q.question_type,
                rank,
                recall,
                answered,
                contained,
                text,
                facts=len(q.facts),
                quoted=quoted,
                answer_chars=chars,
            )
        )
        if progress is not None:
            progress(done, len(queries))

    answerable = [r for r in results if r.question_type != NULL_QUERY]
    answers = answer is not None
    overall = _type_score(answerable, answers=answers)
    by_type: dict[str, list[QueryResult]] = {}
    for r in answerable:
        by_type.setdefault(r.question_type, []).append(r)
    declining = containment = None
    lengths = [r.answer_chars for r in results if r.answer_chars is not None]
    if answer is not None:
        declining = declining_score(
            (r.question_type == NULL_QUERY, bool(r.answered)) for r in results
        )
        containment = _mean([1.0 if r.contains_answer else 0.0 for r in answerable])
    return EvalReport(
        k=k,
        queries=len(results),
        answerable=len(answerable),
        null=len(results) - len(answerable),
        hits_at_4=overall.hits_at_4,
        hits_at_10=overall.hits_at_10,
        mrr_at_10=overall.mrr_at_10,
        doc_recall=_mean([r.doc_recall or 0.0 for r in answerable]),
        by_type={name: _type_score(rs, answers=answers) for name, rs in by_type.items()},
        declining=declining,
        containment=containment,
        evidence_in_answer=overall.evidence_in_answer,
        fact_coverage=overall.fact_coverage,
        answered=overall.answered,
        median_answer_chars=statistics.median(lengths) if lengths else None,
        search_seconds=statistics.median(search_times) if search_times else 0.0,
        answer_seconds=statistics.median(answer_times) if answer_times else None,
        total_seconds=time.perf_counter() - started,
        results=results,
    )
