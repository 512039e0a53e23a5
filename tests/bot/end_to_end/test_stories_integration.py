"""Stories across outlets, end to end: the real `newsbot` processes (`ingest`, `ask --json`,
`serve` against the loopback Bot API server), the real model and a real Chroma, over a
hand-made peace process (tests/fixtures/stories/serra_valley.jsonl: 12 articles, 3 weeks,
5 outlets, one wire story carried by three of them, a disputed number, a reversed decision)
mixed into 150 MultiHop-RAG articles when that corpus is on the machine."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from devkit.bot_process import NEWSBOT, SEED, BotProcess, clean_env
from devkit.botapi_server import FakeBotApi
from tests.conftest import ROOT, SHARED

pytestmark = pytest.mark.integration
STORIES = ROOT / "tests" / "fixtures" / "stories" / "serra_valley.jsonl"
MULTIHOP = SHARED / "data" / "multihop-rag" / "corpus.json"
DISTRACTORS = 150

WIRE_Q = "When will the ceasefire monitoring mission deploy in the Serra Valley?"
WIRE_OUTLETS = {"Harbor Gazette", "Plains Courier", "Delta Times"}
OBSERVERS_Q = "How many observers will monitor the Serra Valley ceasefire?"
ALLIANCE_Q = "Will the Northern Alliance take part in the Serra Valley talks?"
STILL_Q = "Is the Northern Alliance still part of the Serra Valley talks?"
MOSCOW_Q = "Who is invited to Moscow?"
QUESTIONS = [WIRE_Q, OBSERVERS_Q, ALLIANCE_Q, STILL_Q, MOSCOW_Q]


def newsbot(*args: str, data_dir: Path, cwd: Path, stdin: str = "", timeout: float = 600):
    """A `newsbot` command run to completion, as the console script runs it."""
    return subprocess.run(
        [*NEWSBOT, *args],
        cwd=cwd,
        env=clean_env(NEWSBOT_DATA_DIR=str(data_dir), NEWSBOT_SOURCES=str(cwd / "none.toml")),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def articles() -> list[dict]:
    return [json.loads(line) for line in STORIES.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """An index built by `newsbot ingest`: the stories, the seed and the distractors."""
    root = tmp_path_factory.mktemp("stories")
    sources = [str(STORIES), str(SEED)]
    if MULTIHOP.exists():
        distractors = json.loads(MULTIHOP.read_text())[:DISTRACTORS]
        (root / "distractors.json").write_text(json.dumps(distractors))
        sources.append(str(root / "distractors.json"))
    done = newsbot("ingest", *sources, "--json", data_dir=root / "data", cwd=root, timeout=900)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["failed"] == []
    assert report["added"] >= len(articles()) + 1
    return root


@pytest.fixture(scope="module")
def answers(workdir) -> dict[str, dict]:
    """`newsbot ask - --json`, one process for every question (one JSON line each)."""
    done = newsbot(
        "ask", "-", "--json", data_dir=workdir / "data", cwd=workdir, stdin="\n".join(QUESTIONS)
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return {line["question"]: line for line in lines}


def cited(answer: dict, n: int) -> dict:
    return next(c for c in answer["citations"] if c["n"] == n)


def test_the_wire_story_is_cited_once_crediting_every_outlet(answers):
    answer = answers[WIRE_Q]
    assert answer["answered"]
    assert "March 10" in answer["answer"]
    assert answer["answer"].count("Continental Press") == 1  # the wire text, not three times
    said, _, further = answer["answer"].partition("See also")
    [citation] = [c for c in answer["citations"] if f"[{c['n']}]" in said]
    for other in answer["citations"]:  # further reading: other articles, never a wire copy
        if other is not citation:
            assert f"[{other['n']}]" in further
            assert other["title"] not in WIRE_TITLES
            assert other["also_in"] == []
    credited = {citation["source"], *(c["source"] for c in citation["also_in"])}
    assert credited == WIRE_OUTLETS
    assert len(citation["also_in"]) == 2
    wire = {a["source"]: a for a in articles() if a.get("attribution")}
    for copy in citation["also_in"]:
        assert copy["title"] == wire[copy["source"]]["title"]
        assert copy["url"] == wire[copy["source"]]["url"]
        assert copy["published_at"].startswith(wire[copy["source"]]["published_at"][:10])


def test_the_disputed_number_shows_both_figures_with_both_outlets(answers):
    answer = answers[OBSERVERS_Q]
    text = answer["answer"]
    assert "Reports differ:" in text
    differ = text[text.index("Reports differ:") :].split("See also")[0]
    assert "34 observers according to Delta Times [" in differ
    assert "28 according to Harbor Gazette [" in differ
    markers = [int(part.split("]")[0]) for part in differ.split("[")[1:]]
    assert {cited(answer, n)["source"] for n in markers} == {"Delta Times", "Harbor Gazette"}
    for n, figure in zip(markers, ("34 observers", "28 observers"), strict=True):
        assert figure in cited(answer, n)["quote"]


def test_the_reversed_decision_leads_with_the_later_report(answers):
    for question in (ALLIANCE_Q, STILL_Q):
        answer = answers[question]
        text = answer["answer"]
        assert text.startswith("Latest, 13 March 2026: The Northern Alliance has withdrawn"), text
        first = cited(answer, 1)
        assert first["source"] == "Plains Courier"
        assert first["title"] == "Northern Alliance pulls out of Serra Valley talks"
        # the earlier acceptance is still told, after it and dated
        assert "Earlier, 9 March 2026: The Northern Alliance will take part" in text
        assert text.index("Earlier") > text.index("withdrawn")
        assert "Northern Ledger" in {c["source"] for c in answer["citations"]}


def test_freshness_gives_the_newest_cited_source_and_the_last_ingest(answers, workdir):
    status = newsbot("status", "--json", data_dir=workdir / "data", cwd=workdir)
    finished = json.loads(status.stdout)["last_ingest"]["finished_at"]
    for question in (WIRE_Q, ALLIANCE_Q):
        answer = answers[question]
        dates = [
            d
            for c in answer["citations"]
            for d in (c["published_at"], *(a["published_at"] for a in c["also_in"]))
        ]
        assert answer["freshness"] == {"newest_cited": max(dates), "index_updated": finished}
    undated = answers[MOSCOW_Q]
    assert undated["freshness"] == {"newest_cited": None, "index_updated": finished}


def test_a_single_undisputed_story_gets_none_of_it(answers):
    answer = answers[MOSCOW_Q]
    assert answer["answered"]
    assert "Pakistan" in answer["answer"]
    assert "Reports differ" not in answer["answer"]
    assert not answer["answer"].startswith("Latest")
    assert all(c["also_in"] == [] for c in answer["citations"])


def test_the_chat_reply_names_every_outlet_once_with_a_freshness_footer(workdir, tmp_path):
    shutil.copytree(workdir / "data", tmp_path / "data")
    with FakeBotApi() as api:
        bot = BotProcess(api, tmp_path / "data", tmp_path).start()
        try:
            reader = api.user("Analyst")
            chat = api.private_chat(reader)
            api.send_text(chat, WIRE_Q, sender=reader)
            reply = api.wait_for(lambda: api.sent_to(chat["id"]), 90, "the answer")[0]
        finally:
            bot.stop()
    html = reply.params["text"]
    carried = [line for line in html.splitlines() if "carried by" in line]
    assert len(carried) == 1
    for outlet in WIRE_OUTLETS:
        assert carried[0].count(outlet) == 1
    assert html.count("Continental Press") == 1
    footer = html.splitlines()[-1]
    assert footer.startswith("<i>newest source ")
    assert "news read " in footer


# -- stories and timelines ---------------------------------------------------------------------

SERRA_TITLES = {a["title"] for a in articles()}
WIRE_TITLES = {a["title"] for a in articles() if a.get("attribution")} or {
    "Truce monitors head for the Serra Valley",
    "Serra Valley: ceasefire mission to deploy next week",
    "Lake Council mission to watch over Serra Valley truce",
}


def run_json(workdir: Path, *args: str) -> dict:
    done = newsbot(*args, "--json", data_dir=workdir / "data", cwd=workdir)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_newsbot_stories_shows_the_wire_story_with_its_outlets(workdir):
    listed = run_json(workdir, "stories")["stories"]
    assert all(
        set(s) == {"id", "title", "articles", "outlets", "first_published", "last_published"}
        for s in listed
    )
    wire = [s for s in listed if set(WIRE_OUTLETS) <= set(s["outlets"])]
    assert len(wire) == 1, wire
    story = wire[0]
    assert story["title"] == "Truce monitors head for the Serra Valley"  # its first article
    assert story["articles"] >= 3
    assert story["first_published"].startswith("2026-03-05")
    # Newest first, by each story's last article.
    lasts = [s["last_published"] or "" for s in listed if s["last_published"]]
    assert lasts == sorted(lasts, reverse=True)
    # --since keeps the stories with an article on or after the day.
    recent = run_json(workdir, "stories", "--since", "2026-03-12")["stories"]
    assert recent
    assert all(s["last_published"] >= "2026-03-12" for s in recent)
    assert story["id"] not in {s["id"] for s in recent}
    bad = newsbot("stories", "--since", "March", data_dir=workdir / "data", cwd=workdir)
    assert bad.returncode == 2
    assert "YYYY-MM-DD" in bad.stderr


def test_newsbot_timeline_lists_the_events_in_order_with_nothing_from_the_distractors(workdir):
    timeline = run_json(workdir, "timeline", "What has happened in the Serra Valley talks?")
    assert timeline["query"] == "What has happened in the Serra Valley talks?"
    entries = timeline["entries"]
    cited = [c["title"] for e in entries for c in e["citations"]]
    assert set(cited) <= SERRA_TITLES  # nothing from the distractors or the seed
    dates = [e["date"] for e in entries]
    assert dates == sorted(dates)
    assert all(e["date"] and e["text"] and e["citations"] for e in entries)
    # The wire copies are one entry citing the three outlets.
    [wire] = [e for e in entries if {c["title"] for c in e["citations"]} & WIRE_TITLES]
    assert {c["source"] for c in wire["citations"]} == WIRE_OUTLETS
    assert wire["date"] == "2026-03-05"
    assert wire["text"].startswith("A ceasefire monitoring mission will deploy")
    # The course of the process: announced, accepted, withdrawn, opened — in that order.
    order = [
        "Mediators announce Serra Valley peace talks in Port Alva",
        "Northern Alliance accepts invitation to Port Alva",
        "Northern Alliance pulls out of Serra Valley talks",
        "Serra Valley talks open without the Northern Alliance",
    ]
    positions = [
        next(i for i, e in enumerate(entries) if e["citations"][0]["title"] == t) for t in order
    ]
    assert positions == sorted(positions)
    assert len(entries) >= 8
    # A date range keeps the events inside it.
    window = run_json(
        workdir, "timeline", "Serra Valley talks", "--since", "2026-03-09", "--until", "2026-03-13"
    )["entries"]
    assert window
    assert all("2026-03-09" <= e["date"] <= "2026-03-13" for e in window)
    # An unrelated topic gets none of the Serra Valley events.
    other = run_json(workdir, "timeline", "timeline of the Moscow conference on Afghanistan")
    assert not {c["title"] for e in other["entries"] for c in e["citations"]} & SERRA_TITLES


def test_timeline_in_telegram_end_to_end(workdir, tmp_path):
    shutil.copytree(workdir / "data", tmp_path / "data")
    with FakeBotApi() as api:
        bot = BotProcess(api, tmp_path / "data", tmp_path).start()
        try:
            reader = api.user("Analyst")
            chat = api.private_chat(reader)
            api.send_text(chat, "/timeline Serra Valley talks", sender=reader)
            first = api.wait_for(lambda: api.sent_to(chat["id"]), 90, "the timeline")
            api.send_text(chat, "What has happened in the Serra Valley talks?", sender=reader)
            api.wait_for(
                lambda: len(api.sent_to(chat["id"])) > len(first), 90, "the routed timeline"
            )
            api.send_text(chat, "/timeline", sender=reader)
            api.wait_for(
                lambda: "/timeline" in api.sent_to(chat["id"])[-1].params["text"], 60, "hint"
            )
        finally:
            bot.stop()
    sent = [call.params["text"] for call in api.sent_to(chat["id"])]
    timeline = sent[: len(first)]
    html = "\n".join(timeline)
    assert timeline[0].startswith("<b>Timeline: Serra Valley talks</b>")
    assert all(call.params.get("parse_mode") == "HTML" for call in api.sent_to(chat["id"]))
    wire_lines = [line for line in html.splitlines() if "A ceasefire monitoring mission" in line]
    assert len(wire_lines) == 1  # the copies folded
    for outlet in WIRE_OUTLETS:
        assert wire_lines[0].count(f">{outlet}</a>") == 1
    days = [
        line.split("</b>")[0].removeprefix("<b>")
        for line in html.splitlines()
        if line.startswith("<b>") and " — " in line
    ]
    assert days[0] == "2 Mar 2026"
    assert "Kabulov" not in html  # nothing from the seed
    assert "Russia" not in html
    routed = "\n".join(sent[len(first) : -1])
    assert "<b>Timeline: What has happened in the Serra Valley talks?</b>" in routed
    assert "Send /timeline and a topic" in sent[-1]
