"""What a question asks and whether a sentence answers it (pure)."""

from __future__ import annotations

import pytest

from retrieval.answer import answer_words as w
from retrieval.answer.asking import answers, is_statement, named, parse_asked, same_word


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("when do the talks start?", w.DATE),
        ("What date is the vote?", w.DATE),
        ("where are the talks held?", w.PLACE),
        ("Which city hosts the talks?", w.PLACE),
        ("who is mediating?", w.PERSON),
        ("who's mediating", w.PERSON),
        ("what’s the death toll", w.NUMBER),
        ("Who is invited to Moscow?", w.PERSON),
        ("who is the northern alliance spokesman?", w.PERSON),
        ("Which company was fined?", w.PERSON),
        ("Who is Ned Price?", w.DESCRIPTION),  # who he is, not a name
        ("how many prisoners were freed?", w.NUMBER),
        ("How much aid was pledged?", w.NUMBER),
        ("how long will the first round last?", w.NUMBER),
        ("why did the alliance pull out?", w.REASON),
        ("Is the alliance still taking part?", w.YES_NO),
        ("What did Kabulov say?", w.DESCRIPTION),
        ("and when is it?", w.DATE),
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question, kind):
    assert parse_asked(question).kind == kind


def test_the_focus_is_what_about_the_subject_is_asked():
    assert parse_asked("when do the talks start?").focus == ("talks", "start")
    assert parse_asked("how many people died?").focus == ("died",)
    assert parse_asked("who will chair the second round?").focus == ("chair", "second", "round")
    assert parse_asked("who will chair the second round?").qualifiers == ("second",)


def test_how_many_counts_the_noun_that_follows_not_a_verb_or_people():
    assert parse_asked("how many displaced families went home?").counted == "families"
    assert parse_asked("how many died?").counted is None
    assert parse_asked("how many people died?").counted is None


@pytest.mark.parametrize(
    ("question", "clause"),
    [
        ("how many died?", "how many died"),
        ("When do the talks start?", "when the talks start"),
        ("when will the summit be held?", "when the summit will be held"),
        ("when is the moscow conference?", "when the moscow conference is"),
        ("how many observers will monitor it?", "how many observers will monitor it"),
        ("how many prisoners has it released?", "how many prisoners it has released"),
        ("who will chair it?", "who will chair it"),
    ],
)
def test_the_question_as_a_clause_for_a_decline(question, clause):
    assert parse_asked(question).phrase == clause


def test_only_short_questions_of_a_definite_kind_need_a_sentence_of_that_kind():
    assert parse_asked("when do the talks start?").definite
    assert not parse_asked("What did Kabulov say?").definite
    assert not parse_asked("Is the alliance still taking part?").definite
    long = (
        "Which company, reported by TechCrunch on Monday and by The Verge a week later, faces an "
        "antitrust suit over its search deal with a phone maker and its advertising revenue?"
    )
    assert not parse_asked(long).definite  # a long question restates its facts


def test_synonyms_and_stems_meet():
    assert same_word("start", "opened")
    assert same_word("observers", "observer")
    assert same_word("died", "killed")
    assert not same_word("died", "displaced")


TALKS = "The talks will open in Port Alva on March 16, the mediators said."


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("when do the talks start?", TALKS, True),
        ("when do the talks start?", "The talks were announced by the Lake Council.", False),
        ("when do the talks end?", TALKS, False),  # a date, not of the end
        ("where are the talks held?", "The talks will be held in Port Alva.", True),
        ("where are the talks held?", "The talks will be held soon.", False),
        ("how many observers are there?", "A total of 34 observers will monitor it.", True),
        ("how many observers are there?", "The observers arrive on March 10.", False),
        ("how many died?", "Shelling displaced thousands of families last winter.", False),
        ("how many died?", "At least 12 people were killed in the shelling.", True),
        ("who is mediating?", "Mediators from the Lake Council announced the talks.", True),
        ("who is mediating?", "Mediators announced the talks on Monday.", False),  # no name
        ("who will chair the second round?", "A second round will be held in April.", False),
        ("why did the alliance pull out?", "The alliance withdrew after the shelling.", True),
        ("why did the alliance pull out?", "The alliance withdrew on Friday.", False),
        ("When is the vote in Teresina?", "The vote in Teresina was praised.", False),
    ],
)
def test_a_sentence_answers_only_with_an_answer_of_the_kind_tied_to_the_focus(
    question, sentence, expected
):
    asked = parse_asked(question)
    assert answers(asked, sentence, "", question) is expected


def test_the_sentence_before_may_hold_the_focus_words():
    asked = parse_asked("why did the northern alliance pull out?")
    sentence = "Its spokesman said the Alliance would not take part after the shelling."
    assert not answers(asked, sentence, "", asked.phrase)
    assert answers(asked, sentence, "The Northern Alliance has withdrawn.", asked.phrase)


def test_a_question_of_no_definite_kind_is_answered_by_any_statement():
    asked = parse_asked("What did Kabulov say?")
    assert answers(asked, "Kabulov said the meeting aims to give an impetus.", "", "")


@pytest.mark.parametrize(
    "text",
    [
        "How much money does Iran transfer to Hamas?",  # a subheading asking a question
        "Russia Plans Afghan Conference To Advance Peace Talks",  # a headline
        "Breaking News",
        "Peace now! pic.twitter.com/abc123",
        "— Jane Doe (@janedoe) March 3, 2021",
        "Photo: Soldiers at the checkpoint in Amaro.",
        "(AP Photo/John Smith) Soldiers stand at a checkpoint.",
        "By John Smith and Mary Jones, Reuters",
        "Based on reporting by AFP, AP, dpa, Interfax, Reuters and TASS",
        "and the talks went on.",  # a fragment
        "Talks resumed.",  # too short to answer
    ],
)
def test_headings_captions_posts_bylines_and_fragments_are_never_answers(text):
    assert not is_statement(text)


def test_statements_are_answers():
    assert is_statement("The talks will open in Port Alva on March 16.")
    assert is_statement("“We will not attend,” the spokesman said.")


def test_names_may_be_left_to_the_passage_the_rest_of_the_focus_may_not():
    question = "where did changpeng zhao enter his plea"
    passage = "Changpeng Zhao stepped down. He appeared in a Seattle court to enter his plea."
    asked = named(parse_asked(question), [passage])
    assert asked.names == {"changpeng", "zhao"}
    sentence = "He appeared in a Seattle court to enter his plea."
    assert answers(asked, sentence, "", question, passage)
    assert not answers(asked, sentence, "", question, "He appeared in court in Seattle.")
    assert not answers(asked, "Zhao appeared in a Seattle court.", "", question, passage)


def test_figures_with_separators_count_what_they_follow():
    passage = "Israel has a lively tech scene. The number of startups in the country is 9,000."
    asked = named(parse_asked("how many startups are there in israel?"), [passage])
    sentence = "The number of startups in the country is 9,000."
    assert answers(asked, sentence, "", "", passage)
