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
    assert list(first.stages) == ["reading", "model", "chunking", "embedding", "indexing"]
    assert 0 < sum(first.stages.values()) <= first.seconds
    assert first.stages["embedding"] > first.stages["chunking"]
    generation = store.current_generation()

    again = ingest(news_dir)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 2, 0)
    assert again.embedded == 0
    assert list(again.stages) == ["reading"]  # nothing to chunk, embed or index
    assert store.current_generation() == generation  # nothing to swap
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
    outcome = read_all([feed, folder], lambda spec: SourceResult(spec, articles=[article]))
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
    ids, vectors = store.vectors()
    expected = embedder.encode([f"{passages[i].title}\n{passages[i].text}" for i in ids])
    assert np.allclose(vectors, expected, atol=1e-5)
