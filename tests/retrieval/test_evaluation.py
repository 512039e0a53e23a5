"""MultiHop-RAG scoring on tiny hand-made data."""

from __future__ import annotations

import json

import pytest

from retrieval.eval.scoring import (
    EvalQuery,
    Evidence,
    contains_answer,
    declining_score,
    document_recall,
    first_relevant_rank,
    in_split,
    is_relevant,
    load_queries,
    quoted_facts,
    run_eval,
    split_queries,
    squeeze,
)
from retrieval.types import Answer, Citation, Passage

FACT = "The summit will be held in Moscow on March 18."


def passage(text: str, title: str = "Story", url: str | None = None) -> Passage:
    return Passage(
        id=f"{title}:{text[:10]}",
        text=text,
        article_id=title,
        title=title,
        source="Outlet",
        published_at=None,
        url=url,
        author=None,
        chunk_index=0,
        start=0,
        end=len(text),
        content_hash="",
        text_hash="",
        origin="test",
    )


def evidence(fact: str, title: str = "Story", url: str | None = None) -> Evidence:
    return Evidence(title=title, source="Outlet", url=url, published_at=None, fact=fact)


def query(
    index: int,
    kind: str = "inference_query",
    facts: tuple[Evidence, ...] = (),
    answer: str = "Moscow",
    text: str = "q",
) -> EvalQuery:
    return EvalQuery(index=index, query=text, answer=answer, question_type=kind, evidence=facts)


# --- relevance as the paper ---------------------------------------------------------------


def test_squeeze_removes_only_spaces_and_newlines():
    assert squeeze(" a b\nc\td\r ") == "abc\td\r"


def test_a_fact_matches_whatever_the_spaces_and_line_breaks():
    chunk = "Officials said:\nThe summit will  be held in\nMoscow on March 18. More later."
    assert is_relevant(chunk, [FACT])
    assert is_relevant("Thesummitwillbeheld inMoscow on March 18.", [FACT])


def test_matching_is_case_and_punctuation_sensitive_like_the_paper():
    assert not is_relevant(FACT.lower(), [FACT])
    assert not is_relevant(FACT.rstrip("."), [FACT])


def test_a_fact_split_across_two_chunks_never_matches():
    first, second = "Intro. The summit will be held", "in Moscow on March 18. Next."
    assert not is_relevant(first, [FACT])
    assert not is_relevant(second, [FACT])
    assert first_relevant_rank([first, second], [FACT]) is None


def test_first_relevant_rank_looks_at_the_first_k_only():
    texts = ["nothing"] * 10 + [FACT]
    assert first_relevant_rank(texts, [FACT]) is None
    assert first_relevant_rank(texts, [FACT], k=11) == 11
    assert first_relevant_rank(["x", "y", f"pre {FACT}"], ["other fact", FACT]) == 3


# --- splits and loading -------------------------------------------------------------------


def test_splits_follow_the_index():
    assert [i for i in range(11) if in_split(i, "test")] == [0, 5, 10]
    assert [i for i in range(7) if in_split(i, "dev")] == [1, 2, 3, 4, 6]
    queries = [query(i) for i in range(10)]
    assert len(split_queries(queries, "dev")) + len(split_queries(queries, "test")) == 10
    with pytest.raises(ValueError, match="unknown split"):
        in_split(0, "train")  # type: ignore[arg-type]


def test_load_queries_from_the_directory_or_the_file(tmp_path):
    records = [
        {
            "query": "Who?",
            "answer": "Kabulov",
            "question_type": "inference_query",
            "evidence_list": [
                {
                    "title": "T",
                    "source": "S",
                    "url": "https://x",
                    "author": None,
                    "category": "c",
                    "published_at": "2023-10-01",
                    "fact": FACT,
                }
            ],
        },
        {
            "query": "Nothing?",
            "answer": "Insufficient information.",
            "question_type": "null_query",
            "evidence_list": [],
        },
    ]
    (tmp_path / "MultiHopRAG.json").write_text(json.dumps(records))
    for path in (tmp_path, tmp_path / "MultiHopRAG.json"):
        first, second = load_queries(path)
        assert (first.index, first.query, first.answer, first.facts) == (
            0,
            "Who?",
            "Kabulov",
            [FACT],
        )
        assert first.evidence[0].url == "https://x"
        assert second.is_null
        assert (second.index, second.evidence) == (1, ())


# --- document level, containment, declining -----------------------------------------------


def test_document_recall_counts_distinct_gold_articles_by_title_or_url():
    gold = (
        evidence("a", "One"),
        evidence("b", "One"),
        evidence("c", "Two", url="https://2"),
        evidence("d", "Three"),
    )
    found = [passage("x", "ONE "), passage("y", "Renamed", url="https://2"), passage("z", "Four")]
    assert document_recall(found, gold, k=10) == pytest.approx(2 / 3)
    assert document_recall(found, gold, k=1) == pytest.approx(1 / 3)
    assert document_recall(found, (), k=10) == 0.0


@pytest.mark.parametrize(
    ("text", "gold", "expected"),
    [
        ("The meeting is in moscow [1].", "Moscow", True),
        ("Yes, both reported it [1][2].", "Yes", True),
        ("It happened yesterday [1].", "Yes", False),
        ("Sam  Bankman-Fried\nwas convicted [1].", "Sam Bankman-Fried", True),
        ("Nothing here.", "Moscow", False),
        ("anything", "", False),
    ],
)
def test_answer_containment(text, gold, expected):
    assert contains_answer(text, gold) is expected


def test_declining_precision_and_recall_treat_null_queries_as_positive():
    # (is_null, answered): 2 nulls declined, 1 null answered, 1 answerable declined, 2 fine.
    score = declining_score(
        [(True, False), (True, False), (True, True), (False, False), (False, True), (False, True)]
    )
    assert (
        score.true_positives,
        score.false_positives,
        score.false_negatives,
        score.true_negatives,
    ) == (2, 1, 1, 2)
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(2 / 3)
    assert declining_score([(False, True)]).precision == 0.0


# --- run_eval -------------------------------------------------------------------------------


def make_queries() -> list[EvalQuery]:
    return [
        query(0, "inference_query", (evidence(FACT, "A"),), text="hit at 1"),
        query(
            1,
            "comparison_query",
            (evidence("Kabulov spoke to TASS.", "B"),),
            answer="Yes",
            text="hit at 5",
        ),
        query(2, "comparison_query", (evidence("Never retrieved.", "C"),), text="miss"),
        query(3, "null_query", (), answer="Insufficient information.", text="null"),
    ]


FILLER = [passage(f"filler {i}", f"F{i}") for i in range(10)]
RESULTS = {
    "hit at 1": [passage(f"Lead. {FACT}", "A"), *FILLER[:9]],
    "hit at 5": [*FILLER[:4], passage("Kabulov spoke  to\nTASS. Then.", "B"), *FILLER[4:9]],
    "miss": [passage("Never", "C"), passage("retrieved.", "C"), *FILLER[:8]],
}


def fake_search(calls: list[str]):
    def search(text: str, k: int) -> list[Passage]:
        calls.append(text)
        return RESULTS[text][:k]

    return search


def test_run_eval_scores_answerable_queries_and_skips_null_ones():
    calls: list[str] = []
    progress: list[tuple[int, int]] = []
    report = run_eval(
        make_queries(),
        search=fake_search(calls),
        answer=None,
        k=10,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert calls == ["hit at 1", "hit at 5", "miss"]  # the null query is never searched
    assert (report.queries, report.answerable, report.null) == (4, 3, 1)
    assert report.hits_at_10 == pytest.approx(2 / 3)
    assert report.hits_at_4 == pytest.approx(1 / 3)
    assert report.mrr_at_10 == pytest.approx((1 + 1 / 5 + 0) / 3)
    assert report.doc_recall == pytest.approx(1.0)  # article C retrieved, its fact split
    assert set(report.by_type) == {"inference_query", "comparison_query"}
    assert report.by_type["comparison_query"].hits_at_10 == pytest.approx(0.5)
    assert report.by_type["inference_query"].queries == 1
    assert (report.declining, report.containment) == (None, None)
    assert progress[-1] == (4, 4)


def test_run_eval_with_an_answerer_scores_declining_and_containment():
    replies = {
        "hit at 1": Answer("hit at 1", "It is in Moscow [1].", True),
        "hit at 5": Answer("hit at 5", "The news I have doesn't say.", False),
        "miss": Answer("miss", "Moscow, maybe [1].", True),
        "null": Answer("null", "The news I have doesn't say.", False),
    }
    report = run_eval(make_queries(), search=fake_search([]), answer=replies.__getitem__, k=10)
    assert report.declining is not None
    assert (report.declining.precision, report.declining.recall) == (0.5, 1.0)
    assert report.containment == pytest.approx(2 / 3)
    data = report.to_dict()
    assert data["declining"]["precision"] == 0.5
    assert data["doc_recall_at_10"] == pytest.approx(1.0)
    assert "results" not in data
    assert len(report.to_dict(per_query=True)["results"]) == 4
    json.dumps(data)
    table = report.render()
    assert "comparison_query" in table
    assert "declining null queries" in table


def test_a_small_k_limits_hits_at_10():
    report = run_eval(make_queries(), search=fake_search([]), answer=None, k=4)
    assert report.hits_at_10 == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="k must be"):
        run_eval(make_queries(), search=fake_search([]), answer=None, k=0)


# --- evidence in the answer -------------------------------------------------------------------

OTHER = "Kabulov spoke to TASS."


def cited(text: str, *quotes: str, answered: bool = True) -> Answer:
    citations = tuple(
        Citation(n, "T", "Outlet", None, None, quote, "a") for n, quote in enumerate(quotes, 1)
    )
    return Answer("q", text, answered, citations)


def test_a_fact_is_quoted_in_the_text_or_a_citation_whatever_the_spacing():
    assert quoted_facts(cited(f"{FACT} [1]"), [FACT, OTHER]) == 1
    spaced = "The summit will be\nheld in  Moscow on March 18. [1]"
    assert quoted_facts(cited(spaced), [FACT]) == 1
    assert quoted_facts(cited("It is in Moscow [1].", f"Lead. {FACT}", OTHER), [FACT, OTHER]) == 2


def test_a_paraphrase_a_part_or_a_decline_quotes_nothing():
    assert quoted_facts(cited("The summit is in Moscow on March 18 [1]."), [FACT]) == 0
    assert quoted_facts(cited("The summit will be held [1].", "in Moscow"), [FACT]) == 0
    # a fact split across two citations' quotes is not quoted either
    assert (
        quoted_facts(cited("x", "The summit will be held", "in Moscow on March 18."), [FACT]) == 0
    )
    assert quoted_facts(cited(FACT, FACT, answered=False), [FACT]) == 0
    assert quoted_facts(cited(FACT), []) == 0


def evidence_queries() -> list[EvalQuery]:
    return [
        query(0, "inference_query", (evidence(FACT, "A"), evidence(OTHER, "B")), text="hit at 1"),
        query(1, "comparison_query", (evidence(OTHER, "B"),), answer="Yes", text="hit at 5"),
        query(2, "comparison_query", (evidence("Never retrieved.", "C"),), text="miss"),
        query(3, "null_query", (), answer="Insufficient information.", text="null"),
    ]


def test_run_eval_reports_evidence_in_answer_and_fact_coverage_per_type():
    replies = {
        "hit at 1": cited("Moscow [1].", FACT),  # 1 of 2 facts, in a quote
        "hit at 5": cited(f"Yes. {OTHER} [1]"),  # 1 of 1, in the text
        "miss": cited("Never [1].", "Never"),  # 0 of 1
        "null": cited("The news I have doesn't say.", answered=False),
    }
    report = run_eval(evidence_queries(), search=fake_search([]), answer=replies.__getitem__, k=10)
    assert report.evidence_in_answer == pytest.approx(2 / 3)
    assert report.fact_coverage == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert report.answered == pytest.approx(1.0)
    comparison = report.by_type["comparison_query"]
    assert (comparison.evidence_in_answer, comparison.fact_coverage) == (0.5, 0.5)
    assert report.by_type["inference_query"].fact_coverage == pytest.approx(0.5)
    # the median length is over answered queries only: the decline does not count
    assert report.median_answer_chars == len("Moscow [1].")  # of 11, 31 and 10
    results = {r.index: r for r in report.results}
    assert (results[0].facts, results[0].quoted, results[3].quoted) == (2, 1, None)
    data = report.to_dict()
    assert data["fact_coverage"] == pytest.approx(report.fact_coverage)
    assert data["by_type"]["comparison_query"]["evidence_in_answer"] == 0.5
    table = report.render()
    assert "evidence" in table
    assert "median answer: " in table


def test_declined_answerable_queries_count_as_quoting_nothing():
    replies = {
        "hit at 1": cited(FACT, answered=False),
        "hit at 5": cited(f"{OTHER} [1]"),
        "miss": cited("No.", answered=False),
        "null": cited("Something [1].", "x"),
    }
    report = run_eval(evidence_queries(), search=fake_search([]), answer=replies.__getitem__, k=10)
    assert report.evidence_in_answer == pytest.approx(1 / 3)
    assert report.answered == pytest.approx(1 / 3)
    assert report.by_type["inference_query"].evidence_in_answer == 0.0


def test_without_an_answerer_there_are_no_answer_figures():
    report = run_eval(evidence_queries(), search=fake_search([]), answer=None, k=10)
    assert (report.evidence_in_answer, report.fact_coverage, report.median_answer_chars) == (
        None,
        None,
        None,
    )
    assert report.by_type["comparison_query"].fact_coverage is None
    assert "evidence" not in report.render()
