"""Follows, fast: the SQLite store (migrations, limits, planning claimed once, pushes claimed
once, restarts), the matching decision, the push message and the pacing. No model, no
Chroma, no network (the real process is in test_follow_e2e_integration.py)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from bot.follows.matching import (
    Match,
    MatchParams,
    match,
    match_topics,
    story_words,
    topic_terms,
)
from bot.follows.store import (
    CLAIM_SECONDS,
    MIGRATIONS,
    FollowLimitError,
    FollowStore,
    PlannedPush,
)
from bot.telegram.follow_format import (
    PushPacer,
    following_html,
    push_answer,
    push_html,
    whatsnew_html,
)
from devkit import telegram_html


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def vec(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def message(**extra) -> dict:
    base = {
        "topic": "Serra Valley ceasefire",
        "story_id": "s1",
        "update": False,
        "new_reports": 2,
        "title": "Truce monitors head for the Serra Valley",
        "source": "Harbor Gazette",
        "published_at": "2026-03-05T10:00:00Z",
        "url": "https://harbor-gazette.example/monitors",
        "article_id": "a1",
        "sentence": "A ceasefire monitoring mission will deploy on March 10.",
        "carriers": [
            {
                "source": "Plains Courier",
                "title": "Monitors to deploy",
                "url": "https://plains.example/m",
                "published_at": "2026-03-05T12:00:00Z",
            }
        ],
    }
    base.update(extra)
    return base


def push(chat_id: int, story_id: str, articles=("a1:v1",), topic_key="serra") -> PlannedPush:
    return PlannedPush(chat_id, story_id, topic_key, tuple(articles), message(story_id=story_id))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock) -> FollowStore:
    return FollowStore(tmp_path / "follows.sqlite", clock=clock)


def test_follows_are_listed_in_order_and_capped_per_chat(store):
    assert store.add_follow(1, "private", "Serra Valley ceasefire", vec(1, 0), limit=2)
    assert not store.add_follow(1, "private", "  serra VALLEY   ceasefire ", vec(1, 0), limit=2)
    assert store.add_follow(1, "private", "Sudan talks", vec(0, 1), limit=2)
    with pytest.raises(FollowLimitError):
        store.add_follow(1, "private", "Third", vec(1, 1), limit=2)
    assert store.add_follow(2, "group", "Third", vec(1, 1), limit=2)  # another chat's cap
    assert [f.topic for f in store.follows(1)] == ["Serra Valley ceasefire", "Sudan talks"]
    np.testing.assert_allclose(store.follows(1)[1].vector, vec(0, 1))


def test_unfollow_by_number_or_topic_drops_its_pending_pushes(store):
    store.add_follow(1, "private", "Serra Valley", vec(1, 0), limit=10)
    store.add_follow(1, "private", "Sudan talks", vec(0, 1), limit=10)
    store.start_at(3)
    store.record_plan(3, 4, [push(1, "s1", topic_key="serra valley")])
    assert store.remove_follow(1, "3") is None
    assert store.remove_follow(1, "1").topic == "Serra Valley"
    assert store.claim("me") == []  # its pending push went with it
    assert store.remove_follow(1, "sudan TALKS").topic == "Sudan talks"
    assert store.follows(1) == []


def test_a_generation_range_is_planned_once_even_by_two_processes(tmp_path, clock):
    one = FollowStore(tmp_path / "f.sqlite", clock=clock)
    two = FollowStore(tmp_path / "f.sqlite", clock=clock)
    assert one.start_at(5) == 5
    assert two.start_at(9) == 5  # planning started already: the recorded generation stands
    assert one.record_plan(5, 7, [push(1, "s1")])
    assert not two.record_plan(5, 7, [push(1, "s1")])  # planned meanwhile: nothing written
    assert one.generation() == two.generation() == 7
    assert len(one.claim("a")) == 1
    assert two.claim("b") == []  # held by the first sender


def test_a_claim_lapses_so_a_killed_sender_loses_nothing(store, clock, tmp_path):
    store.start_at(0)
    store.record_plan(0, 1, [push(1, "s1"), push(2, "s1")])
    first = store.claim("killed")
    assert len(first) == 2
    assert store.claim("other") == []
    clock.now += CLAIM_SECONDS + 1
    again = FollowStore(tmp_path / "follows.sqlite", clock=clock).claim("restarted")
    assert sorted(p.chat_id for p in again) == [1, 2]


def test_delivered_remembers_the_story_and_what_the_chat_saw(store, clock):
    store.start_at(0)
    store.record_plan(0, 2, [push(1, "s1", ("a1:v1", "a2:v1"))])
    [pending] = store.claim("me")
    assert store.pushed_articles(1, "s1") is None
    store.delivered(pending)
    assert store.pushed_articles(1, "s1") == {"a1:v1", "a2:v1"}
    assert store.seen_generation(1) == 0 or store.seen_generation(1) == 2
    assert store.claim("me") == []
    store.record_plan(2, 3, [push(1, "s1", ("a1:v1", "a2:v1", "a3:v1"))])
    [update] = store.claim("me")
    store.delivered(update)
    assert store.pushed_articles(1, "s1") == {"a1:v1", "a2:v1", "a3:v1"}


def test_postpone_holds_a_push_back_until_its_time(store, clock):
    store.start_at(0)
    store.record_plan(0, 1, [push(1, "s1")])
    [pending] = store.claim("me")
    store.postpone(pending, 30)
    assert store.claim("me") == []
    clock.now += 31
    assert [p.id for p in store.claim("me")] == [pending.id]


def test_a_blocked_chat_loses_its_follows_and_pending_pushes(store):
    store.add_follow(1, "private", "Serra", vec(1, 0), limit=10)
    store.add_follow(1, "private", "Sudan", vec(0, 1), limit=10)
    store.add_follow(2, "private", "Serra", vec(1, 0), limit=10)
    store.start_at(0)
    store.record_plan(0, 1, [push(1, "s1"), push(2, "s1")])
    assert store.drop_chat(1) == 2
    assert store.follows(1) == []
    assert [p.chat_id for p in store.claim("me")] == [2]


def test_everything_survives_a_kill_9_of_the_writer(tmp_path):
    """A process killed right after its writes: follows, plan and pending pushes are there."""
    path = tmp_path / "follows.sqlite"
    code = f"""
import os, signal, numpy as np
from bot.follows.store import FollowStore, PlannedPush
s = FollowStore({str(path)!r})
s.add_follow(7, "private", "Serra Valley", np.ones(4, dtype=np.float32), limit=10)
s.start_at(1)
s.record_plan(1, 2, [PlannedPush(7, "s1", "serra valley", ("a:1",), {{"topic": "x"}})])
os.kill(os.getpid(), signal.SIGKILL)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == -9, done.stderr
    again = FollowStore(path)
    assert [f.topic for f in again.follows(7)] == ["Serra Valley"]
    assert again.generation() == 2
    assert [(p.chat_id, p.story_id) for p in again.claim("me")] == [(7, "s1")]


def test_the_schema_is_migrated_by_user_version(tmp_path):
    path = tmp_path / "follows.sqlite"
    FollowStore(path).close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="newer newsbot"):
        FollowStore(path)


def test_the_overview_lists_follows_pending_and_last_push(store, clock):
    store.add_follow(-100, "supergroup", "Serra", vec(1, 0), limit=10)
    store.add_follow(5, "private", "Sudan", vec(0, 1), limit=10)
    store.start_at(0)
    store.record_plan(0, 1, [push(-100, "s1"), push(5, "s2")])
    sent = next(p for p in store.claim("me") if p.chat_id == 5)
    store.delivered(sent)
    rows = {r.chat_id: r for r in store.overview()}
    assert rows[-100].topics == ("Serra",)
    assert rows[-100].pending == 1
    assert rows[-100].last_push_at is None
    assert rows[5].pending == 0
    assert rows[5].last_push_at == clock.now
    assert rows[5].to_dict()["kind"] == "private"


# -- matching ------------------------------------------------------------------------------


def test_a_story_matches_on_meaning_and_words_together():
    params = MatchParams(threshold=0.9, min_dense=0.5)
    topic = vec(1, 0, 0)
    passages = np.vstack([vec(0, 1, 0), vec(0.9, 0.1, 0)])
    terms = topic_terms("the Serra Valley ceasefire")
    assert terms == {"serra", "valley", "ceasefire"}
    words = story_words(["Truce monitors head for the Serra Valley", "ceasefire line"])
    found = match(topic, terms, passages, words)
    assert found.dense == pytest.approx(float(vec(0.9, 0.1, 0)[0]))
    assert found.lexical == 1.0
    assert found.accepted(params)
    assert not Match(dense=0.85, lexical=0.0).accepted(params)  # close in meaning only
    assert not Match(dense=0.4, lexical=1.0).accepted(params)  # the words, another story


def test_many_topics_at_once_score_as_one_at_a_time():
    topics = np.vstack([vec(1, 0, 0), vec(0, 1, 0), vec(1, 1, 0)])
    terms = [topic_terms("serra"), topic_terms("chips"), topic_terms("serra chips")]
    passages = np.vstack([vec(0, 1, 0), vec(0.9, 0.1, 0)])
    words = story_words(["Serra Valley"])
    many = match_topics(topics, terms, passages, words)
    one = [match(t, w, passages, words) for t, w in zip(topics, terms, strict=True)]
    assert [m.lexical for m in many] == [m.lexical for m in one] == [1.0, 0.0, 0.5]
    np.testing.assert_allclose([m.dense for m in many], [m.dense for m in one], rtol=1e-6)


def test_no_passages_or_no_words_never_match():
    assert match(vec(1, 0), frozenset({"x"}), np.zeros((0, 2)), frozenset()).dense == 0.0
    assert match(vec(1, 0), frozenset(), np.vstack([vec(1, 0)]), frozenset()).lexical == 0.0


# -- messages ------------------------------------------------------------------------------


def test_a_push_names_title_sentence_every_outlet_date_and_link():
    html = push_html(message())
    telegram_html.parse(html)  # what Telegram accepts
    assert html.startswith("<b>New on Serra Valley ceasefire</b>")
    assert "A ceasefire monitoring mission will deploy on March 10. [1]" in html
    assert '<a href="https://harbor-gazette.example/monitors">' in html
    assert "carried by Harbor Gazette and Plains Courier" in html
    assert "2026-03-05" in html
    answer = push_answer(message())
    assert answer.citations[0].also_in == ("Plains Courier",)


def test_an_updated_story_says_what_is_new():
    html = push_html(message(update=True, new_reports=1))
    assert "Update on a story you follow" in html
    assert "1 new report" in html


def test_hostile_text_in_a_push_is_escaped():
    html = push_html(message(topic="<b>x", title="A <script> & co", sentence="1 < 2"))
    telegram_html.parse(html)
    assert "&lt;script&gt; &amp; co" in html


def test_following_and_whatsnew_lists():
    assert "follows nothing yet" in following_html([], limit=10)
    listed = following_html(["Serra Valley", "Sudan <talks>"], limit=10)
    assert "1. Serra Valley" in listed
    assert "2. Sudan &lt;talks&gt;" in listed
    assert "(2 of 10)" in listed
    assert whatsnew_html([], topic=None) == [
        "Nothing new on the topics this chat follows since you last asked."
    ]
    [html] = whatsnew_html([message(), message(title="Second")], topic="Serra")
    telegram_html.parse(html)
    assert html.index("1. ") < html.index("2. ")
    assert "Harbor Gazette, Plains Courier" in html


# -- pacing --------------------------------------------------------------------------------


def test_pacing_keeps_under_telegrams_limits():
    pacer = PushPacer(per_second=25, group_per_minute=18)
    now = 0.0
    for _ in range(18):
        assert pacer.chat_wait(-100, now) == 0
        pacer.record(-100, now)
        now += 0.04
    assert pacer.chat_wait(-100, now) > 50  # the group's minute is used up
    assert pacer.chat_wait(7, now) == 0  # a private chat is not
    pacer.record(7, now)
    assert pacer.chat_wait(7, now + 0.5) > 0  # one a second per private chat
    assert pacer.chat_wait(7, now + 1.0) == 0
    assert pacer.global_wait(now) == pytest.approx(0.04)
