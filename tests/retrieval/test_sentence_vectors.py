"""Sentence vectors pooled from a passage's word-piece vectors, packed with the passage (pure)."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.sentence_vectors import pack, pool_spans, similarities, unpack


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_a_sentence_vector_is_the_mean_of_its_own_word_pieces():
    tokens = np.array([[9, 9], [1, 0], [1, 0], [0, 1], [9, 9]], dtype=np.float32)
    offsets = [(0, 0), (0, 5), (6, 10), (11, 15), (0, 0)]  # [CLS] a b | c [SEP]
    pooled = pool_spans(tokens, offsets, [(0, 10), (11, 15)])
    assert pooled[0] == pytest.approx(unit(1, 0))  # special tokens (0, 0) never count
    assert pooled[1] == pytest.approx(unit(0, 1))


def test_a_sentence_cut_off_by_the_window_has_no_vector():
    tokens = np.ones((2, 3), dtype=np.float32)
    pooled = pool_spans(tokens, [(0, 0), (0, 4)], [(0, 4), (5, 20)])
    assert np.linalg.norm(pooled[0]) == pytest.approx(1.0)
    assert not pooled[1].any()


def test_packed_vectors_keep_their_spans_and_cosines():
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    spans = [(0, 40), (41, 90), (91, 150)]
    packed = pack(spans, vectors)
    assert isinstance(packed, str)
    assert len(packed) < 3 * 384 * 2  # int8, base64: ~1.3 characters a dimension
    got_spans, got = unpack(packed)
    assert got_spans == spans
    query = vectors[1]
    assert got @ query == pytest.approx(vectors @ query, abs=0.02)
    assert similarities(packed, query) == pytest.approx(
        {0: float(vectors[0] @ query), 41: 1.0, 91: float(vectors[2] @ query)}, abs=0.02
    )


def test_nothing_or_garbage_packed_gives_no_similarities():
    query = unit(1, 0)
    assert similarities(None, query) == {}
    assert similarities("", query) == {}
    assert similarities("0:4|%%%not-base64", query) == {}
    assert unpack("nonsense")[0] == []
    # vectors of another model (another dimension) are ignored, not misread
    assert similarities(pack([(0, 3)], unit(1, 0, 0)[None, :]), query) == {}
    with pytest.raises(ValueError, match="one vector per span"):
        pack([(0, 1)], np.zeros((2, 2), dtype=np.float32))
