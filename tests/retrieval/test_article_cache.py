"""The local copy of article records: caught up by changes, rebuilt for another index."""

from __future__ import annotations

from dataclasses import replace

from retrieval.article_cache import ArticleCache
from retrieval.types import ArticleRecord


def record(article: str, version: str = "v1", added: int = 1, removed: int = 0) -> ArticleRecord:
    return ArticleRecord(
        article_id=article,
        version=version,
        title=f"T {article}",
        source="Wire",
        published_at=None,
        url=None,
        author=None,
        attribution=None,
        content_hash=version,
        origin="o",
        chunks=2,
        added=added,
        removed=removed,
    )


class Source:
    """What the store answers, counting the calls."""

    def __init__(self, records):
        self.records = list(records)
        self.calls: list[str] = []

    def changes(self, since, upto):
        self.calls.append(f"changes {since}-{upto}")
        return [r for r in self.records if since < r.added <= upto or since < r.removed <= upto]

    def everything(self, upto):
        self.calls.append(f"everything {upto}")
        return [r for r in self.records if r.visible_at(upto)]

    def live(self, cache, generation, identity="x"):
        found = cache.live(generation, identity, changes=self.changes, everything=self.everything)
        return sorted(r.key for r in found)


def test_the_copy_applies_each_commit_and_reads_the_store_only_for_what_changed(tmp_path):
    source = Source([record("a"), record("b")])
    cache = ArticleCache(tmp_path / "articles.sqlite")
    assert source.live(cache, 1) == ["a:v1", "b:v1"]
    assert source.live(cache, 1) == ["a:v1", "b:v1"]
    assert source.calls == ["everything 1"]  # the second call read nothing from the store
    # Commit 2: a changes version, b goes, c comes.
    source.records = [
        replace(record("a"), removed=2),
        record("a", "v2", added=2),
        replace(record("b"), removed=2),
        record("c", added=2),
    ]
    assert source.live(cache, 2) == ["a:v2", "c:v1"]
    assert source.calls[-1] == "changes 1-2"
    again = ArticleCache(tmp_path / "articles.sqlite")  # another process, same data directory
    assert source.live(again, 2) == ["a:v2", "c:v1"]
    assert source.calls[-1] == "changes 1-2"  # nothing more was read


def test_a_copy_of_another_index_is_rebuilt(tmp_path):
    cache = ArticleCache(tmp_path / "articles.sqlite")
    assert Source([record("a")]).live(cache, 1, identity="old") == ["a:v1"]
    fresh = Source([record("z")])
    assert fresh.live(cache, 1, identity="new") == ["z:v1"]  # same generation, other index
    assert fresh.calls == ["everything 1"]
