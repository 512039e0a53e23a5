"""The Chroma index (retrieval/store.py) and hybrid search over it: a real Chroma in tmp_path."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.errors import IndexNotFoundError, IngestBusyError
from retrieval.hybrid import Retriever
from tests.conftest import SEED
from tests.retrieval.fakes import MemoryStore, dated, passage

pytestmark = pytest.mark.integration


def write_generation(store, passages, vectors, summary=None):
    with store.ingest_lock(), store.building() as generation:
        generation.add(passages, vectors)
        generation.commit(summary or {"added": len(passages)})


TALKS = [
    dated(passage("Zakharova said China and Pakistan are invited to Moscow.", "moscow"), None),
    passage("Negotiators met again in Doha on Friday.", "doha", source="Peace Wire"),
    dated(passage("Ceasefire observers arrived in Kunduz.", "kunduz", 2), "2021-03-15"),
]


def test_hybrid_search_finds_exact_names(ingest, store, embedder, news_dir):
    ingest(news_dir)
    hits = Retriever(store, embedder).search("What did Kabulov say?", 3)
    assert "Kabulov" in hits[0].passage.text
    assert hits[0].passage.title == "Russia Plans Afghan Conference To Advance Peace Talks"
    assert hits[0].similarity > 0.2
    zakharova = Retriever(store, embedder).search("Zakharova", 1)[0].passage
    assert "Zakharova" in zakharova.text
    assert zakharova.text in SEED.read_text()  # the passage as indexed, verbatim


def test_readers_keep_the_previous_generation_until_commit(ingest, store, embedder, news_dir):
    ingest(news_dir)
    live = store.current_generation()
    count = store.count()
    with store.ingest_lock(), store.building() as generation:
        generation.copy_current(lambda article_id: False)  # a next generation without articles
        assert store.current_generation() == live  # readers still see the complete index
        assert store.count() == count
        # no commit: leaving the block abandons it
    assert store.current_generation() == live
    assert store.count() == count


def test_passages_and_vectors_come_back_as_written(store, fake_embedder):
    assert not store.exists()
    with pytest.raises(IndexNotFoundError, match="newsbot ingest"):
        store.passages()
    vectors = fake_embedder.encode([p.text for p in TALKS])
    write_generation(store, TALKS, vectors, {"added": 3})

    assert sorted(store.passages(), key=lambda p: p.id) == sorted(TALKS, key=lambda p: p.id)
    ids, stored = store.vectors()
    by_id = dict(zip(ids, stored, strict=True))
    for p, vector in zip(TALKS, vectors, strict=True):
        assert np.allclose(by_id[p.id], vector, atol=1e-6)
    assert store.last_ingest() == {"added": 3}
    assert store.article_states()["doha"] == ("hash-doha", "memory")
    assert set(store.vectors_for([TALKS[0].text_hash, "unknown"])) == {TALKS[0].text_hash}


def test_nearest_ids_are_ids_and_cosine_similarities(store, fake_embedder):
    vectors = fake_embedder.encode([p.text for p in TALKS])
    write_generation(store, TALKS, vectors)
    found = store.nearest_ids(vectors[1], 2)
    assert found[0][0] == "doha:0"
    assert found[0][1] == pytest.approx(1.0, abs=1e-5)
    assert len(found) == 2


def test_one_ingest_at_a_time(store):
    with store.ingest_lock(), pytest.raises(IngestBusyError), store.ingest_lock():
        pass


def test_a_new_build_drops_old_generations_but_keeps_the_previous(store, fake_embedder):
    vectors = fake_embedder.encode([p.text for p in TALKS])
    made = []
    for n in (3, 1, 2):
        write_generation(store, TALKS[:n], vectors[:n])
        made.append(store.current_generation())
    assert len(set(made)) == 3
    assert store.count() == 2
    with store.ingest_lock(), store.building() as generation:
        # In-flight readers of the previous generation keep it; older ones go.
        assert set(store._generations()) == {made[1], made[2]}
        generation.add(TALKS[:1], vectors[:1])
        assert len(store._generations()) == 3
    # Not committed: the half-built generation is gone, the live one untouched.
    assert set(store._generations()) == {made[1], made[2]}
    assert store.current_generation() == made[2]


def test_the_memory_store_answers_as_chroma_does(store, fake_embedder):
    """The fake of the fast tier against the real store: the same searches, the same hits."""
    passages = [
        *TALKS,
        passage("Kabulov said the Moscow conference would give the talks an impetus.", "k"),
        passage("Talks in Doha stalled over a ceasefire.", "stalled", source="Peace Wire"),
    ]
    vectors = fake_embedder.encode([f"{p.title}\n{p.text}" for p in passages])
    write_generation(store, passages, vectors)
    memory = MemoryStore(fake_embedder, passages)
    for query in (
        "Who is invited to Moscow?",
        "What did the Peace Wire say about Doha?",
        "Ceasefire news since 2021-03-12",
    ):
        real = Retriever(store, fake_embedder).search(query, 5)
        fake = Retriever(memory, fake_embedder).search(query, 5)
        assert [(h.passage, h.also_in) for h in real] == [(h.passage, h.also_in) for h in fake]
        assert [h.score for h in real] == pytest.approx([h.score for h in fake])
        assert [h.similarity for h in real] == pytest.approx([h.similarity for h in fake], abs=1e-5)
