"""The Chroma index (retrieval/index/store.py) and hybrid search over it: a real Chroma in
tmp_path."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from retrieval.errors import IndexNotFoundError, IngestBusyError
from retrieval.index.chroma import open_client, passage_key
from retrieval.index.lease import Lease
from retrieval.index.store import IndexStore
from retrieval.search.retriever import Retriever
from retrieval.types import ArticleRecord, Passage
from tests.conftest import SEED
from tests.retrieval.fakes import MemoryStore, dated, passage

pytestmark = pytest.mark.integration


def record_of(p: Passage, chunks: int = 1) -> ArticleRecord:
    return ArticleRecord(
        article_id=p.article_id,
        version=passage_key(p.id).rsplit(":", 1)[1],
        title=p.title,
        source=p.source,
        published_at=p.published_at,
        url=p.url,
        author=p.author,
        attribution=p.attribution,
        content_hash=p.content_hash,
        origin=p.origin,
        chunks=chunks,
    )


def write_generation(store, passages, vectors, summary=None, retire=()):
    """Commit `passages` (one article version each, one chunk) as the next generation."""
    with store.ingest_lock(), store.transaction() as transaction:
        transaction.put([(record_of(p, p.chunk_index + 1), [p]) for p in passages], vectors)
        transaction.retire(retire)
        transaction.commit(summary or {"added": len(passages)})


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
    live = store.committed()
    count = store.count()
    articles = store.live_articles()
    seed = articles[0]
    retriever = Retriever(store, embedder)
    before = [h.passage for h in retriever.search("Who is invited to Moscow?", 3)]
    extra = passage("Invited to Moscow: a new delegation from Kabul.", "extra")
    with store.ingest_lock(), store.transaction() as transaction:
        transaction.put([(record_of(extra), [extra])], embedder.encode([extra.text]))
        transaction.retire([seed])
        # Written but not committed: readers still see the complete previous state.
        assert store.committed() == live
        assert store.count() == count
        assert [a.key for a in store.live_articles()] == [a.key for a in articles]
        assert [h.passage for h in retriever.search("Who is invited to Moscow?", 3)] == before
        # no commit: leaving the block abandons it, as a killed run would
    assert store.committed() == live
    assert [a.key for a in store.live_articles()] == [a.key for a in articles]
    # The next run removes what the abandoned one wrote, and un-retires what it retired.
    with store.ingest_lock(), store.transaction():
        pass
    assert store.passages_collection().get(ids=[extra.id])["ids"] == []
    assert store.articles_collection().get(ids=[seed.key])["metadatas"][0]["removed"] == 0
    assert store.passages_collection().count() == count


def test_a_commit_is_applied_by_readers_from_what_changed(store, fake_embedder):
    vectors = fake_embedder.encode([p.text for p in TALKS])
    write_generation(store, TALKS, vectors)
    retriever = Retriever(store, fake_embedder)
    assert retriever.search("Doha negotiators", 1)[0].passage.article_id == "doha"
    first = store.committed()
    # The Doha article changes (a new version) and the Kunduz one goes.
    doha = next(a for a in store.live_articles() if a.article_id == "doha")
    kunduz = next(a for a in store.live_articles() if a.article_id == "kunduz")
    new_doha = replace(
        TALKS[1], id="doha:v2:0", text="Negotiators left Doha on Sunday.", content_hash="h2"
    )
    write_generation(
        store, [new_doha], fake_embedder.encode([new_doha.text]), retire=[doha, kunduz]
    )
    changes = store.article_changes(first, store.committed())
    assert sorted(a.key for a in changes) == ["doha:v1", "doha:v2", "kunduz:v1"]
    # Up to a generation only: what later commits added or retired is left out.
    earlier = store.article_changes(first - 1, first)
    assert sorted(a.key for a in earlier) == ["doha:v1", "kunduz:v1", "moscow:v1"]
    assert all(a.removed == 2 for a in earlier if a.article_id != "moscow")
    hits = retriever.search("Doha negotiators", 3)
    assert [h.passage.id for h in hits if h.passage.article_id == "doha"] == ["doha:v2:0"]
    assert all(h.passage.article_id != "kunduz" for h in hits)
    assert sorted(retriever.catalog().articles) == ["doha", "moscow"]
    # The retired versions' passages stay for in-flight readers until a later run collects them.
    assert store.passages_collection().get(ids=["doha:v1:0"])["ids"] == ["doha:v1:0"]
    write_generation(store, [], np.zeros((0, fake_embedder.dimension), np.float32))
    assert store.passages_collection().get(ids=["doha:v1:0"])["ids"] == ["doha:v1:0"]
    write_generation(store, [], np.zeros((0, fake_embedder.dimension), np.float32))
    assert store.passages_collection().get(ids=["doha:v1:0", "kunduz:v1:2"])["ids"] == []


def test_passages_and_vectors_come_back_as_written(store, fake_embedder):
    assert not store.exists()
    with pytest.raises(IndexNotFoundError, match="newsbot ingest"):
        store.passages()
    vectors = fake_embedder.encode([p.text for p in TALKS])
    write_generation(store, TALKS, vectors, {"added": 3})

    assert sorted(store.passages(), key=lambda p: p.id) == sorted(TALKS, key=lambda p: p.id)
    rows = store.fetch([p.id for p in TALKS], vectors=True)
    for p, vector in zip(TALKS, vectors, strict=True):
        assert np.allclose(rows[p.id].vector, vector, atol=1e-6)
    assert store.last_ingest() == {"added": 3}
    assert store.article_states()["doha"] == ("hash-doha", "memory")
    assert set(store.vectors_for([TALKS[0].text_hash, "unknown"])) == {TALKS[0].text_hash}


def test_nearest_ids_are_ids_and_cosine_similarities(store, fake_embedder):
    vectors = fake_embedder.encode([p.text for p in TALKS])
    write_generation(store, TALKS, vectors)
    found = store.nearest(vectors[1], 2)
    assert found[0][0] == "doha:v1:0"
    assert found[0][1] == pytest.approx(1.0, abs=1e-5)
    assert len(found) == 2


def test_one_ingest_at_a_time(store):
    with store.ingest_lock(), pytest.raises(IngestBusyError), store.ingest_lock():
        pass


def test_a_shared_store_has_one_ingester_and_a_dead_holder_loses_the_lease(tmp_path):
    client = open_client(tmp_path / "data")

    def shared(lock_dir):  # two processes on two machines: two data directories
        return IndexStore(
            client,
            "newsbot-lease-test",
            lock_dir=lock_dir,
            location="x",
            shared=True,
            lease_seconds=1.0,
        )

    first, second = shared(tmp_path / "a"), shared(tmp_path / "b")
    with first.ingest_lock(), pytest.raises(IngestBusyError, match="lease"), second.ingest_lock():
        pass
    with second.ingest_lock():  # released: free at once
        pass
    # A holder killed mid-run never releases: its lease runs out.
    dead = Lease(first._collection("lease"), 1.0)
    dead.acquire(settle=0.1)
    dead._stop.set()  # its renewer dies with it
    with pytest.raises(IngestBusyError):
        Lease(second._collection("lease"), 1.0).acquire(settle=0.1)
    time.sleep(1.2)
    taker = Lease(second._collection("lease"), 1.0)
    taker.acquire(settle=0.1)
    taker.release()


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


OTHER_WRITER = """
import json, sys
import numpy as np
from pathlib import Path
from retrieval.index.chroma import open_client
from retrieval.index.store import IndexStore
from tests.retrieval.fakes import passage
from tests.retrieval.test_store_integration import write_generation
data, name, text, article, vector = json.loads(sys.argv[1])
store = IndexStore(open_client(Path(data)), name, lock_dir=Path(data), location=data)
write_generation(store, [passage(text, article)], np.asarray([vector], dtype=np.float32))
"""


def reopening_reader(data, name: str) -> IndexStore:
    """An embedded store as a long-lived reader opens it: reopened after foreign commits."""
    return IndexStore(
        open_client(data),
        name,
        lock_dir=data,
        location=str(data),
        reopen=partial(open_client, data, fresh=True),
    )


def commit_from_another_process(data, name: str, text: str, article: str, vector) -> None:
    """Another process (a separate ingest) commits one passage as the next generation."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            OTHER_WRITER,
            json.dumps([str(data), name, text, article, vector.tolist()]),
        ],
        check=True,
        cwd=Path(__file__).parents[2],
    )


def test_an_embedded_reader_sees_vectors_another_process_committed(tmp_path, fake_embedder):
    """Embedded Chroma loads a collection's vectors into each process once: a long-lived
    reader must reopen the store when another process commits, or the new passages are
    missing from its searches and fetching their vectors fails ("Error finding id")."""
    data = tmp_path / "data"
    name = "newsbot-test-reopen"
    reader = reopening_reader(data, name)
    vectors = fake_embedder.encode([p.text for p in TALKS])
    write_generation(reader, TALKS, vectors)  # the reader's process holds the vectors now
    retriever = Retriever(reader, fake_embedder)
    assert retriever.search("Doha negotiators", 1)[0].passage.article_id == "doha"
    for round_, (text, article) in enumerate(
        [
            ("Monitors counted the trucks crossing at Torkham.", "torkham"),
            ("Envoys drafted the truce text in Tashkent.", "tashkent"),
        ]
    ):
        vector = fake_embedder.encode([text])[0]
        commit_from_another_process(data, name, text, article, vector)
        assert reader.committed(fresh=True) == 2 + round_
        new_id = f"{article}:v1:0"
        assert reader.nearest(vector, 1)[0][0] == new_id
        assert np.allclose(reader.fetch([new_id], vectors=True)[new_id].vector, vector, atol=1e-6)
        hits = retriever.search(text, 1)
        assert hits[0].passage.id == new_id
        assert hits[0].similarity == pytest.approx(1.0, abs=1e-4)
    # The reader's own commits need no reopening, and it writes on the fresh state.
    mine = passage("Talks resumed in Geneva.", "geneva")
    write_generation(reader, [mine], fake_embedder.encode([mine.text]))
    assert reader.nearest(fake_embedder.encode([mine.text])[0], 1)[0][0] == "geneva:v1:0"
    assert {a.article_id for a in reader.live_articles()} == {
        "moscow",
        "doha",
        "kunduz",
        "torkham",
        "tashkent",
        "geneva",
    }


def test_a_reader_keeping_up_applies_another_process_commit_before_a_question(
    tmp_path, fake_embedder
):
    """`Retriever.keep_up` (the bot, `ask -`): between questions the reader reopens the
    store, applies the commit's articles and loads the new vectors, so the first question
    after the commit pays none of it."""
    data = tmp_path / "data"
    name = "newsbot-test-keep-up"
    reader = reopening_reader(data, name)
    write_generation(reader, TALKS, fake_embedder.encode([p.text for p in TALKS]))
    retriever = Retriever(reader, fake_embedder)
    assert retriever.search("Doha negotiators", 1)[0].passage.article_id == "doha"
    first_client = reader.client
    stop = retriever.keep_up(every=0.05)
    try:
        text, article = "Monitors counted the trucks crossing at Torkham.", "torkham"
        vector = fake_embedder.encode([text])[0]
        commit_from_another_process(data, name, text, article, vector)
        deadline = time.monotonic() + 60  # a wait for the background thread, not a measure
        while retriever._catalog.generation != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        # Applied with no question asked: reopened, the new article known.
        assert retriever._catalog.generation == 2
        assert reader.client is not first_client
        assert "torkham" in retriever._catalog.articles
        hits = retriever.search(text, 1)
        assert hits[0].passage.id == f"{article}:v1:0"
        assert hits[0].similarity == pytest.approx(1.0, abs=1e-4)
    finally:
        stop.set()


class _GoneClient:
    """A Chroma client whose server went away: every call fails as HttpClient's do."""

    def __getattr__(self, name):
        raise ConnectionError("connection refused")


def test_status_reaches_the_store_even_right_after_a_reader_looked(
    store, embedder, monkeypatch, tmp_path
):
    """A health check reads the commit record afresh: a reader keeping up (the bot's
    background thread) may have read it a moment before the store went away, and the
    articles come from the local copy, so nothing else would reach the store."""
    from retrieval.errors import StoreUnavailableError
    from retrieval.index import store as store_module
    from retrieval.index.article_cache import ArticleCache
    from retrieval.index.status import index_status

    store.article_cache = ArticleCache(tmp_path / "articles.sqlite")
    write_generation(store, TALKS, embedder.encode([p.text for p in TALKS]))
    monkeypatch.setattr(store_module, "COMMIT_READ_REUSE", 3600.0)
    assert store.committed() == 1  # the reader's look, kept for reuse
    assert index_status(store, "test-model").articles == 3
    store.client = _GoneClient()
    store._collections.clear()
    assert store.committed() == 1  # a reader may reuse its recent look
    with pytest.raises(StoreUnavailableError):
        index_status(store, "test-model")
