"""Answers lead with the sentence holding the asked-for fact, or say what the news does say."""

from __future__ import annotations

from retrieval.answer.answerer import NewsAnswerer, holds_answer
from retrieval.answer.asking import parse_asked
from retrieval.answer.extractive import score_sentences
from retrieval.answer.leading import answering, lead_with, related, says_instead
from retrieval.types import Answer, Citation
from tests.retrieval.test_extractive import FakeRetriever, flat_idf, hit, parsed

ANNOUNCED = (
    "Mediators announced peace talks on the Serra Valley conflict on Monday. "
    "The government and the Valley Front were invited to send delegations."
)
OPENING = "The Serra Valley talks will open in Port Alva on March 16, the mediators said."
DISPLACED = "Shelling displaced thousands of families in the Serra Valley last winter."


def sentences_of(question, hits):
    return score_sentences(parsed(question), hits, idf=flat_idf)


def test_the_answer_is_the_sentence_with_the_date_not_the_closest_words():
    question = "when do the serra valley talks start?"
    hits = [hit(ANNOUNCED, article="a1", similarity=0.7), hit(OPENING, article="a2")]
    leads = answering(parse_asked(question), question, hits, sentences_of(question, hits), {})
    assert [s.text for s in leads] == [OPENING]


def test_meaning_ranks_the_sentences_that_answer():
    question = "when do the serra valley talks start?"
    other = "The Serra Valley talks start in Port Alva on March 9, officials said."
    hits = [hit(OPENING, article="a1"), hit(other, article="a2")]
    sentences = sentences_of(question, hits)
    meaning = {(1, 0): 0.9, (0, 0): 0.1}
    leads = answering(parse_asked(question), question, hits, sentences, meaning)
    assert leads[0].text == other


def test_the_lead_is_said_alone_and_the_rest_quoted():
    question = "when do the serra valley talks start?"
    hits = [hit(OPENING, article="a1"), hit(ANNOUNCED, article="a2")]
    sentences = sentences_of(question, hits)
    lead = next(s for s in sentences if s.text == OPENING)
    chosen = lead_with(lead, sentences, sentences, hits)
    assert [s.text for s in chosen if s.shown] == [OPENING]
    assert len(chosen) == len(sentences)


def test_what_the_news_does_say_leads_the_decline():
    asked = parse_asked("how many died in the serra valley?")
    hits = [hit(DISPLACED)]
    found = related(asked, sentences_of("how many died in the serra valley?", hits), {})
    assert found is not None
    assert found.text == DISPLACED
    assert says_instead(asked, "Thousands fled. [1]") == (
        "The news I have doesn't say how many died in the serra valley; it reports: "
        "Thousands fled. [1]"
    )


def test_a_near_topic_question_is_declined_saying_what_the_news_reports():
    retriever = FakeRetriever([hit(DISPLACED, similarity=0.6)])
    answer = NewsAnswerer(retriever).answer("How many died in the Serra Valley?")
    assert not answer.answered  # counted as a decline
    assert answer.text.startswith("The news I have doesn't say how many died in the serra valley")
    assert answer.text.endswith(f"it reports: {DISPLACED} [1]")
    assert [c.quote for c in answer.citations] == [DISPLACED]


def test_nothing_on_the_subject_gets_the_plain_decline():
    retriever = FakeRetriever([hit("Football scores from the weekend.", similarity=0.1)])
    answer = NewsAnswerer(retriever).answer("How many died in the Serra Valley?")
    assert (answer.answered, answer.text, answer.citations) == (
        False,
        "The news I have doesn't say.",
        (),
    )


def test_a_short_question_is_answered_below_the_long_questions_similarity():
    retriever = FakeRetriever(
        [hit(ANNOUNCED, similarity=0.35), hit(OPENING, "a2", similarity=0.35)]
    )
    answer = NewsAnswerer(retriever).answer("When do the Serra Valley talks start?")
    assert answer.answered
    assert answer.text.startswith(OPENING)


def test_a_written_answer_must_cite_a_sentence_holding_the_fact():
    asked = parse_asked("when do the serra valley talks start?")
    hit_ = hit(OPENING)

    def written(quote):
        citation = Citation.quoting(1, hit_.passage, quote)
        return Answer(asked.phrase, "They start soon [1].", True, (citation,))

    assert holds_answer(asked, written(OPENING))
    assert not holds_answer(asked, written(ANNOUNCED))
