"""Hostile files never crash or hang an ingest: each bad one is named with a reason, the good
ones beside it are read, and nothing is logged as unexpected (no traceback on stderr)."""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path

import pytest

from ingest.chunking import chunk_text
from ingest.files import read_path
from retrieval.sentences import split_sentences
from tests.conftest import SEED

GOOD_BODY = "Negotiators met again on Tuesday. They agreed to meet once more in March."


def words(texts: list[str]) -> list[int]:
    return [len(t.split()) for t in texts]


@pytest.fixture
def hostile_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    rng = random.Random(12)
    (folder / "good.md").write_text(f"# Talks Resume in Geneva Today\n\n{GOOD_BODY}\n")
    (folder / "seed.txt").write_bytes(SEED.read_bytes())
    (folder / "random.txt").write_bytes(rng.randbytes(100_000))
    (folder / "random.json").write_bytes(rng.randbytes(10_000).replace(b"\0", b""))
    (folder / "random.html").write_bytes(rng.randbytes(10_000))
    (folder / "empty.md").write_bytes(b"")
    (folder / "blank.jsonl").write_bytes(b"\n\n  \n")
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (folder / "deep-object.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    (folder / "deep.html").write_text(
        "<html><head><title>A Deep Page About Talks</title></head><body>"
        + "<div>" * 100_000
        + "text " * 30
        + "</div>" * 100_000
        + "</body></html>"
    )
    first, last = (f'{{"title": "{t}", "body": "{GOOD_BODY}"}}' for t in ("North", "South"))
    bad = ["{broken", "[" * 50_000 + "]" * 50_000, '{"title": 3}', "null"]
    (folder / "mixed.jsonl").write_text("\n".join([first, *bad, last]))
    (folder / "longline.md").write_text("# A Very Long Line\n\n" + "word " * 4_000_000 + "\n")
    return folder


def test_a_directory_of_hostile_files(hostile_dir: Path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    collected = read_path(hostile_dir)
    elapsed = time.monotonic() - started

    titles = sorted(a.title for a in collected.articles)
    assert titles == [
        "A Very Long Line",
        "North",
        "Russia Plans Afghan Conference To Advance Peace Talks",
        "South",
        "Talks Resume in Geneva Today",
    ]
    reasons = {(Path(f.source).name, f.reason) for f in collected.failures}
    by_file = {name for name, _ in reasons}
    assert by_file >= {
        "random.txt",
        "random.json",
        "random.html",
        "empty.md",
        "blank.jsonl",
        "deep.json",
        "deep-object.json",
        "deep.html",
        "mixed.jsonl",
    }
    assert ("deep.json", "invalid JSON: nested too deeply to read") in reasons
    assert ("empty.md", "file is empty") in reasons
    mixed = sorted(r for name, r in reasons if name == "mixed.jsonl")
    assert len(mixed) == 4  # the four bad lines; the good ones around them are read
    assert any("nested too deeply" in r for r in mixed)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # nothing unexpected
    assert all("unexpected error" not in f.reason for f in collected.failures)
    assert elapsed < 60


def test_a_20_mb_line_without_a_sentence_end_chunks_in_linear_time() -> None:
    line = "word " * 4_000_000  # 20 MB, not one sentence end
    started = time.monotonic()
    chunks = chunk_text(line, count_tokens=words, budget=256, target=128)
    elapsed = time.monotonic() - started

    assert all(c.tokens <= 256 for c in chunks)
    assert chunks[0].start == 0
    assert chunks[-1].end == len(line.rstrip())
    assert elapsed < 30


@pytest.mark.parametrize("unit", [".", "!?", ". a", "…”) ", "Mr. ", "A. "])
def test_sentence_splitting_is_linear_on_pathological_runs(unit: str) -> None:
    """These took quadratic time with a backtracking regex (20 KB of dots: 8 s)."""
    small, big = unit * (200_000 // len(unit)), unit * (2_000_000 // len(unit))
    started = time.monotonic()
    split_sentences(small)
    t_small = time.monotonic() - started
    started = time.monotonic()
    spans = split_sentences(big)
    t_big = time.monotonic() - started

    assert all(0 <= s.start < s.end <= len(big) for s in spans)
    assert t_big < max(10 * t_small * 3, 0.5)  # ten times the text, about ten times the time


def test_linear_splitting_keeps_sentences_as_they_were() -> None:
    text = (
        'He said "Stop!" Then he left... Really?! Yes. The U.S. envoy met Mr. Smith at 5 p.m. '
        "Talks (in Doha.) End here. No. 2 is next. Wait…… What? “Quoted.” ‘Single.’ [Bracket.] "
        "Done!!! ok. Fine."
    )
    got = [text[s.start : s.end] for s in split_sentences(text)]
    assert got == [
        'He said "Stop!"',
        "Then he left...",
        "Really?!",
        "Yes.",
        "The U.S. envoy met Mr. Smith at 5 p.m. Talks (in Doha.)",
        "End here.",
        "No. 2 is next.",
        "Wait……",
        "What?",
        "“Quoted.”",
        "‘Single.’",
        "[Bracket.]",
        "Done!!! ok.",
        "Fine.",
    ]
