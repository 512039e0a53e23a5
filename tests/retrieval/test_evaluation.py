"""MultiHop-RAG scoring on tiny hand-made data."""

from __future__ import annotations

import json

import pytest

from retrieval.evaluation import (
    EvalQuery,
    Evidence,
    contains_answer,
    declining_score,
    document_recall,
    first_relevant_rank,
    in_split,
    is_relevant,
    load_queries,
    run_eval,
    split_queries,
    squeeze,
)
from retrieval.types import Answer, Passage

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
