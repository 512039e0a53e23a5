"""The LLM answerer: pure checks of prompt and citations, then real HTTP through LangChain."""

from __future__ import annotations

import logging
import re
import time

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from retrieval.answer.llm import (
    CANNOT_ANSWER_PHRASE,
    LLMComposer,
    LLMConfigError,
    answer_sentences,
    best_quote,
    build_chat_model,
    build_messages,
    enforce_citations,
    passage_sentences,
)
from retrieval.types import Passage, SearchHit
from tests.retrieval.openai_server import OpenAIServer, Reply

MOSCOW = (
    "Russia plans to host a conference on Afghanistan in Moscow on March 18. "
    "The United States, China, Pakistan and Qatar have been invited. "
    "An Afghan government delegation and Taliban representatives will also attend."
)
KABULOV = (
    "Zamir Kabulov, the Kremlin's envoy for Afghanistan, said the talks would be informal. "
    "He spoke to the TASS news agency on March 9."
)
WEATHER = "Heavy snow closed the Salang pass on Sunday. Traffic resumed on Monday."


def make_passage(n: int, text: str, **extra) -> Passage:
    fields = {
        "id": f"p{n}",
        "text": text,
        "article_id": f"a{n}",
        "title": f"Story {n}",
        "source": f"Outlet {n}",
        "published_at": "2021-03-10T08:00:00+00:00",
        "url": f"https://example.org/{n}",
        "author": None,
        "chunk_index": 0,
        "start": 0,
        "end": len(text),
        "content_hash": "c",
        "text_hash": "t",
        "origin": "test",
    }
    fields.update(extra)
    return Passage(**fields)


PASSAGES = [make_passage(1, MOSCOW), make_passage(2, KABULOV), make_passage(3, WEATHER)]


@pytest.fixture(autouse=True)
def no_openai_environ(monkeypatch):
    """No developer key, base URL, proxy or gateway may leak into these tests."""
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_API_BASE",
        "OPENAI_ORG_ID",
        "OPENAI_PROXY",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "LANGSMITH_API_KEY",
        "LANGSMITH_GATEWAY_API_KEY",
        "LANGSMITH_TRACING",
        "LANGCHAIN_TRACING_V2",
        "LANGCHAIN_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


# --- build_messages ----------------------------------------------------------------------


def test_messages_number_the_passages_with_title_outlet_and_date():
    messages = build_messages("Who is invited to Moscow?", PASSAGES[:2], [])
    assert isinstance(messages[0], SystemMessage)
    assert CANNOT_ANSWER_PHRASE in messages[0].text
    assert "[n]" in messages[-1].text or "[1]" in messages[0].text
    prompt = messages[-1].text
    assert isinstance(messages[-1], HumanMessage)
    assert "[1] Story 1 — Outlet 1, 2021-03-10\n" + MOSCOW in prompt
    assert "[2] Story 2 — Outlet 2, 2021-03-10\n" + KABULOV in prompt
    assert "[3]" not in prompt
    assert prompt.rstrip().endswith("with a [n] marker after every sentence.")
    assert "Question: Who is invited to Moscow?" in prompt


def test_messages_say_undated_when_a_passage_has_no_date():
    prompt = build_messages("q", [make_passage(1, "Text.", published_at=None)], [])[-1].text
    assert "[1] Story 1 — Outlet 1, undated" in prompt


def test_messages_carry_the_turns_they_are_given_without_their_old_markers():
    # How many turns is the answerer's choice (NEWSBOT_HISTORY_TURNS); the prompt takes all.
    history = [(f"question {i}", f"answer {i} [1].") for i in range(5)]
    messages = build_messages("And when is it?", PASSAGES, history)
    turns = messages[1:-1]
    assert [type(m) for m in turns] == [HumanMessage, AIMessage] * 5
    assert [m.text for m in turns[::2]] == [f"question {i}" for i in range(5)]
    assert turns[1].text == "answer 0."
    assert "And when is it?" in messages[-1].text


# --- answer_sentences / enforce_citations ------------------------------------------------


def test_markers_after_the_full_stop_stay_with_their_sentence():
    text = "Mr. Kabulov spoke to TASS. [2] The U.S. is invited [1]. It is on March 18 [1]."
    assert answer_sentences(text) == [
        "Mr. Kabulov spoke to TASS. [2]",
        "The U.S. is invited [1].",
        "It is on March 18 [1].",
    ]


def test_valid_citations_are_kept_and_renumbered_by_first_use():
    text, used = enforce_citations("Kabulov spoke [2]. The US is invited [1][2].", PASSAGES)
    assert text == "Kabulov spoke [1]. The US is invited [2][1]."
    assert used == [1, 0]


def test_markers_naming_no_passage_are_removed():
    text, used = enforce_citations("China is invited [1][7]. Qatar too [0, 1].", PASSAGES)
    assert text == "China is invited [1]. Qatar too [1]."
    assert used == [0]


def test_a_sentence_left_without_a_valid_citation_is_dropped():
    text, used = enforce_citations(
        "India is invited [9]. Pakistan is invited [1]. Everyone agrees. Snow fell [3].",
        PASSAGES,
    )
    assert text == "Pakistan is invited [1]. Snow fell [2]."
    assert used == [0, 2]


def test_a_dropped_sentence_does_not_take_a_number():
    text, used = enforce_citations("[2] Qatar is invited [1].", PASSAGES)
    assert (text, used) == ("[1] Qatar is invited [2].", [1, 0])
    text, used = enforce_citations("Unsupported. Qatar is invited [1].", PASSAGES)
    assert (text, used) == ("Qatar is invited [1].", [0])


def test_comma_lists_and_ranges_are_understood():
    text, used = enforce_citations("All three agree [1, 3]. So do these [1-2].", PASSAGES)
    assert text == "All three agree [1][2]. So do these [1][3]."
    assert used == [0, 2, 1]


def test_lists_keep_their_lines():
    reply = "Invited:\n- the United States [1]\n- Qatar [1]\n- India [5]"
    text, used = enforce_citations(reply, PASSAGES)
    assert text == "- the United States [1]\n- Qatar [1]"
    assert used == [0]


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "   ",
        CANNOT_ANSWER_PHRASE,
        CANNOT_ANSWER_PHRASE.lower().rstrip("."),
        f"{CANNOT_ANSWER_PHRASE} [1]",
        "The answer is 42.",
        "India is invited [4].",
        "[1][2]",
    ],
)
def test_nothing_supported_gives_an_empty_answer(reply):
    assert enforce_citations(reply, PASSAGES) == ("", [])


def test_the_cannot_answer_sentence_is_dropped_from_a_partial_answer():
    text, _ = enforce_citations(f"Qatar is invited [1]. {CANNOT_ANSWER_PHRASE}", PASSAGES)
    assert text == "Qatar is invited [1]."


# --- quotes ------------------------------------------------------------------------------


def test_passage_sentences_are_verbatim():
    text = 'He said "no." Then U.S. officials left. Mr. Smith stayed!\nA new line'
    sentences = passage_sentences(text)
    assert sentences == [
        'He said "no."',
        "Then U.S. officials left.",
        "Mr. Smith stayed!",
        "A new line",
    ]
    assert all(s in text for s in sentences)


def test_the_quote_is_the_sentence_that_best_supports_the_claim():
    assert best_quote(MOSCOW, ["Qatar and China are invited [1]."]) == (
        "The United States, China, Pakistan and Qatar have been invited."
    )
    assert best_quote(MOSCOW, ["Taliban representatives attend [1]."]).startswith("An Afghan")
    assert best_quote(MOSCOW, []) == MOSCOW.split(". ")[0] + "."


# --- the composer over real HTTP ---------------------------------------------------------


@pytest.fixture
def server():
    with OpenAIServer() as running:
        yield running


def composer_for(
    server: OpenAIServer, *, timeout: float = 5.0, retries: int = 0, api_key: str | None = "test"
) -> LLMComposer:
    model = build_chat_model(
        "openai:whatever",
        base_url=server.base_url,
        api_key=api_key,
        timeout=timeout,
        max_retries=retries,
    )
    return LLMComposer(model)


HITS = [SearchHit(passage=p, score=1.0 - i / 10, rank=i + 1) for i, p in enumerate(PASSAGES)]


@pytest.mark.integration
def test_an_answer_with_verified_citations_and_verbatim_quotes(server):
    server.script(
        Reply(
            "Kabulov said the talks would be informal [2]. "
            "The United States, China, Pakistan and Qatar are invited [1]. "
            "India is invited too [4]."
        )
    )
    answer = composer_for(server).compose("Who is invited to Moscow?", HITS, [])
    assert answer is not None
    assert answer.answered
    assert answer.text == (
        "Kabulov said the talks would be informal [1]. "
        "The United States, China, Pakistan and Qatar are invited [2]."
    )
    first, second = answer.citations
    assert (first.n, first.article_id, first.source) == (1, "a2", "Outlet 2")
    assert first.quote == (
        "Zamir Kabulov, the Kremlin's envoy for Afghanistan, said the talks would be informal."
    )
    assert (second.n, second.title, second.url) == (2, "Story 1", "https://example.org/1")
    assert second.quote == "The United States, China, Pakistan and Qatar have been invited."
    assert second.published_at == "2021-03-10T08:00:00+00:00"
    for citation in answer.citations:
        assert citation.quote in PASSAGES[int(citation.article_id[1:]) - 1].text

    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.authorization == "Bearer test"
    assert request.body["model"] == "whatever"
    roles = [m["role"] for m in request.body["messages"]]
    assert roles == ["system", "user"]
    assert "[3] Story 3 — Outlet 3, 2021-03-10" in request.body["messages"][-1]["content"]


@pytest.mark.integration
def test_history_reaches_the_model_for_follow_ups(server):
    server.script(Reply("The conference is on March 18 [1]."))
    history = [("Who is invited to Moscow?", "The United States and Qatar are invited [1].")]
    answer = composer_for(server).compose("And when is it?", HITS, history)
    assert answer is not None
    assert answer.text == "The conference is on March 18 [1]."
    messages = server.requests[0].body["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "Who is invited to Moscow?"
    assert messages[2]["content"] == "The United States and Qatar are invited."


@pytest.mark.integration
def test_also_in_outlets_are_credited(server):
    copy = make_passage(9, MOSCOW, source="Copy Outlet", article_id="a9")
    hit = SearchHit(passage=PASSAGES[0], score=1.0, rank=1, also_in=(copy,))
    server.script(Reply("Qatar is invited [1]."))
    answer = composer_for(server).compose("Who is invited?", [hit], [])
    assert answer is not None
    assert answer.citations[0].also_in == ("Copy Outlet",)


@pytest.mark.integration
@pytest.mark.parametrize(
    "content",
    ["India and Iran are invited [4][5].", CANNOT_ANSWER_PHRASE, "", "No idea, sorry."],
)
def test_unsupported_replies_give_none(server, content):
    server.script(Reply(content))
    assert composer_for(server).compose("Who is invited?", HITS, []) is None


@pytest.mark.integration
@pytest.mark.parametrize("status", [500, 429, 401, 400])
def test_provider_errors_give_none_and_are_logged_without_the_key(server, status, caplog):
    server.script(Reply("boom", status=status))
    caplog.set_level(logging.DEBUG)
    composer = composer_for(server, api_key="sk-secret-never-logged")
    assert composer.compose("Who is invited?", HITS, []) is None
    assert server.requests[0].authorization == "Bearer sk-secret-never-logged"
    assert f"HTTP {status}" in caplog.text
    assert "sk-secret" not in caplog.text


@pytest.mark.integration
def test_a_timeout_gives_none_quickly(server, caplog):
    server.script(Reply("Too late [1].", delay=10))
    started = time.perf_counter()
    assert composer_for(server, timeout=0.5).compose("Who is invited?", HITS, []) is None
    assert time.perf_counter() - started < 3
    assert "Timeout" in caplog.text


@pytest.mark.integration
def test_a_transient_error_is_retried_once(server):
    server.script(
        Reply(status=503, headers={"retry-after-ms": "10"}),
        Reply("Qatar is invited [1]."),
    )
    answer = composer_for(server, retries=1).compose("Who is invited?", HITS, [])
    assert answer is not None
    assert answer.text == "Qatar is invited [1]."
    assert len(server.requests) == 2


@pytest.mark.integration
def test_an_unreachable_server_gives_none():
    with OpenAIServer() as gone:
        url = gone.base_url
    model = build_chat_model(
        "openai:whatever", base_url=url, api_key="test", timeout=2, max_retries=0
    )
    assert LLMComposer(model).compose("Who is invited?", HITS, []) is None


def test_no_hits_means_no_call():
    class Exploding:
        def invoke(self, messages):
            raise AssertionError("the model must not be called")

    assert LLMComposer(Exploding()).compose("Who?", [], []) is None  # type: ignore[arg-type]


@pytest.mark.integration
def test_a_local_server_needs_no_key(server):
    model = build_chat_model(
        "openai:whatever", base_url=server.base_url, api_key=None, timeout=5, max_retries=0
    )
    server.script(Reply("Qatar is invited [1]."))
    assert LLMComposer(model).compose("Who is invited?", HITS, []) is not None


@pytest.mark.parametrize(
    ("model", "base_url"), [("nosuch:model", None), ("openai:gpt-4o-mini", None)]
)
def test_a_model_that_cannot_be_built_is_a_clear_error(model, base_url):
    api_key = None if model.startswith("openai") else "sk-secret-never-shown"
    with pytest.raises(LLMConfigError, match="cannot set up the LLM") as caught:
        build_chat_model(model, base_url=base_url, api_key=api_key, timeout=5)
    assert "\n" not in str(caught.value)
    assert "sk-secret" not in str(caught.value)


# --- the extractive ranking reaches the LLM ------------------------------------------------


def test_the_ranked_sentences_are_shown_with_their_markers():
    evidence = [(1, "He spoke to the TASS news agency on March 9."), (7, "not a passage")]
    prompt = build_messages("When did Kabulov speak?", PASSAGES[:2], [], evidence)[-1].text
    assert "one per part of it" in prompt
    assert "- He spoke to the TASS news agency on March 9. [2]" in prompt
    assert "not a passage" not in prompt
    assert "one per part of it" not in build_messages("q", PASSAGES[:2], [])[-1].text


def test_a_ranked_sentence_is_quoted_when_the_claim_rests_on_it():
    claim = ["The Moscow conference on Afghanistan will include Qatar and China [1]."]
    assert best_quote(MOSCOW, claim).startswith("Russia plans")  # most words shared
    ranked = "The United States, China, Pakistan and Qatar have been invited."
    assert best_quote(MOSCOW, claim, [ranked]) == ranked
    # a ranked sentence the claim does not rest on is not forced into the quote
    weather = ["Heavy snow closed the Salang pass [1]."]
    assert best_quote(WEATHER, weather, ["Traffic resumed on Monday."]).startswith("Heavy snow")


GAZETTE = (
    "The harbour reopened on Friday after the storm. "
    "The truce talks opened in Doha on Monday with both delegations present."
)
DELTA = "Officials met in Amaro. The talks in Doha were postponed until April, Delta Times learned."


@pytest.mark.integration
def test_the_evidence_measure_runs_through_the_llm_path(server):
    """`run_eval` over an answerer whose LLM (scripted, over HTTP) paraphrases: the gold facts
    reach the reader through the citations' quotes, which the extractive ranking chose."""
    from retrieval.answer.answerer import NewsAnswerer
    from retrieval.eval.scoring import EvalQuery, Evidence, run_eval
    from retrieval.search.retriever import Retriever
    from tests.retrieval.fakes import HashingEmbedder, MemoryStore, passage

    embedder = HashingEmbedder()
    store = MemoryStore(
        embedder,
        [
            passage(GAZETTE, "g", source="Harbor Gazette"),
            passage(DELTA, "d", source="Delta Times"),
            passage(WEATHER, "w", source="Weather Desk"),
        ],
    )
    answerer = NewsAnswerer(Retriever(store, embedder), composer=composer_for(server))
    question = (
        "Did the Harbor Gazette report that the truce talks opened in Doha before Delta Times "
        "reported that the talks in Doha were postponed?"
    )
    facts = (
        Evidence("Item g", "Harbor Gazette", None, None, GAZETTE.split(". ")[1]),
        Evidence("Item d", "Delta Times", None, None, DELTA.split(". ")[1]),
    )
    server.script(Reply("Yes: the talks opened first [1] and were postponed later [2]."))
    report = run_eval(
        [EvalQuery(0, question, "Yes", "temporal_query", facts)],
        search=lambda q, k: [],
        answer=answerer.answer,
        k=10,
    )
    (request,) = server.requests
    prompt = request.body["messages"][-1]["content"]
    assert f"- {facts[0].fact} [" in prompt
    assert f"- {facts[1].fact} [" in prompt
    assert report.evidence_in_answer == 1.0
    assert report.fact_coverage == 1.0  # both quoted, though the model wrote neither
    assert report.results[0].answer == (
        "Yes: the talks opened first [1] and were postponed later [2]."
    )


SERRA_ANNOUNCED = "Mediators announced the Serra Valley talks and invited three delegations."
SERRA_OPENING = "The Serra Valley talks will open in Port Alva on March 16, the mediators said."
SERRA_DISPLACED = "Shelling displaced thousands of families in the Serra Valley last winter."


@pytest.mark.integration
def test_the_llm_path_makes_the_same_decision_before_and_after_the_model(server):
    """A question of a definite kind: the model is asked only when a sentence holds the
    asked-for fact, and its answer stands only when the sentences it cites hold it."""
    from retrieval.answer.answerer import NewsAnswerer
    from retrieval.search.retriever import Retriever
    from tests.retrieval.fakes import HashingEmbedder, MemoryStore, passage

    embedder = HashingEmbedder()
    store = MemoryStore(
        embedder,
        [
            passage(SERRA_ANNOUNCED, "a", source="Harbor Gazette"),
            passage(SERRA_OPENING, "o", source="Delta Times"),
            passage(SERRA_DISPLACED, "d", source="Coastal Herald"),
        ],
    )
    answerer = NewsAnswerer(Retriever(store, embedder), composer=composer_for(server))
    question = "When do the Serra Valley talks start?"

    def number_of(text: str) -> str:  # the passage's number in the last prompt
        prompt = server.requests[-1].body["messages"][-1]["content"]
        found = re.search(r"\[(\d+)\] [^\n]*\n" + re.escape(text), prompt)
        assert found is not None
        return found.group(1)

    server.script(Reply(""))  # first, to see the prompt: an empty reply, the extractive answer
    assert answerer.answer(question).text.startswith(SERRA_OPENING)
    server.script(Reply(f"They open in Port Alva on March 16 [{number_of(SERRA_OPENING)}]."))
    kept = answerer.answer(question)
    assert kept.answered
    assert kept.text == "They open in Port Alva on March 16 [1]."
    assert SERRA_OPENING in kept.citations[0].quote

    # the model cites only the announcement, which holds no date: the decline replaces it
    server.script(Reply(f"Mediators announced the talks [{number_of(SERRA_ANNOUNCED)}]."))
    replaced = answerer.answer(question)
    assert not replaced.answered
    assert replaced.text.startswith("The news I have doesn't say when the serra valley talks")

    # nothing holds the asked-for count: the model is not asked at all
    asked_before = len(server.requests)
    declined = answerer.answer("How many died in the Serra Valley?")
    assert not declined.answered
    assert len(server.requests) == asked_before
