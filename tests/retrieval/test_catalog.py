"""The reader's catalog of live articles (retrieval/search/catalog.py): pure, no store."""

from __future__ import annotations

import random

from retrieval.search.catalog import Catalog
from retrieval.types import ArticleRecord


def record(n: int, version: str = "v1", *, added: int = 1, removed: int = 0, day=None):
    return ArticleRecord(
        article_id=f"a{n}",
        version=version,
        title=f"Item {n}",
        source=f"Outlet {'ABC'[n % 3]}",
        published_at=None if day is None else f"2021-03-{day:02d}T00:00:00Z",
        url=None,
        author=None,
        attribution=None,
        content_hash=f"h{n}{version}",
        origin="memory",
        chunks=2,
        added=added,
        removed=removed,
    )


def state(catalog: Catalog) -> tuple:
    return (
        catalog.generation,
        {k: r.key for k, r in catalog.articles.items()},
        dict(catalog._sources),
        list(catalog._timestamps),
        catalog.outlets,
    )


def records() -> list[ArticleRecord]:
    rng = random.Random(7)
    found = [record(n, day=rng.choice([None, *range(1, 29)])) for n in range(200)]
    found += [
        record(3, "v2", added=2, day=20),  # a newer version of article 3 ...
        record(5, "v0", added=1, removed=2, day=4),  # ... a retired version of article 5
        record(900, "v1", added=3, day=9),  # not yet committed at generation 2
    ]
    rng.shuffle(found)
    return [r for r in found if r.key not in ("a3:v1", "a5:v1")]


def test_a_starting_reader_loads_what_applying_one_by_one_gives():
    everything = records()
    loaded = Catalog()
    changed = loaded.apply(2, everything)
    one_by_one = Catalog()
    one_by_one.apply(2, everything[:1])
    for r in everything[1:]:
        one_by_one.apply(2, [r])
    assert state(loaded) == state(one_by_one)
    assert loaded.articles["a3"].version == "v2"
    assert "a5" not in loaded.articles
    assert "a900" not in loaded.articles
    assert sorted(r.key for r in changed) == sorted(r.key for r in loaded.articles.values())
    assert loaded._timestamps == sorted(loaded._timestamps)
    assert loaded.has_source("Outlet A")
    assert loaded.outlets["outlet b"] == "Outlet B"


def test_a_loaded_catalog_applies_the_next_commit():
    catalog = Catalog()
    catalog.apply(1, [record(1, day=3), record(2, day=5), record(3)])
    before = catalog.copy()
    retired = [record(1, removed=2, day=3), record(2, removed=2, day=5)]
    changed = catalog.apply(2, [*retired, record(2, "v2", added=2, day=6)])
    assert [r.key for r in changed] == ["a2:v2"]
    assert sorted(catalog.articles) == ["a2", "a3"]
    assert not catalog.any_dated_between(None, record(1, day=4).published_ts)
    assert catalog.any_dated_between(record(1, day=6).published_ts, None)
    assert not catalog.has_source("Outlet B")  # a1 was its only article
    assert sorted(before.articles) == ["a1", "a2", "a3"]  # the copy kept the earlier state
