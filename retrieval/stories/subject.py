"""What a followed topic is about: its subject (pure: text, vectors and numbers in).

A reader follows "Serra Valley peace talks"; the articles that follow the process say "the
talks", "the accord", "the swap" and name the place, the parties, the mediators and the
venue, rarely "peace". A subject is learned from the articles that match the topic strongly
(its *seeds*): the names that define them and the centre of their vectors; the stories pushed
for the follow join it. Then a story belongs to the subject (`belongs`) when

- it *continues* a story pushed for the follow, or
- an article of it is about the topic *as a whole* (the mean of its passages' vectors, not one
  passage of a roundup) and says the topic's words in its title or opening, or
- an article of it is close to the seeds as a whole and the subject's defining names are
  *salient* in it: in a title or an opening, or said at least twice. A name said once in a
  list (a roundup, a ranking) is not salient; or, a little less close, its title and opening
  name several of the subject's names.

Thresholds are tuned on the dev split of bench/follow_judged.py (docs/benchmarks.md).
Names are runs of capitalised words ("Northern Alliance", "Port Alva", "Lake Council") and
single capitalised words seen mid-sentence ("Teresina"). A name's weight is how specific it
is (the inverse document frequency of its rarest word, against the whole index) times how
often it recurs among the seeds; the names of the topic itself weigh most.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.tokens import STOPWORDS, tokenize

LEAD_CHARS = 600  # an article's opening: where its subject is named
_TOKEN = re.compile(r"[^\W_](?:[\w'’&-]|\.(?=\w))*|[.!?;:,\n|•–—()\[\]\"“”]")
_BREAK = frozenset('.!?;:,\n|•–—()[]"“”')
_ENDS = frozenset(".!?\n|•")  # what ends a sentence (the next word opens one)
CONNECTORS = frozenset({"de", "del", "la", "al", "bin", "van", "von"})
NOT_NAMES = frozenset(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december mr mrs ms dr the a an i it he she we
    they this that these those his her its our their in on at for and but or if as by from
    with after before while when where what who how why there here however meanwhile also
    """.split()
)


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def names_in(text: str) -> Counter[str]:
    """The names a text says, by key (casefolded), with how often; a single capitalised word
    that only ever opens a sentence is not taken for a name."""
    runs: list[tuple[list[str], bool]] = []  # (words, opens a sentence)
    current: list[str] = []
    opening = True
    start = True
    for token in _TOKEN.findall(text):
        if token in _BREAK:
            if current:
                runs.append((current, opening))
            current, start = [], start or token in _ENDS
            continue
        word = re.sub(r"['’]s$|[.'’-]+$", "", token)
        if (word[:1].isupper() and word.casefold() not in NOT_NAMES) or (
            current and word in CONNECTORS
        ):
            if not current:
                opening = start
            current.append(word)
        elif current:
            runs.append((current, opening))
            current = []
        start = False
    if current:
        runs.append((current, opening))
    found: Counter[str] = Counter()
    mid_sentence: set[str] = set()
    singles: Counter[str] = Counter()
    for words, opens in runs:
        while words and words[-1] in CONNECTORS:
            words = words[:-1]
        if not words or all(w.casefold() in STOPWORDS for w in words):
            continue
        key = name_key(" ".join(words))
        if len(words) > 1:
            found[key] += 1
        else:
            singles[key] += 1
            if not opens:
                mid_sentence.add(key)
    for key, n in singles.items():
        if key in mid_sentence and len(key) > 2:
            found[key] += n
    return found


def spelling(key: str, texts: Iterable[str]) -> str:
    """A name's key as the texts write it (the first capitalised occurrence, not in capitals
    as a dateline writes it)."""
    pattern = re.compile(r"\b" + r"\s+".join(map(re.escape, key.split())) + r"\b", re.I)
    written = [
        " ".join(found.group().split()) for text in texts for found in pattern.finditer(text)
    ]
    capitalised = [w for w in written if w[:1].isupper()]
    mixed = [w for w in capitalised if not w.isupper()]
    return (mixed or capitalised or [key.title()])[0]


def salient_names(title: str, text: str) -> frozenset[str]:
    """The names an article is about: those of its title and opening, and those it says at
    least twice."""
    lead = names_in(title) + names_in(text[:LEAD_CHARS])
    counts = names_in(title) + names_in(text)
    return frozenset(lead) | frozenset(k for k, n in counts.items() if n >= 2)


def story_names(articles: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The salient names of a story: of any of its (title, text) articles."""
    found: set[str] = set()
    for title, text in articles:
        found |= salient_names(title, text)
    return frozenset(found)


@dataclass(frozen=True)
class SubjectParams:
    """How a subject is learned and what belongs to it (calibrated on the dev split of
    bench/follow_judged.py)."""

    recurring: float = 0.34  # share of the seeds a name must be salient in (at least 2)
    max_names: int = 10
    min_weight: float = 0.35  # a learned name weighing less is not kept
    idf_full: float = 5.0  # a name whose rarest word has this idf is fully specific
    min_dense: float = 0.40  # a passage of the story close to the topic, and ...
    min_focus: float = 0.50  # ... an article of it close to the topic as a whole ...
    lead_words: float = 0.67  # ... whose title or opening says most of the topic's words
    min_centre: float = 0.85  # or an article close to the subject's seeds as a whole ...
    min_shared: float = 0.9  # ... that names the subject (weight of its names salient)
    lead_centre: float = 0.58  # or an article nearer the seeds whose title and opening ...
    lead_names: int = 3  # ... name this many of the subject's names


@dataclass(frozen=True)
class Subject:
    """What a follow is about: its defining names (key -> display form, weight), the stories
    it continues, the centre of its seeds' vectors, and the names the reader dropped."""

    names: tuple[tuple[str, float], ...] = ()  # display name, weight; heaviest first
    stories: frozenset[str] = frozenset()
    centre: np.ndarray | None = None
    dropped: frozenset[str] = frozenset()

    def weights(self) -> dict[str, float]:
        """Name key -> weight of the names in force (the reader's dropped ones left out)."""
        return self._weights

    @functools.cached_property
    def _weights(self) -> dict[str, float]:  # asked per story and follow: made once
        return {name_key(n): w for n, w in self.names if name_key(n) not in self.dropped}

    def watching(self) -> list[str]:
        """The names shown to the reader ("also watching: …"), heaviest first."""
        return [n for n, _ in self.names if name_key(n) not in self.dropped]

    def drop(self, name: str) -> Subject | None:
        """Without `name` (as the reader spells it); None when the subject has no such name."""
        key = name_key(name)
        if key not in self.weights():
            return None
        return Subject(self.names, self.stories, self.centre, self.dropped | {key})

    def with_stories(self, story_ids: Iterable[str]) -> Subject:
        return Subject(self.names, self.stories | set(story_ids), self.centre, self.dropped)

    def to_json(self) -> dict:
        return {
            "names": [[n, round(w, 3)] for n, w in self.names],
            "stories": sorted(self.stories),
            "dropped": sorted(self.dropped),
        }

    @classmethod
    def from_json(cls, data: dict, centre: np.ndarray | None = None) -> Subject:
        return cls(
            names=tuple((str(n), float(w)) for n, w in data.get("names", ())),
            stories=frozenset(data.get("stories", ())),
            centre=centre,
            dropped=frozenset(data.get("dropped", ())),
        )


@dataclass(frozen=True)
class Seed:
    """An article that matches the topic strongly: its story, salient names and vector."""

    story_id: str
    names: frozenset[str]
    vector: np.ndarray


UNSEEN = "qzxjvkwq"  # a word no index holds: the highest idf there is


def specificity(key: str, idf: Callable[[str], float], params: SubjectParams) -> float:
    """How specific a name is, 0-1: its rarest word's idf against `idf_full`, or against half
    the highest idf of a small index (where every word is in a good share of the passages)."""
    words = tokenize(key)
    if not words:
        return 0.0
    full = min(params.idf_full, 0.5 * idf(UNSEEN))
    return min(1.0, max(idf(w) for w in words) / full) if full > 0 else 0.0


def learn_subject(
    topic: str,
    seeds: Sequence[Seed],
    idf: Callable[[str], float],
    params: SubjectParams | None = None,
    spell: Callable[[str], str] = str.title,
) -> Subject:
    """The subject of `topic` from its seeds: the names salient in enough of them (or part of
    the topic itself), weighted by how specific they are; the seeds' stories; their centre.
    `spell` gives a name's key as the articles write it."""
    params = params or SubjectParams()
    if not seeds:
        return Subject()
    topic_words = frozenset(tokenize(topic))
    counts: Counter[str] = Counter()
    for seed in seeds:
        counts.update(seed.names)
    # a name recurs in a share of the seeds, and in two of them at least when there are
    # three or more: one article alone may name its subject's parties once each
    least = 2 if len(seeds) >= 3 else 1
    needed = max(float(least), params.recurring * len(seeds))
    weighted = []
    for key, n in counts.items():
        words = frozenset(tokenize(key))
        in_topic = bool(words) and words <= topic_words
        recurs = 1.0 if in_topic else min(1.0, n / needed)
        weight = recurs * specificity(key, idf, params)
        if weight >= params.min_weight and (in_topic or n >= least):
            weighted.append((not in_topic, -round(weight, 3), key))
    weighted.sort()  # the topic's own names first, then the heaviest
    names = [(spell(key), -w) for _, w, key in weighted[: params.max_names]]
    centre = np.mean(np.vstack([s.vector for s in seeds]), axis=0)
    norm = float(np.linalg.norm(centre))
    return Subject(
        names=tuple(names),
        stories=frozenset(),  # continued: the stories pushed for the follow, not the seeds
        centre=(centre / norm).astype(np.float32) if norm > 0 else None,
    )


@dataclass(frozen=True)
class Evidence:
    """What the decision needs of a (story, follow) pair."""

    story_id: str
    names: frozenset[str]  # the story's salient names
    dense: float  # best cosine of the topic with the story's passages
    focus: float = 0.0  # best cosine of the topic with an article's vector (its passages' mean)
    focus_centre: float = 0.0  # best cosine of the subject's centre with an article's vector
    lead_words: float = 0.0  # share of the topic's words in an article's title and opening
    lead_names: frozenset[str] = frozenset()  # the names of the titles and openings


def article_vectors(articles: Sequence[np.ndarray]) -> np.ndarray:
    """One unit vector per article: the mean of its passages' vectors (rows of each)."""
    means = [np.asarray(a, np.float32).mean(axis=0) for a in articles if len(a)]
    if not means:
        return np.zeros((0, 1), np.float32)
    matrix = np.vstack(means)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def lead_share(terms: frozenset[str], leads: frozenset[str]) -> float:
    """The share of the topic's words in the story's titles and openings."""
    return len(terms & leads) / len(terms) if terms else 0.0


def lead_words_of(title: str, text: str) -> frozenset[str]:
    return frozenset(tokenize(title + " " + text[:LEAD_CHARS]))


def lead_names_of(title: str, text: str) -> frozenset[str]:
    return frozenset(names_in(title) + names_in(text[:LEAD_CHARS]))


def shared_weight(subject: Subject, names: frozenset[str]) -> float:
    return sum(w for key, w in subject.weights().items() if key in names)


def belongs(subject: Subject, evidence: Evidence, params: SubjectParams | None = None) -> bool:
    """Does the story belong to the subject: it continues one of the stories pushed for it;
    or an article of it is about the topic as a whole and says its words where it matters
    (title, opening); or an article of it is close to the subject's seeds as a whole and
    names the subject where it matters. A name or a word said once in a list is not enough,
    nor is one passage of a roundup close to the topic."""
    params = params or SubjectParams()
    if evidence.story_id in subject.stories:
        return True
    if evidence.dense < params.min_dense - 0.2:
        return False
    words = (
        evidence.lead_words >= params.lead_words
        and evidence.focus >= params.min_focus
        and evidence.dense >= params.min_dense
    )
    named = (
        evidence.focus_centre >= params.min_centre
        and shared_weight(subject, evidence.names) >= params.min_shared
    )
    led = sum(1 for key in subject.weights() if key in evidence.lead_names)
    return (
        words or named or (evidence.focus_centre >= params.lead_centre and led >= params.lead_names)
    )
