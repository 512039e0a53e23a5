"""Hybrid retrieval's logic over the fake encoder and an in-memory store: fusion, outlets,
dates, per-article caps, duplicate folding, similarity. No model, no Chroma."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from retrieval.answer.answerer import NewsAnswerer
from retrieval.search.query import mentioned_outlets
from retrieval.search.retriever import RetrievalParams, Retriever
from tests.retrieval.fakes import MemoryStore, dated, passage

NOW = datetime(2021, 3, 20, 12, tzinfo=UTC)


@pytest.fixture
def search(fake_embedder):
    """search(passages, query, k=10, params=None, vectors=None, context="") -> hits."""

    def run(passages, query, k=10, *, params=None, vectors=None, context=""):
        store = MemoryStore(fake_embedder)
        store.put(passages, vectors)
        return Retriever(store, fake_embedder, params, clock=lambda: NOW).search(
            query, k, context=context
        )

    return run


def ids(hits):
    return [hit.passage.id for hit in hits]


def scores(hits):
    return {hit.passage.id: hit.score for hit in hits}


# -- fusion ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rrf_k", "dense_weight", "lexical_weight"), [(10.0, 1.0, 2.5), (0.0, 1.0, 1.0), (60, 2, 0.5)]
)
def test_rankings_fuse_by_weighted_reciprocal_rank(
    search, fake_embedder, rrf_k, dense_weight, lexical_weight
):
    # `near` is nearest in meaning (its stored vector is the query's) but shares no word with
    # the query; `named` holds the query's words and is second in the dense ranking.
    query = "Kabulov ceasefire"
    near = passage("Delegates gathered quietly.", "near")
    named = passage("Kabulov spoke about the ceasefire.", "named")
    vectors = fake_embedder.encode([query, "unrelated filler"])
    params = RetrievalParams(rrf_k=rrf_k, dense_weight=dense_weight, lexical_weight=lexical_weight)

    hits = search([near, named], query, params=params, vectors=vectors)

    assert scores(hits) == pytest.approx(
        {
            "near:v1:0": dense_weight / (rrf_k + 1),
            "named:v1:0": dense_weight / (rrf_k + 2) + lexical_weight / (rrf_k + 1),
        }
    )
    assert ids(hits) == sorted(ids(hits), key=lambda i: -scores(hits)[i])


def test_an_exact_name_beats_a_closer_meaning_with_the_tuned_weights(search, fake_embedder):
    query = "What did Kabulov say?"
    near = passage("Delegates gathered quietly.", "near")
    named = passage("Kabulov said the talks would resume.", "named")
    vectors = fake_embedder.encode([query, "unrelated filler"])
    assert ids(search([near, named], query, vectors=vectors)) == ["named:v1:0", "near:v1:0"]
    dense_only = RetrievalParams(lexical_weight=0.0)
    assert ids(search([near, named], query, params=dense_only, vectors=vectors)) == [
        "near:v1:0",
        "named:v1:0",
    ]


def test_each_ranking_contributes_only_its_candidates(search, fake_embedder):
    # Three passages, two candidates per ranking: the one last in both rankings gets nothing.
    query = "ceasefire"
    first = passage("Ceasefire ceasefire ceasefire news.", "first")
    second = passage("The ceasefire held.", "second")
    third = passage("A ceasefire, among much else in a long day of weather and markets.", "third")
    vectors = fake_embedder.encode([query, "ceasefire held", "quiet day"])
    hits = search(
        [first, second, third], query, params=RetrievalParams(candidates=2), vectors=vectors
    )
    assert ids(hits) == ["first:v1:0", "second:v1:0"]
    assert len(search([first, second, third], query, vectors=vectors)) == 3


def test_an_empty_index_finds_nothing(fake_embedder):
    retriever = Retriever(MemoryStore(fake_embedder), fake_embedder, clock=lambda: NOW)
    assert retriever.search("Who is invited to Moscow?") == []


def test_a_new_generation_is_searched_as_soon_as_it_is_live(fake_embedder):
    store = MemoryStore(fake_embedder, [passage("Talks in Doha resumed.", "doha")])
    retriever = Retriever(store, fake_embedder, clock=lambda: NOW)
    assert ids(retriever.search("Moscow conference")) == ["doha:v1:0"]
    store.put([passage("A conference in Moscow is planned.", "moscow")])
    assert ids(retriever.search("Moscow conference"))[0] == "moscow:v1:0"


# -- outlets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("What did Reuters say?", ["Reuters"]),
        ("what did REUTERS say?", ["Reuters"]),
        ("What happened in Reutersville?", []),  # a whole word only
        ("What did AP say?", []),  # names under three letters are too ambiguous
        ("According to the New York Times, who came?", ["New York Times"]),  # longest wins
        ("What did the Times say?", ["Times"]),
        ("Did Reuters and the Times agree?", ["Reuters", "Times"]),
    ],
)
def test_outlets_named_in_the_question(query, found):
    outlets = {
        "reuters": "Reuters",
        "ap": "AP",
        "new york times": "New York Times",
        "times": "Times",
    }
    assert mentioned_outlets(query, outlets) == found


def test_an_outlet_is_found_with_or_without_its_article(fake_embedder):
    store = MemoryStore(fake_embedder, [passage("Talks resumed.", source="The Verge")])
    outlets = Retriever(store, fake_embedder).catalog().outlets
    assert mentioned_outlets("What did Verge write?", outlets) == ["The Verge"]
    assert "The Verge" in mentioned_outlets("What did The Verge write?", outlets)


def test_a_named_outlet_adds_rankings_restricted_to_it(search):
    passages = [
        passage("Negotiators in Doha discussed the ceasefire.", "w1"),
        passage("The ceasefire talks in Doha went on late.", "w2"),
        passage("Doha hosted another ceasefire round.", "w3"),
        passage("Observers doubted the ceasefire.", "h1", source="Peace Herald"),
        passage("Farmers expect rain next week.", "h2", source="Peace Herald"),
    ]
    query = "What did the Peace Herald say about the ceasefire in Doha?"
    p = RetrievalParams()
    plain = scores(search(passages, query, params=replace(p, outlet_weight=0.0)))
    named = scores(search(passages, query, params=p))

    # h1 comes first in both rankings of the Herald's two passages, h2 second.
    w = p.outlet_weight
    assert named["h1:v1:0"] - plain["h1:v1:0"] == pytest.approx(
        w * (p.dense_weight + p.lexical_weight) / (p.rrf_k + 1)
    )
    assert named["h2:v1:0"] - plain["h2:v1:0"] == pytest.approx(
        w * (p.dense_weight / (p.rrf_k + 2) + p.lexical_weight / (p.rrf_k + 2))
    )
    for other in ("w1:v1:0", "w2:v1:0", "w3:v1:0"):  # another outlet's passages gain nothing
        assert named[other] == pytest.approx(plain[other])


def test_a_question_about_two_outlets_finds_both_stories(search):
    # The wire stories mention both outlets, so the outlets' own passages, which match the
    # question only by their outlet's name, rank below them on words and meaning alone.
    wire = [
        passage(
            f"Ceasefire talks in Doha, as the Peace Herald and the Daily Gazette noted, round {n}.",
            f"w{n}",
        )
        for n in range(6)
    ]
    herald = passage("Fighting paused overnight near Kunduz.", "herald", source="Peace Herald")
    gazette = passage("Markets rose as fighting paused.", "gazette", source="Daily Gazette")
    query = "Ceasefire talks in Doha: what did the Peace Herald and the Daily Gazette report?"
    found = {hit.passage.source for hit in search([*wire, herald, gazette], query, k=4)}
    assert {"Peace Herald", "Daily Gazette"} <= found
    unnamed = search([*wire, herald, gazette], query, k=4, params=RetrievalParams(outlet_weight=0))
    assert {hit.passage.source for hit in unnamed} == {"Wire"}  # without the outlet rankings


# -- dates ----------------------------------------------------------------------------------


@pytest.fixture
def dated_talks():
    text = "Negotiators discussed the ceasefire in Doha ({})."
    return [
        dated(passage(text.format("early"), "early"), "2021-03-05"),
        dated(passage(text.format("late"), "late"), "2021-03-15"),
        dated(passage(text.format("undated"), "undated"), None),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What about the ceasefire since March 12?", {"late:v1:0"}),
        ("What about the ceasefire after 2021-03-12?", {"late:v1:0"}),
        ("What about the ceasefire before March 12?", {"early:v1:0"}),
        ("What about the ceasefire this week?", {"late:v1:0"}),  # after March 13, 12:00
        ("What about the ceasefire?", {"early:v1:0", "late:v1:0", "undated:v1:0"}),
    ],
)
def test_a_date_range_narrows_the_search(search, dated_talks, query, expected):
    assert set(ids(search(dated_talks, query))) == expected


def test_a_date_range_that_leaves_nothing_does_not_narrow(search, dated_talks):
    assert len(search(dated_talks, "What about the ceasefire since March 19?")) == 3


def test_only_the_question_and_not_earlier_turns_narrows(search, dated_talks):
    hits = search(dated_talks, "And the ceasefire?", context="What happened since March 12?")
    assert len(hits) == 3


def test_a_named_outlet_within_a_date_range_stays_in_it(search):
    passages = [
        dated(passage("The ceasefire held in Doha.", "old", source="Peace Herald"), "2021-03-05"),
        dated(passage("Ceasefire observers in Doha.", "new", source="Peace Herald"), "2021-03-15"),
        dated(passage("Doha ceasefire talks went on.", "wire"), "2021-03-16"),
    ]
    hits = search(passages, "What did the Peace Herald say about the ceasefire since March 12?")
    assert set(ids(hits)) == {"new:v1:0", "wire:v1:0"}


def ratios(boosted, plain):
    return {i: boosted[i] / plain[i] for i in plain}


def test_dates_mentioned_favour_articles_from_around_them(search, dated_talks):
    # March 9 is mentioned, not a range: nothing is left out, articles within a day and a half
    # of it count double.
    near = dated(passage("Zakharova spoke about the ceasefire in Doha.", "near"), "2021-03-10")
    passages = [*dated_talks, near]
    query = "What was said about the ceasefire on March 9?"
    boosted = scores(search(passages, query))
    plain = scores(search(passages, query, params=RetrievalParams(mentioned_date_boost=0)))
    assert ratios(boosted, plain) == pytest.approx(
        {"near:v1:0": 2.0, "early:v1:0": 1.0, "late:v1:0": 1.0, "undated:v1:0": 1.0}
    )


def test_latest_favours_recent_articles_in_order(search, dated_talks):
    middle = dated(passage("Talks on the ceasefire in Doha, day two.", "middle"), "2021-03-10")
    passages = [*dated_talks, middle]
    query = "What is the latest on the ceasefire?"
    boosted = scores(search(passages, query))
    plain = scores(search(passages, query, params=RetrievalParams(latest_boost=0)))
    assert ratios(boosted, plain) == pytest.approx(
        {
            "early:v1:0": 1 + 0.5 / 3,
            "middle:v1:0": 1 + 0.5 * 2 / 3,
            "late:v1:0": 1.5,
            "undated:v1:0": 1.0,
        }
    )


# -- per-article caps and duplicates ---------------------------------------------------------


@pytest.fixture
def long_story():
    """Five passages of one article that all match well, and one weaker passage elsewhere."""
    story = [
        passage(f"Ceasefire talks with negotiators in Doha, session {n} of {n * 7}.", "story", n)
        for n in range(5)
    ]
    return [*story, passage("A ceasefire was mentioned in passing.", "aside")]


def articles(hits):
    return [hit.passage.article_id for hit in hits]


def test_no_article_takes_more_than_its_share_of_the_hits(search, long_story):
    query = "ceasefire talks negotiators Doha"
    assert articles(search(long_story, query, k=4)) == ["story"] * 3 + ["aside"]
    uncapped = RetrievalParams(per_article=5)
    assert articles(search(long_story, query, k=4, params=uncapped)) == ["story"] * 4


def test_passages_over_the_cap_come_after_the_rest_in_score_order(search, long_story):
    query = "ceasefire talks negotiators Doha"
    hits = search(long_story, query, k=6, params=RetrievalParams(per_article=1))
    assert articles(hits) == ["story", "aside"] + ["story"] * 4
    overflow = [hit.score for hit in hits[2:]]
    assert overflow == sorted(overflow, reverse=True)
    assert [hit.rank for hit in hits] == [1, 2, 3, 4, 5, 6]


WIRE = (
    "Russian Foreign Ministry spokeswoman Maria Zakharova said in a statement that the United "
    "States, China, Pakistan, an Afghan government delegation, Taliban representatives and "
    "Qatar are invited to Moscow for talks meant to advance intra-Afghan negotiations, which "
    "stalled in Doha after months of slow progress over a ceasefire and power sharing."
)


def test_one_wire_story_from_several_outlets_is_one_hit_crediting_each(search):
    reuters = passage(WIRE, "reuters", source="Reuters")
    ap = passage(WIRE.replace("slow progress", "halting progress"), "ap", source="AP")
    other = passage("Talks in Moscow about trade went on.", "trade")
    hits = search([reuters, ap, other], "Who is invited to Moscow for talks?")
    assert len(hits) == 2
    story = next(hit for hit in hits if hit.passage.article_id in ("reuters", "ap"))
    credited = {story.passage.source, *(p.source for p in story.also_in)}
    assert credited == {"Reuters", "AP"}
    assert all(hit.also_in == () for hit in hits if hit is not story)


def test_texts_below_the_duplicate_threshold_stay_apart(search):
    reuters = passage(WIRE, "reuters", source="Reuters")
    ap = passage(WIRE.replace("slow progress", "halting progress"), "ap", source="AP")
    strict = RetrievalParams(duplicate_jaccard=0.95)
    hits = search([reuters, ap], "Who is invited to Moscow for talks?", params=strict)
    assert sorted(articles(hits)) == ["ap", "reuters"]
    assert all(hit.also_in == () for hit in hits)


def test_passages_of_the_same_article_are_never_folded(search):
    # Overlapping chunks of one article can repeat each other; both stay hits.
    hits = search([passage(WIRE, "a", 0), passage(WIRE, "a", 1)], "Who is invited to Moscow?")
    assert sorted(ids(hits)) == ["a:v1:0", "a:v1:1"]
    assert all(hit.also_in == () for hit in hits)


# -- similarity -----------------------------------------------------------------------------


def test_each_hit_carries_its_cosine_similarity_to_the_question(search, fake_embedder):
    passages = [
        passage("Zakharova said China is invited to Moscow.", "a"),
        passage("Qatar hosted talks in Doha.", "b"),
    ]
    query = "Who is invited to Moscow?"
    vectors = fake_embedder.encode([f"{p.title}\n{p.text}" for p in passages])
    stored = {p.id: v for p, v in zip(passages, vectors, strict=True)}
    for context in ("", "What did Zakharova say?"):
        full = f"{context} {query}".strip()
        asked = fake_embedder.encode([full])[0]
        hits = search(passages, query, context=context)
        assert {hit.passage.id: hit.similarity for hit in hits} == pytest.approx(
            {i: float(v @ asked) for i, v in stored.items()}
        )
        assert all(hit.similarity != hit.score for hit in hits)
    assert hits[0].passage.id == "a:v1:0"
    assert hits[0].similarity > 0.3


def test_the_fake_encoder_puts_texts_sharing_words_close(fake_embedder):
    a, b, c = fake_embedder.encode(
        ["China is invited to Moscow", "Moscow invited China", "Rain in Bogota"]
    )
    assert np.linalg.norm(a) == pytest.approx(1.0)
    assert a @ b > 0.9
    assert abs(a @ c) < 0.2
    assert np.array_equal(fake_embedder.encode(["Rain in Bogota"])[0], c)  # deterministic


# -- idf ------------------------------------------------------------------------------------


def test_idf_weighs_terms_against_the_current_index(fake_embedder):
    texts = ["Talks in Doha.", "Talks in Moscow.", "Talks resumed; Kabulov spoke."]
    store = MemoryStore(fake_embedder, [passage(t, f"a{n}") for n, t in enumerate(texts)])
    retriever = Retriever(store, fake_embedder)
    idf = retriever.idf()
    assert idf("zakharova") > idf("kabulov") == idf("doha") > idf("talks")
    assert idf("kabulov") == pytest.approx(math.log(1 + (3 - 1 + 0.5) / (1 + 0.5)))
    store.put([passage("Kabulov again.", "a3"), passage("Kabulov once more.", "a4")])
    assert retriever.idf()("kabulov") < idf("kabulov")  # a new generation, new weights


def test_the_answerer_weighs_question_words_by_the_retrievers_idf(fake_embedder):
    # "talks" is in every passage, "Kabulov" in one: the sentence naming him is the answer,
    # and the one holding only the common word is not (with flat weights, both would be).
    texts = {
        "doha": "Talks in Doha went on.",
        "geneva": "Talks in Geneva paused.",
        "oslo": "Talks in Oslo began.",
        "moscow": "The talks went on for hours. Kabulov called the meeting useful.",
    }
    store = MemoryStore(fake_embedder, [passage(t, a) for a, t in texts.items()])
    answerer = NewsAnswerer(Retriever(store, fake_embedder, clock=lambda: NOW))
    answer = answerer.answer("What did Kabulov say about the talks?")
    assert answer.answered
    assert answer.text == "Kabulov called the meeting useful. [1]"
    assert [c.article_id for c in answer.citations] == ["moscow"]


# -- a parsed query -------------------------------------------------------------------------


def test_a_parsed_query_searches_as_its_text_does(fake_embedder):
    passages = [
        passage("Reuters: Zakharova said China is invited to Moscow.", "a", source="Reuters"),
        passage("Qatar hosted talks in Doha since March 12.", "b", source="Herald"),
        passage("Kabulov said the talks in Moscow were useful.", "c", source="Herald"),
    ]
    retriever = Retriever(MemoryStore(fake_embedder, passages), fake_embedder, clock=lambda: NOW)
    for question, context in [
        ("Who did Reuters say is invited to Moscow?", ""),
        ("And the talks since March 12?", "What did Kabulov say?"),
    ]:
        query = retriever.parse(question, context)
        assert query.outlets == (("Reuters",) if "Reuters" in question else ())
        assert retriever.search(query, 3) == retriever.search(question, 3, context=context)
    with pytest.raises(ValueError, match="context"):
        retriever.search(query, 3, context="What did Kabulov say?")


def test_the_answer_reuses_its_own_search_vector_and_nothing_else(fake_embedder):
    import threading

    encoded: list[str] = []

    class Counting:
        name, max_tokens = fake_embedder.name, fake_embedder.max_tokens

        def count_tokens(self, texts):
            return fake_embedder.count_tokens(texts)

        def encode(self, texts):
            encoded.extend(texts)
            return fake_embedder.encode(texts)

    store = MemoryStore(fake_embedder, [passage("China is invited to Moscow.")])
    retriever = Retriever(store, Counting(), clock=lambda: NOW)
    retriever.search("Who is invited to Moscow?", 5)
    vector = retriever.query_vector("Who is invited to Moscow?")
    assert encoded == ["Who is invited to Moscow?"]  # the search's vector, not a new encode
    assert vector == pytest.approx(fake_embedder.encode(["Who is invited to Moscow?"])[0])
    retriever.query_vector("Another question?")
    assert encoded[-1] == "Another question?"
    elsewhere = threading.Thread(target=retriever.query_vector, args=("Another question?",))
    elsewhere.start()
    elsewhere.join()
    assert encoded.count("Another question?") == 2  # another thread's answer encodes its own


def test_keeping_up_applies_commits_and_warns_once_per_outage(fake_embedder, caplog):
    """Retriever.keep_up applies a new commit with no question asked; a store that is away
    is one warning, not one a second."""
    import logging
    import time

    from retrieval.errors import StoreUnavailableError

    store = MemoryStore(fake_embedder, [passage("Talks in Doha resumed.", "doha")])
    retriever = Retriever(store, fake_embedder)
    assert retriever.catalog().generation == store.committed()
    away = {"on": False, "calls": 0}
    real_committed = store.committed

    def committed() -> int:
        away["calls"] += 1
        if away["on"]:
            raise StoreUnavailableError("the store is away")
        return real_committed()

    store.committed = committed  # type: ignore[method-assign]
    stop = retriever.keep_up(every=0.01)
    try:
        store.put([passage("Envoys met in Tashkent.", "tashkent")])
        deadline = time.monotonic() + 30  # waits for the thread; nothing is timed
        while "tashkent" not in retriever._catalog.articles and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "tashkent" in retriever._catalog.articles
        with caplog.at_level(logging.WARNING, logger="retrieval.search.retriever"):
            away["on"], seen = True, away["calls"]
            while away["calls"] < seen + 5 and time.monotonic() < deadline:
                time.sleep(0.01)
        assert away["calls"] >= seen + 5
        assert [r.getMessage() for r in caplog.records] == [
            "cannot keep up with the index: the store is away"
        ]
    finally:
        stop.set()
