"""Push planning and "what's new", fast: the real FollowService and FollowStore over a fake
index (articles and passages in memory, stories given) and the hashing encoder. The real
model, Chroma and stories are in test_follow_e2e_integration.py."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from bot.follows.matching import MatchParams
from bot.follows.service import FollowService
from bot.follows.store import FollowStore
from retrieval.index.store import PassageRow
from retrieval.stories.story import Story
from retrieval.types import ArticleRecord
from tests.retrieval.fakes import HashingEmbedder

MODEL = HashingEmbedder()
# the hashing encoder's cosines are lower than a real model's: a threshold for it
PARAMS = MatchParams(threshold=0.6, min_dense=0.3)


def article(aid: str, source: str, day: int, title: str, text: str, added: int) -> tuple:
    record = ArticleRecord(
        article_id=aid,
        version="v1",
        title=title,
        source=source,
        published_at=f"2026-03-{day:02d}T10:00:00Z",
        url=f"https://{source.lower().replace(' ', '-')}.example/{aid}",
        author=None,
        attribution=None,
        content_hash=aid,
        origin="test",
        chunks=1,
        added=added,
        story_id="",
    )
    return record, text


@dataclass
class FakeIndex:
    """The reads FollowService makes of IndexStore, and the stories each commit changed."""

    generation: int = 1
    texts: dict[str, str] = field(default_factory=dict)
    stories: dict[int, list[Story]] = field(default_factory=dict)

    def committed(self, *, fresh: bool = False) -> int:
        return self.generation

    def require(self) -> int:
        return self.generation

    def fetch(self, ids, *, vectors: bool = False) -> dict[str, PassageRow]:
        out = {}
        for pid in ids:
            text = self.texts[pid]
            out[pid] = PassageRow(pid, text, 0, 0, len(text), "h", MODEL.encode([text])[0])
        return out

    def commit(self, *stories: list[tuple]) -> None:
        """A commit whose changed stories are `stories` (each a list of (record, text))."""
        self.generation += 1
        made = []
        for members in stories:
            for record, text in members:
                self.texts[record.passage_id(0)] = text
            records = tuple(r for r, _ in members)
            made.append(
                Story(
                    id=records[0].article_id,
                    title=records[0].title,
                    articles=records,
                    outlets=tuple(dict.fromkeys(r.source for r in records)),
                    first_published=records[0].published_at,
                    last_published=records[-1].published_at,
                )
            )
        self.stories[self.generation] = made

    def changed(self, store, since: int, upto: int) -> list[Story]:
        latest: dict[str, Story] = {}
        for generation in range(since + 1, upto + 1):
            for story in self.stories.get(generation, []):
                latest[story.id] = story
        return list(latest.values())


WIRE = "A ceasefire monitoring mission will deploy along the Serra Valley front line on March 10."
TALKS = "Mediators announced peace talks on the Serra Valley conflict and its ceasefire."
CHIPS = "A chipmaker unveiled laptop processors with longer battery life and faster graphics."


@pytest.fixture
def index() -> FakeIndex:
    return FakeIndex()


@pytest.fixture
def service(index, tmp_path) -> FollowService:
    follows = FollowStore(tmp_path / "follows.sqlite")
    made = FollowService(index, MODEL, follows, params=PARAMS, changed=index.changed)  # type: ignore[arg-type]
    made.start()
    return made


def planned(service: FollowService) -> list:
    return service.follows.claim("test")


def test_a_wire_story_is_one_push_naming_both_outlets_and_nothing_unrelated(index, service):
    service.follow(1, "private", "Serra Valley ceasefire", limit=10)
    index.commit(
        [
            article("w1", "Harbor Gazette", 5, "Truce monitors head for the Serra Valley", WIRE, 2),
            article("w2", "Plains Courier", 5, "Serra Valley ceasefire mission", WIRE, 2),
        ],
        [article("c1", "Tech Daily", 6, "Chipmaker unveils processors", CHIPS, 2)],
    )
    report = service.plan()
    assert (report.since, report.upto, report.stories, report.pushes) == (1, 2, 2, 1)
    [push] = planned(service)
    assert push.story_id == "w1"
    assert push.articles == ("w1:v1", "w2:v1")
    message = push.message
    assert message["title"] == "Truce monitors head for the Serra Valley"
    assert message["sentence"] == WIRE
    assert [c["source"] for c in message["carriers"]] == ["Plains Courier"]
    assert message["update"] is False


def test_a_story_is_pushed_once_and_again_only_with_news(index, service):
    service.follow(1, "private", "Serra Valley ceasefire", limit=10)
    first = article("w1", "Harbor Gazette", 5, "Truce monitors head for the Serra Valley", WIRE, 2)
    index.commit([first])
    service.plan()
    [push] = planned(service)
    service.follows.delivered(push)
    assert service.plan().pushes == 0  # no commit since
    later = article("t1", "Delta Times", 7, "Serra Valley observers named", TALKS, 3)
    index.commit([first, later])
    assert service.plan().pushes == 1
    [update] = planned(service)
    assert update.message["update"] is True
    assert update.message["new_reports"] == 1
    assert update.message["title"] == "Serra Valley observers named"  # the news, not the old


def test_two_topics_of_one_chat_matching_one_story_are_one_push(index, service):
    service.follow(1, "private", "Serra Valley ceasefire", limit=10)
    service.follow(1, "private", "Serra Valley monitoring mission", limit=10)
    service.follow(2, "private", "Serra Valley ceasefire", limit=10)
    index.commit([article("w1", "Harbor Gazette", 5, "Truce monitors", WIRE, 2)])
    assert service.plan().pushes == 2
    assert sorted(p.chat_id for p in planned(service)) == [1, 2]


def test_a_commit_is_planned_by_one_of_two_processes(index, service, tmp_path):
    other = FollowService(
        index, MODEL, FollowStore(tmp_path / "follows.sqlite"), params=PARAMS, changed=index.changed
    )  # type: ignore[arg-type]
    service.follow(1, "private", "Serra Valley ceasefire", limit=10)
    index.commit([article("w1", "Harbor Gazette", 5, "Truce monitors", WIRE, 2)])
    assert service.plan().recorded
    assert not other.plan().recorded
    assert len(planned(service)) == 1


def test_whats_new_lists_matching_stories_newest_first_since_last_asked(index, service):
    service.follow(1, "private", "Serra Valley ceasefire", limit=10)
    index.commit([article("t1", "Delta Times", 4, "Talks announced", TALKS, 2)])
    index.commit(
        [article("w1", "Harbor Gazette", 5, "Truce monitors", WIRE, 3)],
        [article("c1", "Tech Daily", 6, "Chipmaker unveils processors", CHIPS, 3)],
    )
    found, _ = service.whats_new(1, "private")
    assert [m["title"] for m in found] == ["Truce monitors", "Talks announced"]
    assert service.whats_new(1, "private")[0] == []  # nothing since it asked
    index.commit([article("c2", "Tech Daily", 8, "More chips", CHIPS, 4)])
    found, _ = service.whats_new(1, "private", "laptop processors battery")
    assert [m["title"] for m in found] == ["More chips"]


def test_the_archive_before_the_first_follow_is_not_pushed(index, tmp_path):
    index.commit([article("w1", "Harbor Gazette", 5, "Truce monitors", WIRE, 2)])
    service = FollowService(
        index, MODEL, FollowStore(tmp_path / "f.sqlite"), params=PARAMS, changed=index.changed
    )  # type: ignore[arg-type]
    service.start()
    service.follow(1, "private", "Serra Valley ceasefire", limit=10)
    assert service.plan().pushes == 0
    assert np.isfinite(service.encode_topic("x")).all()
