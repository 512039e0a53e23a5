"""Stories in the store, with the real model and a real Chroma: assigned at ingest, kept on the
article records (Chroma and the local article cache), grown incrementally, backfilled for an
index written before stories existed, and read back per commit by `stories_changed`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.index.article_cache import ArticleCache
from retrieval.stories.grouping import list_stories, stories_changed
from retrieval.types import ArticleRecord

pytestmark = pytest.mark.integration

SERRA = Path(__file__).parents[1] / "fixtures" / "stories" / "serra_valley.jsonl"
WIRE_TITLES = {
    "Truce monitors head for the Serra Valley",
    "Serra Valley: ceasefire mission to deploy next week",
    "Lake Council mission to watch over Serra Valley truce",
}


def serra_articles() -> list[dict]:
    return [json.loads(line) for line in SERRA.read_text().splitlines() if line.strip()]


def raw_records(store) -> list[dict]:
    got = store.articles_collection().get(include=["metadatas"])
    return [dict(m) for m in got["metadatas"]]


def wire_story(stories):
    [story] = [s for s in stories if WIRE_TITLES & {a.title for a in s.articles}]
    return story


def test_wire_copies_form_one_story_kept_on_the_records(ingest, store):
    report = ingest(SERRA)
    assert report.stories["new"] >= 2
    records = raw_records(store)
    assert all(m.get("story_id") for m in records)  # in Chroma, with each article record
    by_title = {m["title"]: m for m in records}
    wire_ids = {by_title[t]["story_id"] for t in WIRE_TITLES}
    assert len(wire_ids) == 1
    # The story's id is its first article's (the earliest; ties by article id).
    first = min(
        (by_title[t] for t in WIRE_TITLES), key=lambda m: (m["published_ts"], m["article_id"])
    )
    assert wire_ids == {first["article_id"]}
    story = wire_story(list_stories(store))
    assert set(story.outlets) == {"Harbor Gazette", "Plains Courier", "Delta Times"}
    assert story.first_published == "2026-03-05T10:00:00+00:00"
    # Distinct events are not all one story.
    assert len(list_stories(store)) >= 4


def wire_copy_file(tmp_path) -> Path:
    """A fourth outlet's copy of the wire story, as a file to ingest."""
    wire = next(a for a in serra_articles() if a["title"] in WIRE_TITLES)
    copy = dict(
        wire,
        source="Coastal Herald",
        title="Monitors to patrol Serra Valley front",
        url="https://coastal-herald.example/monitors",
        published_at="2026-03-06T07:00:00Z",
    )
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps(copy) + "\n")
    return extra


def test_a_new_copy_grows_the_story_and_only_that_story_changed(ingest, store, tmp_path):
    ingest(SERRA)
    before = store.committed()
    story = wire_story(list_stories(store))
    report = ingest(wire_copy_file(tmp_path))
    assert report.stories == {"new": 0, "updated": 1, "backfilled": 0}
    changed = stories_changed(store, before, store.committed())
    assert [s.id for s in changed] == [story.id]  # the story keeps its id as it grows
    assert len(changed[0].articles) == len(story.articles) + 1
    assert "Coastal Herald" in changed[0].outlets
    assert stories_changed(store, store.committed(), store.committed()) == []


def test_an_index_without_stories_is_backfilled_from_stored_vectors(ingest, store, tmp_path):
    ingest(SERRA)
    expected = {s.id: {a.article_id for a in s.articles} for s in list_stories(store)}
    # Make it an index of before stories: no story ids, no article vectors.
    keys = [f"{m['article_id']}:{m['version']}" for m in raw_records(store)]
    store.articles_collection().update(ids=keys, metadatas=[{"story_id": ""}] * len(keys))
    store.article_vectors_collection().delete(ids=keys)
    old = store.committed()
    store.article_cache = ArticleCache(tmp_path / "cache.sqlite")
    assert not any(a.story_id for a in store.live_articles())  # a reader's copy at `old`

    report = ingest(SERRA)  # nothing new in the sources
    assert (report.added, report.updated, report.embedded) == (0, 0, 0)
    assert report.stories["backfilled"] == len(keys)
    assert store.committed() == old + 1
    # The local copy learns the story ids from the commit's changes, not a reload.
    live: list[ArticleRecord] = store.live_articles()
    assert all(a.story_id for a in live)
    assert {s.id: {a.article_id for a in s.articles} for s in list_stories(store)} == expected
    assert {s.id for s in stories_changed(store, old, old + 1)} == set(expected)
    # And once backfilled, a run with nothing new commits nothing.
    ingest(SERRA)
    assert store.committed() == old + 1


def test_replicas_sharing_a_chroma_server_see_the_same_stories(chroma_server, tmp_path):
    """An ingester and a replica on their own data directories, one `chroma run`: the replica
    lists the stories the ingester's run stored (real processes)."""
    from devkit.bot_process import newsbot

    _, port = chroma_server
    shared = {"NEWSBOT_CHROMA_HOST": "127.0.0.1", "NEWSBOT_CHROMA_PORT": str(port)}
    done = newsbot(
        "ingest",
        str(SERRA),
        "--json",
        data_dir=tmp_path / "ingester",
        cwd=tmp_path,
        timeout=600,
        **shared,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stories"]["new"] >= 2
    listed = {}
    for name in ("ingester", "replica"):
        run = newsbot("stories", "--json", data_dir=tmp_path / name, cwd=tmp_path, **shared)
        assert run.returncode == 0, run.stderr
        listed[name] = json.loads(run.stdout)["stories"]
    assert listed["replica"] == listed["ingester"]
    wire = [
        s for s in listed["replica"] if s["title"] == "Truce monitors head for the Serra Valley"
    ]
    assert len(wire) == 1
    assert {"Harbor Gazette", "Plains Courier", "Delta Times"} <= set(wire[0]["outlets"])


def test_article_vectors_dated_before_their_own_key_are_redated_and_still_found(
    ingest, store, tmp_path
):
    """Article vectors once carried their date as `published_ts`, a key every passage has too
    (a window query then ranged over all passages' dates); the next ingest dates them under
    ARTICLE_TS, and a new wire copy still finds its story among them."""
    from retrieval.index.chroma import ARTICLE_TS

    ingest(SERRA)
    story = wire_story(list_stories(store))
    vectors = store.article_vectors_collection()
    got = vectors.get(include=["metadatas", "embeddings"])
    assert all(ARTICLE_TS in m and "published_ts" not in m for m in got["metadatas"])
    # Rewrite them as the earlier layout stored them, and forget that they were redated.
    vectors.delete(ids=got["ids"])
    vectors.upsert(
        ids=got["ids"],
        embeddings=got["embeddings"],
        metadatas=[
            {"article_id": m["article_id"], "published_ts": m[ARTICLE_TS]} for m in got["metadatas"]
        ],
    )
    meta = store.commit_metadata(fresh=True)
    meta[ARTICLE_TS] = 0
    store._commits().modify(metadata=meta)
    report = ingest(wire_copy_file(tmp_path))
    assert report.stories == {"new": 0, "updated": 1, "backfilled": 0}
    assert "Coastal Herald" in wire_story(list_stories(store)).outlets
    assert wire_story(list_stories(store)).id == story.id
    after = vectors.get(include=["metadatas"])["metadatas"]
    assert len(after) == len(got["ids"]) + 1
    assert all(ARTICLE_TS in m for m in after if m.get("published_ts") is not None)
    assert store.commit_metadata(fresh=True)[ARTICLE_TS] == 1
