"""Scoring stories and timelines against labels (pure; bench/stories.py runs it).

- Stories: B-cubed precision (purity) and recall (completeness) over the labelled articles. An
  article's precision counts, of the labelled articles in its story, those of its own label;
  unlabelled articles in a story are not counted (nothing is known of them).
- Weak pairs (MultiHop-RAG: articles of different outlets in one question's evidence): the
  share that end up in one story.
- Timelines: coverage (labelled events with an entry citing one of their articles), precision
  (entries whose citations are all on the topic), order (entry days never go back) and folding
  (no event spread over two entries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Bcubed:
    """B-cubed precision and recall of stories against labels."""

    precision: float
    recall: float
    items: int

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def bcubed(predicted: Mapping[str, str], gold: Mapping[str, str]) -> Bcubed:
    """`predicted`: article -> story; `gold`: labelled article -> label."""
    members: dict[str, set[str]] = {}
    for article, story in predicted.items():
        if article in gold:
            members.setdefault(story, set()).add(article)
    by_label: dict[str, set[str]] = {}
    for article, label in gold.items():
        by_label.setdefault(label, set()).add(article)
    precision = recall = 0.0
    items = 0
    for article, label in gold.items():
        if article not in predicted:
            continue
        items += 1
        mine = members[predicted[article]]
        same = sum(1 for other in mine if gold[other] == label)
        precision += same / len(mine)
        recall += same / len(by_label[label])
    if not items:
        return Bcubed(0.0, 0.0, 0)
    return Bcubed(precision / items, recall / items, items)


def pair_recall(predicted: Mapping[str, str], pairs: Iterable[tuple[str, str]]) -> float:
    """The share of `pairs` (both articles present) put in one story."""
    known = [(a, b) for a, b in pairs if a in predicted and b in predicted]
    if not known:
        return 0.0
    return sum(predicted[a] == predicted[b] for a, b in known) / len(known)


@dataclass(frozen=True)
class TimelineScore:
    """How one timeline scores against its labelled events."""

    coverage: float  # labelled events with an entry
    precision: float  # entries wholly on the topic
    ordered: bool  # entry days never go back
    folded: bool  # each labelled event (a report and its copies) in exactly one entry
    entries: int


def score_timeline(
    entries: list[tuple[str | None, list[str]]], events: Mapping[str, str]
) -> TimelineScore:
    """`entries`: (day, cited article ids) in the order shown; `events`: article id -> event
    label, for the articles on the topic."""
    covered: set[str] = set()
    on_topic = 0
    folded = True
    for _, cited in entries:
        labels = {events[a] for a in cited if a in events}
        on_topic += bool(cited) and all(a in events for a in cited)
        if labels & covered or len(labels) > 1:
            folded = False
        covered |= labels
    days = [day for day, _ in entries if day is not None]
    total = len(set(events.values()))
    return TimelineScore(
        coverage=len(covered) / total if total else 0.0,
        precision=on_topic / len(entries) if entries else 1.0,
        ordered=days == sorted(days),
        folded=folded,
        entries=len(entries),
    )
