"""A topic's subject, learned from plain data, and the push decision (pure, no I/O)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np

from bot.follows.matching import Match, MatchParams, accepts
from retrieval.stories.subject import (
    UNSEEN,
    Evidence,
    Seed,
    Subject,
    belongs,
    lead_names_of,
    learn_subject,
    names_in,
    salient_names,
    spelling,
)
from tests.conftest import ROOT

PROCESS = ROOT / "tests" / "fixtures" / "stories" / "serra_valley_process.jsonl"
ARTICLES = [json.loads(line) for line in PROCESS.read_text().splitlines()]
RARE = {"serra", "alva", "alliance", "teresina", "lake", "council", "castell", "mira", "front"}


def idf(word: str) -> float:
    """Rare words (the process's names) are specific; common ones are not."""
    return 6.0 if word in RARE or word == UNSEEN else 1.0


def article(title: str) -> dict:
    return next(a for a in ARTICLES if a["title"] == title)


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=8).astype(np.float32)
    return v / np.linalg.norm(v)


def seeds_of(*titles: str) -> list[Seed]:
    return [
        Seed(f"story-{i}", salient_names(article(t)["title"], article(t)["body"]), unit(i))
        for i, t in enumerate(titles)
    ]


ANNOUNCED = "Serra Valley peace talks to resume in Port Alva on April 20"
INVITED = "Lake Council invites Northern Alliance back to Port Alva"
TRUCE = "Truce extended across the Serra Valley before the second round"


def test_names_are_runs_of_capitalised_words_not_sentence_openers():
    found = names_in(
        "The Lake Council met in Port Alva. Delegates of the Northern Alliance came. "
        "Teresina sent none. Talks ended on Monday, said Mira Castell of Teresina."
    )
    assert {"lake council", "port alva", "northern alliance", "mira castell"} <= set(found)
    assert found["teresina"] == 2  # seen mid-sentence, so its sentence opening counts too
    assert "talks" not in found
    assert "monday" not in found
    assert "delegates" not in found


def test_a_name_said_once_deep_in_a_list_is_not_salient():
    ranking = article("Ten valleys to walk this spring")
    assert "serra valley" in names_in(ranking["body"])
    assert "serra valley" not in salient_names(ranking["title"], ranking["body"])
    walkout = article("Valley Front delegation walks out in Port Alva")
    assert {"valley front", "port alva"} <= salient_names(walkout["title"], walkout["body"])


def test_the_subject_is_the_recurring_specific_names_of_its_seeds():
    subject = learn_subject("Serra Valley peace talks", seeds_of(ANNOUNCED, INVITED, TRUCE), idf)
    keys = set(subject.weights())
    assert {"serra valley", "lake council", "port alva", "northern alliance"} <= keys
    assert "serra valley" in keys  # a name of the topic itself, however often it recurs
    weights = subject.weights()
    assert weights["serra valley"] == 1.0
    assert subject.stories == frozenset()  # only the stories pushed for it are continued
    assert subject.centre is not None
    assert abs(float(np.linalg.norm(subject.centre)) - 1) < 1e-5
    assert "Lake Council" in subject.watching()


def test_no_seeds_no_subject():
    assert learn_subject("Serra Valley peace talks", [], idf) == Subject()


def evidence(title: str, dense: float, **more) -> Evidence:
    a = article(title)
    return Evidence("new", salient_names(a["title"], a["body"]), dense, **more)


def test_a_story_belongs_when_close_and_naming_the_subject_or_continuing_it():
    subject = learn_subject("Serra Valley peace talks", seeds_of(ANNOUNCED, INVITED, TRUCE), idf)
    walkout = "Valley Front delegation walks out in Port Alva"
    assert belongs(subject, evidence(walkout, 0.45, focus_centre=0.9))
    # the same names, but not about what the seeds are about as a whole
    assert not belongs(subject, evidence(walkout, 0.45, focus_centre=0.6))
    # close in meaning (another process's ceasefire talks) without the names
    kessa = "Kessa Highlands ceasefire talks resume in Varno"
    assert not belongs(subject, evidence(kessa, 0.6, focus=0.6, focus_centre=0.9))
    # a ranking that lists the valley once
    assert not belongs(subject, evidence("Ten valleys to walk this spring", 0.45, focus_centre=0.9))
    # a story pushed for the follow: its updates belong whatever they say
    pushed = subject.with_stories(["story-9"])
    ranking = evidence("Ten valleys to walk this spring", 0.0)
    assert belongs(pushed, Evidence("story-9", ranking.names, 0.0))


def test_an_article_naming_several_of_the_subjects_names_in_its_opening_belongs():
    subject = learn_subject("Serra Valley peace talks", seeds_of(ANNOUNCED, INVITED, TRUCE), idf)
    accord = "Port Alva Accord signed at the Old Customs House"
    a = article(accord)
    leads = lead_names_of(a["title"], a["body"])
    assert {"valley front", "lake council", "teresina"} <= leads
    near = Evidence("new", salient_names(a["title"], a["body"]), 0.3, lead_names=leads)
    assert belongs(subject, replace(near, focus_centre=0.7))
    assert not belongs(subject, replace(near, focus_centre=0.5))  # not near the seeds
    assert not belongs(subject, replace(near, focus_centre=0.7, lead_names=frozenset()))


def test_the_topics_words_in_a_title_or_opening_of_an_article_about_it_as_a_whole():
    nothing = Subject()
    lead = {"lead_words": 1.0, "focus": 0.6}
    assert belongs(nothing, evidence("Ten valleys to walk this spring", 0.5, **lead))
    # one passage of a roundup close to the topic, the article as a whole about other things
    assert not belongs(nothing, evidence("Ten valleys to walk this spring", 0.7, lead_words=1.0))
    # about the topic as a whole, its words deep in the text only
    assert not belongs(nothing, evidence("Ten valleys to walk this spring", 0.7, focus=0.7))


def test_an_unknown_subject_keeps_the_words_rule():
    subject = learn_subject("Serra Valley peace talks", seeds_of(ANNOUNCED, INVITED, TRUCE), idf)
    strong = Match(dense=0.7, lexical=1.0)
    listed = evidence("Ten valleys to walk this spring", 0.7)
    assert not accepts(strong, MatchParams(), subject, listed)
    assert accepts(strong, MatchParams(), Subject(), listed)  # nothing learned: words only
    weak = Match(dense=0.2, lexical=0.25)
    assert not accepts(weak, MatchParams(), Subject(), listed)


def test_the_reader_drops_a_name_and_the_subject_survives_a_round_trip():
    subject = learn_subject("Serra Valley peace talks", seeds_of(ANNOUNCED, INVITED, TRUCE), idf)
    dropped = subject.drop("northern alliance")
    assert dropped is not None
    assert "Northern Alliance" not in dropped.watching()
    assert "northern alliance" not in dropped.weights()
    assert subject.drop("Atlantis") is None
    again = Subject.from_json(json.loads(json.dumps(dropped.to_json())), dropped.centre)
    assert again.watching() == dropped.watching()
    assert again.stories == dropped.stories


def test_a_name_is_shown_as_the_articles_write_it():
    assert spelling("port alva", ["talks in PORT ALVA", "talks in Port Alva"]) == "Port Alva"
    assert spelling("nowhere", ["nothing"]) == "Nowhere"


def test_one_seed_gives_its_salient_names():
    subject = learn_subject("Serra Valley peace talks", seeds_of(ANNOUNCED), idf)
    assert {"serra valley", "lake council", "port alva", "northern alliance"} <= set(
        subject.weights()
    )
