"""With an LLM: the prompt asks for disputed facts side by side and the latest state first,
the citation check keeps both versions' citations, and what the model leaves out is added
(a real LangChain client against the loopback OpenAI-compatible server)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from retrieval.answer.llm import LLMComposer, build_chat_model
from retrieval.answer.presenting import present
from retrieval.search.query import parse_query
from retrieval.types import SearchHit
from tests.retrieval.fakes import passage
from tests.retrieval.openai_server import OpenAIServer, Reply
from tests.retrieval.test_llm import no_openai_environ  # noqa: F401 - autouse: no key leaks

pytestmark = pytest.mark.integration
DELTA = "A total of 34 observers will monitor the ceasefire from a base in Amaro."
HARBOR = "Only 28 observers will monitor the ceasefire in the Serra Valley, a document shows."
QUESTION = "How many observers will monitor the ceasefire?"
HITS = [
    SearchHit(passage(DELTA, "d", source="Delta Times", published_at="2026-03-07T09:00:00Z"), 1.0),
    SearchHit(
        passage(HARBOR, "h", source="Harbor Gazette", published_at="2026-03-08T07:30:00Z"), 0.9
    ),
]
QUERY = parse_query(QUESTION, outlets={}, now=datetime(2026, 3, 25, tzinfo=UTC))


@pytest.fixture
def server():
    with OpenAIServer() as running:
        yield running


def composer(server: OpenAIServer) -> LLMComposer:
    model = build_chat_model(
        "openai:whatever", base_url=server.base_url, api_key="test", timeout=5, max_retries=0
    )
    return LLMComposer(model)


def test_the_prompt_asks_for_both_versions_and_the_latest_first(server):
    server.script(Reply("34 observers will monitor it [1]."))
    composer(server).compose(QUESTION, HITS, [])
    system = server.requests[0].body["messages"][0]["content"]
    assert "reports differ" in system
    assert "34 observers according to Delta Times [2]; 28 according to" in system
    assert "lead with the latest, giving its date" in system


def test_a_side_by_side_answer_keeps_both_citations_and_is_not_repeated(server):
    server.script(
        Reply(
            "Reports differ: 34 observers according to Delta Times [1]; 28 according to "
            "the Harbor Gazette [2]."
        )
    )
    written = composer(server).compose(QUESTION, HITS, [])
    assert written is not None
    assert [c.source for c in written.citations] == ["Delta Times", "Harbor Gazette"]
    shown = present(written, HITS, QUERY, index_updated=None)
    assert shown.text == written.text
    assert shown.text.count("Reports differ") == 1


def test_a_version_the_model_left_out_is_added_with_its_citation(server):
    server.script(Reply("34 observers will monitor the ceasefire [1]."))
    written = composer(server).compose(QUESTION, HITS, [])
    assert written is not None
    assert [c.source for c in written.citations] == ["Delta Times"]
    shown = present(written, HITS, QUERY, index_updated=None)
    assert shown.text == (
        "34 observers will monitor the ceasefire [1]. Reports differ: 34 observers according "
        "to Delta Times [1]; 28 according to Harbor Gazette [2]."
    )
    assert [(c.n, c.source, c.quote) for c in shown.citations] == [
        (1, "Delta Times", DELTA),
        (2, "Harbor Gazette", HARBOR),
    ]
