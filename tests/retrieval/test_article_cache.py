"""The local copy of article records: caught up by changes, rebuilt for another index."""

from __future__ import annotations

from dataclasses import replace

from retrieval.index.article_cache import FIELDS, ArticleCache
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


def test_records_come_back_whole_and_equal(tmp_path):
    full = replace(
        record("a", added=3),
        published_at="2026-03-05T10:00:00+00:00",
        url="https://x.example/a",
        author="A. Writer",
        attribution="via Wire",
        feed_date="Thu, 05 Mar 2026 10:00:00 GMT",
        story_id="s1",
    )
    source = Source([full])
    cache = ArticleCache(tmp_path / "articles.sqlite")
    [back] = cache.live(3, "x", changes=source.changes, everything=source.everything)
    assert back == full
    assert back.published_ts == full.published_ts
    assert back.key == "a:v1"
    assert replace(back, story_id="s2").story_id == "s2"  # still a frozen dataclass


def test_a_copy_of_the_json_schema_is_converted_without_reading_the_store(tmp_path):
    import json
    import sqlite3

    path = tmp_path / "articles.sqlite"
    old = [replace(record("a"), story_id="a"), replace(record("b"), removed=0)]
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute(
        "CREATE TABLE articles (key TEXT PRIMARY KEY, added INTEGER, removed INTEGER, record TEXT)"
    )
    db.executemany(
        "INSERT INTO articles VALUES (?, ?, ?, ?)",
        [(r.key, r.added, r.removed, json.dumps(r.__dict__)) for r in old],
    )
    db.executemany(
        "INSERT INTO meta VALUES (?, ?)", [("schema", "2"), ("identity", "x"), ("synced", "1")]
    )
    db.commit()
    db.close()
    source = Source(old)
    cache = ArticleCache(path)
    found = cache.live(1, "x", changes=source.changes, everything=source.everything)
    assert sorted(found, key=lambda r: r.key) == old
    assert source.calls == []  # converted in place, nothing read from the store


def test_a_copy_from_before_languages_gains_the_column_without_reading_the_store(tmp_path):
    import sqlite3

    path = tmp_path / "articles.sqlite"
    old = [record("a"), record("b")]
    columns = [name for name in FIELDS if name != "language"]
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute(f"CREATE TABLE records (key TEXT PRIMARY KEY, {', '.join(columns)})")
    db.executemany(
        f"INSERT INTO records VALUES ({', '.join('?' * (len(columns) + 1))})",
        [(r.key, *(getattr(r, name) for name in columns)) for r in old],
    )
    db.executemany(
        "INSERT INTO meta VALUES (?, ?)", [("schema", "3"), ("identity", "x"), ("synced", "1")]
    )
    db.commit()
    db.close()
    source = Source(old)
    found = ArticleCache(path).live(1, "x", changes=source.changes, everything=source.everything)
    assert sorted(found, key=lambda r: r.key) == old  # language "" (unknown) for each
    assert source.calls == []
