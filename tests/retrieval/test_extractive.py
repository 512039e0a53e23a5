"""The extractive answerer's pure parts: sentence choice, citations, declining, follow-ups."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from retrieval.answer.answerer import AnswerParams, NewsAnswerer, clean_question, follow_up_context
from retrieval.answer.extractive import (
    ChoiceParams,
    choose,
    compose,
    part_support,
    score_sentences,
    select,
)
from retrieval.errors import BadQuestionError
from retrieval.search.query import parse_query
from retrieval.types import Passage, SearchHit

NOW = datetime(2021, 3, 20, 12, tzinfo=UTC)


def parsed(question, context=""):
    return parse_query(question, context=context, outlets={}, now=NOW)


def hit(text, article="a1", chunk=0, source="Wire", similarity=0.6, also=()):
    passage = Passage(
        id=f"{article}:{chunk}",
        text=text,
        article_id=article,
        title=f"Title {article}",
        source=source,
        published_at="2021-03-10T00:00:00+00:00",
        url=f"https://x/{article}",
        author=None,
        chunk_index=chunk,
        start=0,
        end=len(text),
        content_hash="h",
        text_hash=text,
        origin="o",
    )
    return SearchHit(passage=passage, score=1.0, similarity=similarity, also_in=tuple(also))


def flat_idf(term):
    return 1.0


def answer_from(question, hits, **kw):
    sentences = score_sentences(parsed(question), hits, idf=flat_idf, **kw)
    return compose(hits, select(sentences, hits))


def test_every_sentence_is_marked_and_citations_are_one_per_article():
    hits = [
        hit("Zakharova said China and Pakistan are invited to Moscow. The weather was fine."),
        hit("Qatar is invited to Moscow too, officials said.", article="a2"),
    ]
    text, citations = answer_from("Who is invited to Moscow?", hits)
    assert "China and Pakistan are invited to Moscow. [1]" in text
    assert "Qatar is invited to Moscow too, officials said. [2]" in text
    assert "weather" not in text
    assert [(c.n, c.article_id) for c in citations] == [(1, "a1"), (2, "a2")]
    assert citations[0].quote == "Zakharova said China and Pakistan are invited to Moscow."
    assert citations[0].url == "https://x/a1"


def test_a_continuing_sentence_in_the_next_passage_comes_along():
    hits = [
        hit("The United States, China, and Pakistan are invited to Moscow."),
        hit("An Afghan delegation and Qatar are invited as well.", chunk=1),
    ]
    text, citations = answer_from("Who is invited to Moscow?", hits)
    assert "Qatar are invited as well. [1]" in text
    assert len(citations) == 1
    assert citations[0].quote.endswith("invited as well.")


def test_duplicates_from_other_outlets_are_credited():
    other = hit("Same wire story: China is invited to Moscow.", article="a9", source="AP").passage
    _, citations = answer_from(
        "Who is invited to Moscow?",
        [hit("Same wire story: China is invited to Moscow.", source="Reuters", also=[other])],
    )
    assert citations[0].source == "Reuters"
    assert citations[0].also_in == ("AP",)


def test_follow_up_prefers_what_was_not_said_yet():
    said = "Zakharova said in a March 9 statement that China is invited to Moscow."
    hits = [hit(f"{said} The conference in Moscow will be held on March 18.")]
    sentences = score_sentences(
        parsed("And when is it?", context="Who is invited to Moscow?"),
        hits,
        idf=flat_idf,
        already_said=said,
    )
    assert sentences[0].text == "The conference in Moscow will be held on March 18."


class FakeRetriever:
    def __init__(self, hits):
        self.hits = hits
        self.calls = []

    def parse(self, question, context=""):
        return parsed(question, context)

    def search(self, query, k):
        self.calls.append((query.text, query.context))
        return self.hits

    def idf(self):
        return flat_idf


def test_declines_plainly_when_nothing_matches():
    retriever = FakeRetriever([hit("Football scores from the weekend.", similarity=0.1)])
    answer = NewsAnswerer(retriever).answer("Who is invited to Moscow?")
    assert not answer.answered
    assert answer.citations == ()
    assert answer.text == "The news I have doesn't say."


def test_short_name_questions_answer_on_exact_matches_despite_low_similarity():
    retriever = FakeRetriever(
        [hit("Spokesman Ned Price said progress is possible.", similarity=0.05)]
    )
    assert NewsAnswerer(retriever).answer("Who is Ned Price?").answered
    assert (
        not NewsAnswerer(retriever, params=AnswerParams(sure_coverage=1.1))
        .answer("Who is Ned Price?")
        .answered
    )


def test_an_llm_composer_that_gives_up_falls_back_to_the_extractive_answer():
    class GivesUp:
        def compose(self, question, hits, history, evidence=()):
            return None

    retriever = FakeRetriever([hit("China and Pakistan are invited to Moscow.")])
    answer = NewsAnswerer(retriever, composer=GivesUp()).answer("Who is invited to Moscow?")
    assert answer.answered
    assert answer.text == "China and Pakistan are invited to Moscow. [1]"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  Who is\tinvited?\n", "Who is invited?"),
        ("Who\x00 is\x1b invited?", "Who is invited?"),
        ("Кто приглашён в Москву? 🇷🇺", "Кто приглашён в Москву? 🇷🇺"),
    ],
)
def test_questions_are_cleaned(raw, cleaned):
    assert clean_question(raw, 1000) == cleaned


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01\x02", "\u200b\n"])
def test_empty_questions_are_refused(raw):
    with pytest.raises(BadQuestionError, match="empty"):
        clean_question(raw, 1000)


def test_huge_questions_are_refused_with_the_limit():
    with pytest.raises(BadQuestionError, match=r"too long .*1000"):
        clean_question("why " * 2500, 1000)


def test_follow_ups_lean_on_earlier_questions_only_when_they_need_to():
    history = [("Who is invited to Moscow?", "China is invited [1]")]
    assert follow_up_context(parsed("And when is it?"), history) == "Who is invited to Moscow?"
    assert follow_up_context(parsed("When is it?"), history) == "Who is invited to Moscow?"
    assert follow_up_context(parsed("What did the Taliban say about Doha talks?"), history) == ""
    assert follow_up_context(parsed("And when is it?"), []) == ""


class RecordingComposer:
    def __init__(self):
        self.histories = []

    def compose(self, question, hits, history, evidence=()):
        self.histories.append(list(history))
        self.hits = list(hits)
        self.evidence = list(evidence)
        return None  # the extractive answer stands


def test_an_llm_composer_sees_the_deciding_passages_and_those_holding_its_evidence():
    filler = [hit(f"Weather report number {i} for the coast.", article=f"w{i}") for i in range(9)]
    late = hit("China and Pakistan are invited to Moscow.", article="late", similarity=0.9)
    first = hit("Russia invited delegations to Moscow talks.", article="first", similarity=0.9)
    hits = [first, *filler, late]  # the evidence's passages: 1st and 11th of 11
    composer = RecordingComposer()
    params = AnswerParams(decide_on=3)
    NewsAnswerer(FakeRetriever(hits), composer=composer, params=params).answer(
        "Who is invited to Moscow?"
    )
    assert [h.passage.article_id for h in composer.hits] == ["first", "w0", "w1", "late"]
    assert composer.evidence  # each sentence points at its passage among those shown
    for index, sentence in composer.evidence:
        assert sentence in composer.hits[index].passage.text
    assert any(composer.hits[index] is late for index, _ in composer.evidence)


@pytest.mark.parametrize("turns", [0, 3, 6])
def test_history_turns_setting_decides_how_far_back_a_follow_up_looks(turns):
    history = [(f"Who is invited to meeting number {i}?", f"Delegates {i}.") for i in range(8)]
    retriever = FakeRetriever([hit("The Moscow meeting opens on March 18.", similarity=0.9)])
    composer = RecordingComposer()
    params = AnswerParams(follow_up_turns=turns)
    answerer = NewsAnswerer(retriever, composer=composer, params=params)
    assert answerer.answer("And when is the Moscow meeting?", history).answered
    [(_, context)] = retriever.calls
    used = [q for q, _ in history if q in context]
    assert used == [q for q, _ in history[len(history) - turns :]] if turns else used == []
    assert composer.histories == [history[len(history) - turns :] if turns else []]


def test_newsbot_history_turns_reaches_the_answerer_and_the_conversations():
    from bot.runtime import answer_params
    from bot.settings import ServeSettings
    from bot.telegram.context import BotState

    settings = ServeSettings(_env_file=None, history_turns=6)
    assert answer_params(settings).follow_up_turns == 6
    assert BotState.from_settings(settings).conversations.turns == 6


# --- one sentence per part of the question ---------------------------------------------------


def chosen_texts(question, hits, *, outlets=None, similarity=None, **params):
    params.setdefault("articles", 0)  # what the answer says; quotes are tested on their own
    params.setdefault("quote_sentences", 0)
    query = parse_query(question, outlets=outlets or {}, now=NOW)
    sentences = score_sentences(query, hits, idf=flat_idf)
    chosen = choose(
        query,
        hits,
        sentences,
        idf=flat_idf,
        similarity=similarity,
        params=ChoiceParams(**params),
    )
    return [s.text for s in chosen]


OUTLET_NAMES = {"harbor gazette": "Harbor Gazette", "delta times": "Delta Times"}


def test_each_part_of_a_comparison_gets_a_sentence_from_its_outlet():
    hits = [
        hit(
            "The truce talks opened in Doha on Monday. Truce monitors counted 34 observers.",
            article="a1",
            source="Harbor Gazette",
        ),
        hit("Truce monitors said the truce talks opened in Doha.", article="a2", source="Wire"),
        hit("The ceasefire talks in Doha were postponed.", article="a3", source="Delta Times"),
    ]
    question = (
        "Did the Harbor Gazette report that the truce talks opened in Doha before the Delta "
        "Times reported that the talks were postponed?"
    )
    got = chosen_texts(question, hits, outlets=OUTLET_NAMES, budget=0)
    assert got == [
        "The truce talks opened in Doha on Monday.",
        "The ceasefire talks in Doha were postponed.",
    ]
    # The whole question alone picks the Wire and Harbor Gazette sentences, not Delta Times'.
    query = parsed(question)
    best = select(score_sentences(query, hits, idf=flat_idf), hits)
    assert "The ceasefire talks in Doha were postponed." not in [s.text for s in best]


def test_a_sentence_close_in_meaning_wins_over_one_sharing_words():
    hits = [
        hit(
            "Invited conference delegates found Moscow cold. "
            "China, Pakistan and the United States will attend.",
        )
    ]
    question = "Who is invited to the Moscow conference?"
    assert chosen_texts(question, hits, budget=0) == [
        "Invited conference delegates found Moscow cold."
    ]
    second = hits[0].passage.text.index("China")
    meaning = {(0, 0): 0.1, (0, second): 0.9}
    got = chosen_texts(question, hits, similarity=meaning, budget=0, meaning_weight=3.0)
    assert got == ["China, Pakistan and the United States will attend."]


def test_extras_come_only_within_the_budget_and_nearly_as_good():
    long_extra = "Qatar is invited to the Moscow talks as a host of earlier talks " + "x " * 80
    hits = [
        hit("China is invited to the Moscow talks."),
        hit(long_extra.strip() + ".", article="a2"),
        hit("Pakistan received an invitation to the Moscow talks.", article="a3"),
        hit("Football results.", article="a4"),
    ]
    question = "Who is invited to the Moscow talks?"
    assert chosen_texts(question, hits, budget=0) == ["China is invited to the Moscow talks."]
    got = chosen_texts(question, hits, budget=120)
    assert got == [
        "China is invited to the Moscow talks.",
        "Pakistan received an invitation to the Moscow talks.",
    ]
    assert "Football results." not in chosen_texts(question, hits, budget=10_000)


def test_a_part_whose_outlet_has_no_passage_takes_the_best_of_the_rest():
    hits = [
        hit("The truce talks opened in Doha.", article="a1", source="Harbor Gazette"),
        hit("Talks were postponed, officials said.", article="a2", source="Wire"),
    ]
    question = (
        "Did the Harbor Gazette report the talks opened before the Delta Times reported "
        "they were postponed?"
    )
    assert chosen_texts(question, hits, outlets=OUTLET_NAMES, budget=0) == [
        "The truce talks opened in Doha.",
        "Talks were postponed, officials said.",
    ]


def test_the_seed_answer_keeps_its_continuing_sentence():
    hits = [
        hit(
            "Zakharova said the United States, China, and Pakistan are invited to Moscow. An "
            "Afghan delegation and Qatar are invited as well. The talks open on March 18."
        )
    ]
    assert chosen_texts("Who is invited to Moscow?", hits, budget=0) == [
        "Zakharova said the United States, China, and Pakistan are invited to Moscow.",
        "An Afghan delegation and Qatar are invited as well.",
    ]


def test_more_of_a_cited_article_is_quoted_in_its_citation_but_not_said():
    hits = [
        hit(
            "China, a close partner, is invited to the Moscow talks, officials confirmed. "
            "The weather was fine. "
            "Zakharova said the Moscow talks start on March 18 with invited delegations."
        ),
        hit("Pakistan is invited too, says the Moscow talks host.", article="a2"),
    ]
    query = parsed("Who is invited to the Moscow talks?")
    sentences = score_sentences(query, hits, idf=flat_idf)
    params = ChoiceParams(articles=1, quote_sentences=2)
    chosen = choose(query, hits, sentences, idf=flat_idf, params=params)
    assert [s.shown for s in chosen] == [True, False]
    text, citations = compose(hits, chosen)
    assert text == "Zakharova said the Moscow talks start on March 18 with invited delegations. [1]"
    assert len(citations) == 1  # `articles=1`: no further article
    assert citations[0].quote == (
        "China, a close partner, is invited to the Moscow talks, officials confirmed. … "
        "Zakharova said the Moscow talks start on March 18 with invited delegations."
    )
    # Up to `quote_sentences` per citation, best first, none far below the best: the weather
    # shares no word with the question.
    more = replace(params, quote_sentences=3)
    chosen = choose(query, hits, sentences, idf=flat_idf, params=more)
    assert "weather" not in compose(hits, chosen)[1][0].quote
    chosen = choose(query, hits, sentences, idf=flat_idf, params=replace(more, quote_relative=0))
    assert "The weather was fine." in compose(hits, chosen)[1][0].quote


def test_sentences_next_to_each_other_are_quoted_as_they_stand():
    hits = [hit("Talks open in Moscow. Qatar is invited. The weather was fine. China attends.")]
    sentences = score_sentences(parsed("Who is invited to Moscow talks?"), hits, idf=flat_idf)
    by_text = {s.text: s for s in sentences}
    chosen = [by_text[t] for t in ("China attends.", "Talks open in Moscow.", "Qatar is invited.")]
    _, citations = compose(hits, chosen)
    assert citations[0].quote == "Talks open in Moscow. Qatar is invited. … China attends."


def test_further_articles_are_quoted_and_pointed_to_not_said():
    hits = [
        hit("Qatar is invited to the Moscow talks on Afghanistan.", article="a1"),
        hit("China and Pakistan are invited to the Moscow talks.", article="a2"),
        hit("Football scores from the weekend.", article="a3"),
    ]
    question = "Who is invited to the Moscow talks on Afghanistan?"
    params = ChoiceParams(articles=2, quote_sentences=1)
    query = parsed(question)
    chosen = choose(
        query, hits, score_sentences(query, hits, idf=flat_idf), idf=flat_idf, params=params
    )
    assert [(s.text, s.shown) for s in chosen] == [
        ("Qatar is invited to the Moscow talks on Afghanistan.", True),
        ("China and Pakistan are invited to the Moscow talks.", False),
    ]
    text, citations = compose(hits, chosen)
    assert text == "Qatar is invited to the Moscow talks on Afghanistan. [1]"
    assert [c.article_id for c in citations] == ["a1", "a2"]  # the further one last

    answerer = NewsAnswerer(FakeRetriever(hits), params=AnswerParams(choice=params))
    answer = answerer.answer(question)
    assert answer.text == "Qatar is invited to the Moscow talks on Afghanistan. [1] See also [2]."
    assert [(c.n, c.article_id, c.quote) for c in answer.citations] == [
        (1, "a1", "Qatar is invited to the Moscow talks on Afghanistan."),
        (2, "a2", "China and Pakistan are invited to the Moscow talks."),
    ]
    assert answer.freshness is not None

    # Not from a passage far in meaning from the question, however many words it shares.
    hits[1] = hit(
        "China and Pakistan are invited to the Moscow talks.", article="a2", similarity=0.1
    )
    chosen = choose(
        query, hits, score_sentences(query, hits, idf=flat_idf), idf=flat_idf, params=params
    )
    assert [s.text for s in chosen] == ["Qatar is invited to the Moscow talks on Afghanistan."]


def test_a_later_part_beyond_what_the_answer_says_is_quoted_only():
    hits = [
        hit(
            "The truce talks opened in Doha on Monday after weeks of delay.",
            source="Harbor Gazette",
        ),
        hit("Officials postponed them until June.", article="a2", source="Delta Times"),
    ]
    question = (
        "Did the Harbor Gazette report that the truce talks opened in Doha before the Delta "
        "Times reported that the talks were postponed?"
    )
    query = parse_query(question, outlets=OUTLET_NAMES, now=NOW)
    sentences = score_sentences(query, hits, idf=flat_idf)
    for say, shown in ((1000, [True, True]), (70, [True, False]), (0, [True, False])):
        params = ChoiceParams(say=say, articles=0, quote_sentences=0)
        chosen = choose(query, hits, sentences, idf=flat_idf, params=params)
        assert [s.shown for s in chosen] == shown  # the first is always said
    text, citations = compose(hits, chosen)
    assert text == "The truce talks opened in Doha on Monday after weeks of delay. [1]"
    assert citations[1].quote == "Officials postponed them until June."


TWO_OUTLETS = {"reuters": "Reuters", "tass": "TASS"}
TWO_PART_QUESTION = (
    "Did Reuters report that the envoy left Doha after the ceasefire talks stalled, before "
    "TASS reported the summit in Moscow with Chinese and Pakistani delegates?"
)


def two_part_hits(similarity=0.6):
    return [
        hit("The envoy left Doha on Monday.", source="Reuters", similarity=similarity),
        hit("The summit opened in Moscow.", article="a2", source="TASS", similarity=similarity),
    ]


def test_part_support_is_each_part_held_by_some_sentence_on_average():
    query = parse_query(TWO_PART_QUESTION, outlets=TWO_OUTLETS, now=NOW)
    assert len(query.parts) == 2
    hits = two_part_hits()
    both = score_sentences(query, hits, idf=flat_idf)
    one = score_sentences(query, hits[:1], idf=flat_idf)
    # no sentence holds much of the whole question, but each part is partly held
    assert max(s.coverage for s in both) < 0.25
    assert part_support(query, both, idf=flat_idf) > 0.35
    assert part_support(query, one, idf=flat_idf) < part_support(query, both, idf=flat_idf)
    assert part_support(query, [], idf=flat_idf) == 0.0


class PartsRetriever(FakeRetriever):
    def parse(self, question, context=""):
        return parse_query(question, context=context, outlets=TWO_OUTLETS, now=NOW)


def answers_in_parts(hits, parts_similarity):
    # min_coverage 0.3: the whole-question test alone declines (its best sentence holds less)
    params = AnswerParams(min_coverage=0.3, parts_similarity=parts_similarity)
    return NewsAnswerer(PartsRetriever(hits), params=params).answer(TWO_PART_QUESTION).answered


def test_a_question_in_parts_is_answered_when_each_part_is_held():
    assert not answers_in_parts(two_part_hits(), parts_similarity=1.1)  # the test off
    assert answers_in_parts(two_part_hits(), parts_similarity=0.48)
    # not when the passages are far in meaning from the question
    assert not answers_in_parts(two_part_hits(similarity=0.3), parts_similarity=0.48)
