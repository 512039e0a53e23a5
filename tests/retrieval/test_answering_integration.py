"""Answers from a real index of the seed article: the real model, a real Chroma, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SEED
from tests.retrieval.openai_server import OpenAIServer, Reply

pytestmark = pytest.mark.integration
SEED_TITLE = "Russia Plans Afghan Conference To Advance Peace Talks"
INVITEES = [
    "United States",
    "China",
    "Pakistan",
    "Afghan government delegation",
    "Taliban representatives",
    "Qatar",
]


def newsbot(*args, env, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("answers")
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))
    }
    environment.update(NEWSBOT_DATA_DIR=str(data), HF_HUB_OFFLINE="1")
    result = newsbot("ingest", str(SEED), env=environment)
    assert result.returncode == 0, result.stderr
    return environment


@pytest.fixture(scope="module")
def answerer(env, embedder):
    from bot.runtime import Runtime
    from bot.settings import Settings

    settings = Settings(data_dir=env["NEWSBOT_DATA_DIR"])
    return Runtime(settings, model=embedder).answerer


def test_who_is_invited_names_every_invitee_and_cites_the_seed(answerer):
    answer = answerer.answer("Who is invited to Moscow?")
    assert answer.answered
    for invitee in INVITEES:
        assert invitee in answer.text
    assert {c.title for c in answer.citations} == {SEED_TITLE}
    assert "[1]" in answer.text
    for citation in answer.citations:
        for quote in citation.quote.split(" … "):
            assert quote in SEED.read_text()  # quoted verbatim


def test_a_follow_up_is_understood(answerer):
    first = answerer.answer("Who is invited to Moscow?")
    follow = answerer.answer("And when is it?", [(first.question, first.text)])
    assert follow.answered
    assert "March 18" in follow.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Kabulov say?", "impetus"),
        ("What did Zakharova say?", "Zakharova"),
        ("What happened since March 9?", "March 9"),
        ("Who is Ned Price?", "Ned Price"),
    ],
)
def test_questions_users_ask(answerer, question, expected):
    answer = answerer.answer(question)
    assert answer.answered
    assert expected in answer.text


@pytest.mark.parametrize(
    "question", ["What is the capital of France?", "Who won the football match yesterday?"]
)
def test_declines_what_the_news_does_not_say(answerer, question):
    answer = answerer.answer(question)
    assert not answer.answered
    assert answer.citations == ()


def test_an_llm_answer_through_an_openai_compatible_server(answerer, embedder, env):
    from bot.runtime import Runtime
    from bot.settings import Settings

    with OpenAIServer() as server:
        settings = Settings(
            data_dir=env["NEWSBOT_DATA_DIR"],
            llm_model="openai:test-model",
            llm_base_url=server.base_url,
            llm_api_key="secret-key",
            llm_timeout=5,
        )
        llm_answerer = Runtime(settings, model=embedder).answerer
        server.script(Reply("China, Pakistan and Qatar are invited [1]. Paris is lovely [9]."))
        answer = llm_answerer.answer("Who is invited to Moscow?")
        assert answer.text == "China, Pakistan and Qatar are invited [1]."
        assert answer.citations[0].title == SEED_TITLE
        assert server.requests[-1].authorization == "Bearer secret-key"

        server.script(Reply(status=500))  # the provider fails: the extractive answer stands
        fallback = llm_answerer.answer("Who is invited to Moscow?")
        assert fallback.answered
        assert "Taliban representatives" in fallback.text


def test_cli_ask_json_and_stdin(env):
    result = newsbot("ask", "Who is invited to Moscow?", "--json", env=env)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"question", "answer", "answered", "freshness", "citations"}
    assert set(payload["freshness"]) == {"newest_cited", "index_updated"}
    assert payload["freshness"]["index_updated"]  # the ingest the fixture ran
    assert payload["answered"] is True
    citation = payload["citations"][0]
    assert set(citation) == {
        "n",
        "title",
        "source",
        "published_at",
        "url",
        "quote",
        "article_id",
        "also_in",
    }
    assert citation["also_in"] == []  # one outlet carried it
    assert citation["title"] == SEED_TITLE

    lines = newsbot(
        "ask", "-", env=env, stdin="Who is invited to Moscow?\n\nWhat is the capital of France?\n"
    )
    answers = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [a["answered"] for a in answers] == [True, False]

    searched = newsbot("search", "-", "--k", "2", env=env, stdin="Kabulov\nZakharova\n")
    results = [json.loads(line) for line in searched.stdout.splitlines()]
    assert [len(r["results"]) for r in results] == [2, 2]


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("\x07\x1b", "empty"), ("why " * 2600, "too long")],
)
def test_cli_bad_questions_exit_2_with_a_clear_message(env, question, message):
    result = newsbot("ask", question, env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_other_scripts_and_emoji_get_an_answer_or_a_decline(env):
    result = newsbot("ask", "Кто приглашён в Москву? 🇷🇺", "--json", env=env)
    assert result.returncode == 0
    assert json.loads(result.stdout)["question"] == "Кто приглашён в Москву? 🇷🇺"


def test_cli_ask_without_an_index(tmp_path, env):
    result = newsbot("ask", "Who?", env={**env, "NEWSBOT_DATA_DIR": str(tmp_path / "empty")})
    assert result.returncode == 1
    assert "newsbot ingest" in result.stderr


README_ANSWER = (
    "Russian Foreign Ministry spokeswoman Maria Zakharova said in a March 9 statement that the "
    "United States, China, and Pakistan are invited to Moscow for talks meant to advance "
    "intra-Afghan negotiations. [1] An Afghan government delegation, Taliban representatives, "
    "and Qatar, which has hosted Afghan peace talks, are invited as well. [1]"
)


def test_the_seed_question_is_answered_as_the_readme_shows(answerer):
    assert answerer.answer("Who is invited to Moscow?").text == README_ANSWER
    readme = (ROOT / "README.md").read_text()
    shown = readme.split('$ newsbot ask "Who is invited to Moscow?"\n', 1)[1].split("\n\n[1]")[0]
    assert " ".join(shown.split()) == README_ANSWER


def test_the_index_holds_sentence_vectors_made_in_the_passages_model_pass(answerer):
    """Ingest pooled every sentence's vector from its passage's word pieces; the answer reads
    them with the hits and scores sentences by meaning with the question vector of its search."""
    from retrieval.sentences import split_sentences

    retriever = answerer.retriever
    query = retriever.parse("Who is invited to Moscow?")
    hits = retriever.search(query, 8)
    assert hits
    assert all(hit.sentence_vectors for hit in hits)
    meaning = answerer.meaning(query, hits)
    for h, hit in enumerate(hits):
        starts = {span.start for span in split_sentences(hit.passage.text)}
        assert {start for (i, start) in meaning if i == h} == starts
    best = max(meaning, key=meaning.__getitem__)
    text = hits[best[0]].passage.text
    assert "invited" in text[best[1] :].split(". ")[0]
    assert all(-1.0 <= score <= 1.0 for score in meaning.values())
