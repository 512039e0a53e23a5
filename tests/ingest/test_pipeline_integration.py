"""The ingest pipeline end to end, in-process: the real model and a real Chroma in tmp_path."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.conftest import SEED

pytestmark = pytest.mark.integration


def test_first_ingest_then_rerun_embeds_nothing(ingest, store, news_dir):
    first = ingest(news_dir)
    assert (first.added, first.failed) == (2, [])
    assert first.embedded > 0
    assert list(first.stages) == [
        "reading",
        "model",
        "chunking",
        "embedding",
        "stories",
        "indexing",
    ]
    assert 0 < sum(first.stages.values()) <= first.seconds
    assert first.stages["embedding"] > first.stages["chunking"]
    generation = store.committed()

    again = ingest(news_dir)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 2, 0)
    assert again.embedded == 0
    assert list(again.stages) == ["reading"]  # nothing to chunk, embed or index
    assert store.committed() == generation  # nothing to swap
    assert store.last_ingest()["unchanged"] == 2


def test_changed_article_is_replaced_reusing_unchanged_passages(ingest, store, news_dir):
    ingest(news_dir)
    before = {p.text for p in store.passages()}
    seed = news_dir / "seed.txt"
    seed.write_text(seed.read_text().replace("Ghani has refused", "Ghani has again refused"))

    report = ingest(news_dir)
    assert (report.updated, report.unchanged) == (1, 1)
    assert report.embedded == 1  # only the passage holding the changed sentence
    assert report.reused >= 1
    texts = {p.text for p in store.passages()}
    assert any("Ghani has again refused" in t for t in texts)
    assert not any("Ghani has refused" in t for t in texts)
    assert len(texts) == len(before)


def test_prune_removes_gone_articles_only_from_sources_read_completely(
    ingest, store, news_dir, tmp_path
):
    ingest(news_dir)
    (news_dir / "talks.md").unlink()
    kept = ingest(news_dir)  # without --prune nothing is removed
    assert kept.removed == 0
    pruned = ingest(news_dir, prune=True)
    assert pruned.removed == 1
    assert {p.title for p in store.passages()} == {
        "Russia Plans Afghan Conference To Advance Peace Talks"
    }
    # A source that fails keeps what it had: the directory is gone, not empty.
    shutil.rmtree(news_dir)
    failed = ingest(news_dir, prune=True)
    assert failed.failed
    assert failed.removed == 0
    assert store.count() > 0


def test_one_bad_source_never_stops_the_others(ingest, store, tmp_path):
    bad = tmp_path / "binary.txt"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    report = ingest(tmp_path / "missing.txt", bad, SEED)
    assert report.added == 1
    assert {f.source for f in report.failed} >= {str(tmp_path / "missing.txt")}
    assert len(report.failed) == 2
    assert all(f.reason for f in report.failed)


def test_feeds_never_prune_entries_that_rolled_off(store, embedder):
    from ingest.article import Article
    from ingest.pipeline import read_all
    from ingest.sources import SourceResult, SourceSpec

    feed = SourceSpec(name="wire", kind="feed", location="http://127.0.0.1:9/rss.xml")
    folder = SourceSpec(name="dir", kind="path", location="/news")
    article = Article(id="x", title="t", body="b", origin=feed.origin, source="s")
    outcome = read_all([feed, folder], lambda spec, **_: SourceResult(spec, articles=[article]))
    assert outcome.complete_origins == {folder.origin}


def test_every_passage_gets_the_vector_of_its_own_text(
    ingest, store, embedder, news_dir, monkeypatch
):
    # Tiny encode groups: texts are encoded longest first across groups, so a slip in mapping
    # vectors back to their passages would show here.
    monkeypatch.setattr("ingest.pipeline.ENCODE_GROUP", 2)
    report = ingest(news_dir)
    assert report.embedded > 4  # several groups
    passages = {p.id: p for p in store.passages()}
    ids = sorted(passages)
    rows = store.fetch(ids, vectors=True)
    vectors = np.stack([rows[i].vector for i in ids])
    expected = embedder.encode([f"{passages[i].title}\n{passages[i].text}" for i in ids])
    assert np.allclose(vectors, expected, atol=1e-5)


class Killed(BaseException):
    """A process dying at this point: nothing after it runs, no `except Exception` sees it."""


def kill_at_write(store, n: int, monkeypatch) -> list[str]:
    """Make the `n`-th write an ingest sends to Chroma never return; record the writes."""
    writes: list[str] = []
    real = store._collection

    def collection(suffix, **options):
        target = real(suffix, **options)

        class Dying:
            def __getattr__(self, name):
                attribute = getattr(target, name)
                if name not in ("add", "upsert", "update", "delete", "modify"):
                    return attribute

                def write(*args, **kwargs):
                    writes.append(f"{suffix}.{name}")
                    if len(writes) == n:
                        raise Killed
                    return attribute(*args, **kwargs)

                return write

        return Dying()

    monkeypatch.setattr(store, "_collection", collection)
    return writes


def test_a_run_killed_at_any_write_leaves_the_previous_state_and_the_next_run_repairs(
    ingest, store, embedder, news_dir, tmp_path, monkeypatch
):
    ingest(news_dir)
    # The next run adds an article, changes one and prunes one: every kind of write.
    (news_dir / "new.md").write_text("---\ntitle: Kabul rally\n---\n\nA rally in Kabul.\n")
    talks = news_dir / "talks.md"
    talks.write_text(talks.read_text().replace("next week", "in April"))
    shutil.move(news_dir / "seed.txt", tmp_path / "seed.txt")

    def state():
        return sorted((a.key, a.chunks) for a in store.live_articles()), sorted(
            p.text for p in store.passages()
        )

    before = state()
    with monkeypatch.context() as m:
        writes = kill_at_write(store, 0, m)  # a dry run that only counts the writes
        ingest(news_dir, prune=True)
    after = state()
    assert after != before
    steps = len(writes)
    assert steps >= 5, writes  # clean-up, passages, articles, retirements, commit
    # Back to the earlier state, then a run killed at each write in turn.
    for n in range(1, steps + 1):
        shutil.move(news_dir / "new.md", tmp_path / "new.md")
        shutil.move(tmp_path / "seed.txt", news_dir / "seed.txt")
        talks.write_text(talks.read_text().replace("in April", "next week"))
        ingest(news_dir, prune=True)
        assert state() == before, n
        shutil.move(tmp_path / "new.md", news_dir / "new.md")
        talks.write_text(talks.read_text().replace("next week", "in April"))
        shutil.move(news_dir / "seed.txt", tmp_path / "seed.txt")
        with monkeypatch.context() as m:
            kill_at_write(store, n, m)
            with pytest.raises(Killed):
                ingest(news_dir, prune=True)
        assert state() == before, f"killed at write {n} ({writes[n - 1]})"
        report = ingest(news_dir, prune=True)
        assert (report.added, report.updated, report.removed) == (1, 1, 1), n
        assert report.embedded == 0, n  # every text here was embedded before
        assert state() == after, n


def test_a_feed_read_again_fetches_only_what_it_has_not_indexed(ingest, store, web_server):
    feed = f"{web_server}/feeds/rss.xml"
    first = ingest(feed)
    assert (first.added, first.skipped) == (2, 0)
    again = ingest(feed)
    assert (again.added, again.updated, again.skipped) == (0, 0, 2)  # no page fetched
    assert again.to_dict()["skipped"] == 2
    assert len(store.live_articles()) == 2


def test_a_run_killed_while_redating_article_vectors_is_redone_by_the_next(
    ingest, store, news_dir, monkeypatch
):
    """The write step for an index whose article vectors carry their date as `published_ts`
    only (before ARTICLE_TS): killed there, the previous state serves, the flag stays unset,
    and the next run redates them all and commits."""
    from retrieval.index.chroma import ARTICLE_TS

    ingest(news_dir)
    vectors = store.article_vectors_collection()
    got = vectors.get(include=["metadatas", "embeddings"])
    vectors.delete(ids=got["ids"])
    vectors.upsert(
        ids=got["ids"],
        embeddings=got["embeddings"],
        metadatas=[
            {"article_id": m["article_id"], "published_ts": m[ARTICLE_TS]}
            for m in got["metadatas"]
            if ARTICLE_TS in m
        ]
        + [{"article_id": m["article_id"]} for m in got["metadatas"] if ARTICLE_TS not in m],
    )
    meta = store.commit_metadata(fresh=True)
    meta[ARTICLE_TS] = 0
    store._commits().modify(metadata=meta)
    before = sorted(a.key for a in store.live_articles())
    generation = store.committed(fresh=True)
    (news_dir / "new.md").write_text("---\ntitle: Kabul rally\n---\n\nA rally in Kabul.\n")

    real = store._collection

    def collection(suffix, **options):
        target = real(suffix, **options)
        if suffix != "artvecs":
            return target

        class Dying:
            def __getattr__(self, name):
                if name == "update":
                    raise Killed
                return getattr(target, name)

        return Dying()

    with monkeypatch.context() as m:
        m.setattr(store, "_collection", collection)
        with pytest.raises(Killed):
            ingest(news_dir)
    assert store.committed(fresh=True) == generation
    assert sorted(a.key for a in store.live_articles()) == before
    assert not store.commit_metadata(fresh=True)[ARTICLE_TS]
    report = ingest(news_dir)
    assert report.added == 1
    assert store.commit_metadata(fresh=True)[ARTICLE_TS] == 1
    dated = [m for m in vectors.get(include=["metadatas"])["metadatas"] if "published_ts" in m]
    assert dated
    assert all(ARTICLE_TS in m for m in dated)


def test_each_article_keeps_the_language_it_is_written_in(ingest, store, tmp_path):
    news = tmp_path / "langs"
    news.mkdir()
    (news / "ru.md").write_text(
        "# Переговоры о прекращении огня возобновились в Женеве\n\n"
        "Делегации обеих сторон заявили во вторник, что готовы обсуждать обмен пленными и "
        "гуманитарные коридоры. Следующий раунд переговоров пройдёт в марте.\n"
    )
    (news / "en.md").write_text(
        "# Ceasefire talks resume in Geneva\n\n"
        "Delegations from both sides said on Tuesday they were ready to discuss a prisoner "
        "swap and humanitarian corridors. The next round will be held in March.\n"
    )
    ingest(news)
    languages = {a.title: a.language for a in store.live_articles()}
    assert languages == {
        "Переговоры о прекращении огня возобновились в Женеве": "ru",
        "Ceasefire talks resume in Geneva": "en",
    }
    assert {p.language for p in store.passages()} == {"ru", "en"}
