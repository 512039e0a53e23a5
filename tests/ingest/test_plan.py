"""Re-ingest bookkeeping: what is added, updated, unchanged, removed (pure)."""

from ingest.article import Article
from ingest.pipeline import plan_changes


def art(id_, body="body", origin="feed-a"):
    return Article(id=id_, title=f"title {id_}", body=body, origin=origin, source="Outlet")


def indexed(*articles):
    return {a.id: (a.content_hash, a.origin) for a in articles}


def test_new_changed_and_unchanged_articles():
    old = indexed(art("1"), art("2"))
    plan = plan_changes([art("1"), art("2", body="new body"), art("3")], old, prune_origins=None)
    assert [a.id for a in plan.added] == ["3"]
    assert [a.id for a in plan.updated] == ["2"]
    assert plan.unchanged == ["1"]
    assert plan.removed == []
    assert plan.changes_index


def test_nothing_changed_means_no_new_generation():
    old = indexed(art("1"), art("2"))
    plan = plan_changes([art("1"), art("2")], old, prune_origins=None)
    assert not plan.changes_index
    assert plan.unchanged == ["1", "2"]


def test_without_prune_gone_articles_stay():
    plan = plan_changes([art("1")], indexed(art("1"), art("2")), prune_origins=None)
    assert plan.removed == []


def test_prune_removes_only_from_completely_read_origins():
    old = indexed(art("1", origin="a"), art("2", origin="a"), art("3", origin="b"))
    # origin b failed this run (not complete): its article must survive
    plan = plan_changes([art("1", origin="a")], old, prune_origins={"a"})
    assert plan.removed == ["2"]


def test_sources_file_removes_articles_of_unlisted_sources():
    old = indexed(art("1", origin="a"), art("2", origin="gone"))
    plan = plan_changes([art("1", origin="a")], old, prune_origins={"a"}, listed_origins={"a", "b"})
    assert plan.removed == ["2"]


def test_duplicate_article_ids_count_once():
    plan = plan_changes([art("1"), art("1", body="other")], {}, prune_origins=None)
    assert [a.id for a in plan.added] == ["1"]


def test_content_hash_changes_with_metadata_too():
    a = art("1")
    b = Article(**{**a.__dict__, "published_at": "2024-01-01T00:00:00+00:00"})
    assert a.content_hash != b.content_hash


def test_a_feed_summary_never_replaces_an_indexed_full_text():
    full = art("1", body="the full article text")
    summary = Article(**{**full.__dict__, "body": "a short summary", "summary_only": True})
    plan = plan_changes([summary], indexed(full), prune_origins=None)
    assert plan.unchanged == ["1"]
    assert not plan.updated
    assert [a.id for a in plan_changes([summary], {}, prune_origins=None).added] == ["1"]


def test_new_texts_are_encoded_longest_first_ties_in_arrival_order():
    from ingest.pipeline import encode_order

    texts = {"a": "mid text", "b": "the longest text", "c": "short", "d": "mid txt!"}
    assert encode_order(["a", "b", "c", "d"], texts) == ["b", "a", "d", "c"]
