"""Stories, pure: which story an article joins, and what a story says of itself."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.stories.story import (
    Candidate,
    StoryParams,
    article_vector,
    assign_stories,
    build_stories,
    choose_story,
    jaccard,
    story_of,
    window_filter,
)
from retrieval.types import ArticleRecord

PARAMS = StoryParams(same_event=0.75, copy_jaccard=0.5, window_days=7)


def record(article_id: str, source: str, day: int | None, story: str = "", title: str = ""):
    return ArticleRecord(
        article_id=article_id,
        version="v1",
        title=title or f"title of {article_id}",
        source=source,
        published_at=None if day is None else f"2026-03-{day:02d}T10:00:00Z",
        url=None,
        author=None,
        attribution=None,
        content_hash="h",
        origin="o",
        chunks=1,
        story_id=story,
    )


def test_article_vector_is_the_normalised_mean():
    v = article_vector([np.array([1.0, 0.0]), np.array([0.0, 1.0])])
    assert np.allclose(v, [2**-0.5, 2**-0.5])
    with pytest.raises(ValueError, match="at least one passage"):
        article_vector(np.zeros((0, 3)))


def test_a_copy_beats_a_more_similar_report_and_weak_ones_start_a_story():
    found = [
        Candidate("a", "story-a", 0.90),
        Candidate("b", "story-b", 0.60, copy=True),
        Candidate("c", "story-c", 0.95),
    ]
    assert choose_story(found, PARAMS) == "story-b"
    assert choose_story(found[::2], PARAMS) == "story-c"
    assert choose_story([Candidate("a", "story-a", 0.74)], PARAMS) is None
    assert choose_story([Candidate("a", "", 0.99)], PARAMS) is None  # no story yet
    assert choose_story([], PARAMS) is None


def test_stories_are_assigned_oldest_first_and_keep_their_first_articles_id():
    wire = [record("w2", "Plains", 5), record("w1", "Harbor", 5), record("w3", "Delta", 6)]
    other = record("x", "Delta", 4)
    neighbours = {
        "w1": [("w2", 0.97, True), ("w3", 0.96, True), ("x", 0.3, False)],
        "w2": [("w1", 0.97, True), ("w3", 0.96, True)],
        "w3": [("w1", 0.96, True), ("w2", 0.96, True)],
        "x": [("w1", 0.3, False)],
    }
    got = assign_stories([*wire, other], lambda a: neighbours[a.article_id], {}, PARAMS)
    assert got == {"w1": "w1", "w2": "w1", "w3": "w1", "x": "x"}


def test_a_new_article_joins_a_stored_story():
    got = assign_stories(
        [record("new", "Delta", 9)],
        lambda a: [("old", 0.81, False)],
        {"old": "first-of-story"},
        PARAMS,
    )
    assert got == {"new": "first-of-story"}


def test_story_facts_and_dict():
    members = [
        record("b", "Plains", 7, "a"),
        record("u", "Harbor", None, "a"),
        record("a", "Harbor", 5, "a", title="Truce monitors head for the valley"),
        record("c", "Delta", 6, "a"),
    ]
    story = story_of("a", members)
    assert [a.article_id for a in story.articles] == ["a", "c", "b", "u"]  # undated last
    assert story.outlets == ("Harbor", "Delta", "Plains")
    assert story.to_dict() == {
        "id": "a",
        "title": "Truce monitors head for the valley",
        "articles": 4,
        "outlets": ["Harbor", "Delta", "Plains"],
        "first_published": "2026-03-05T10:00:00Z",
        "last_published": "2026-03-07T10:00:00Z",
    }


def test_build_stories_groups_by_story_newest_first():
    stories = build_stories(
        [
            record("a", "H", 1, "a"),
            record("b", "P", 2, "a"),
            record("c", "D", 9, "c"),
            record("old", "D", 3),  # written before stories: a story of its own
        ]
    )
    assert [(s.id, len(s.articles)) for s in stories] == [("c", 1), ("old", 1), ("a", 2)]


def test_copies_share_their_shingles():
    text = "PORT ALVA (Continental Press) - A ceasefire monitoring mission will deploy soon."
    assert jaccard(text, text) == 1.0
    assert jaccard(text, "Thousands of families wait in camps outside the city.") == 0.0
    assert jaccard("", text) == 0.0


def test_window_filter():
    assert window_filter(None, PARAMS) is None
    span = 7 * 86400.0
    assert window_filter(100.0, PARAMS) == {
        "$and": [{"article_ts": {"$gte": 100.0 - span}}, {"article_ts": {"$lte": 100.0 + span}}]
    }


def test_bcubed_counts_labelled_articles_only():
    from retrieval.eval.story_scoring import bcubed, pair_recall

    gold = {"a": "x", "b": "x", "c": "y"}
    perfect = bcubed({"a": "1", "b": "1", "c": "2", "unlabelled": "1"}, gold)
    assert (perfect.precision, perfect.recall, perfect.items) == (1.0, 1.0, 3)
    merged = bcubed({"a": "1", "b": "1", "c": "1"}, gold)
    assert merged.recall == 1.0
    assert merged.precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3)
    split = bcubed({"a": "1", "b": "2", "c": "3"}, gold)
    assert split.precision == 1.0
    assert split.recall == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)
    assert pair_recall({"a": "1", "b": "1", "c": "2"}, [("a", "b"), ("a", "c"), ("a", "z")]) == 0.5


def test_timeline_scores():
    from retrieval.eval.story_scoring import score_timeline

    events = {"w1": "wire", "w2": "wire", "n": "news"}
    good = score_timeline([("2026-03-01", ["w1", "w2"]), ("2026-03-02", ["n"])], events)
    assert (good.coverage, good.precision, good.ordered, good.folded) == (1.0, 1.0, True, True)
    bad = score_timeline(
        [("2026-03-02", ["w1"]), ("2026-03-01", ["w2"]), ("2026-03-03", ["distractor"])], events
    )
    assert (bad.coverage, bad.ordered, bad.folded) == (0.5, False, False)
    assert bad.precision == pytest.approx(2 / 3)
