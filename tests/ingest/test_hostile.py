"""Hostile files never crash or hang an ingest: each bad one is named with a reason, the good
ones beside it are read, and nothing is logged as unexpected (no traceback on stderr). The same
files through the real `newsbot ingest` process: tests/ingest/test_hostile_cli_integration.py.
How long the big inputs take is measured, not asserted: `python -m bench.hostile`."""

from __future__ import annotations

import itertools
import logging
import random
from pathlib import Path

import pytest

from ingest.article import Article
from ingest.chunking import COUNT_BATCH, chunk_text
from ingest.files import MAX_ARTICLE_CHARS, cap_article, read_path
from retrieval.sentences import split_sentences
from tests.conftest import SEED

GOOD_BODY = "Negotiators met again on Tuesday. They agreed to meet once more in March."


def words(texts: list[str]) -> list[int]:
    return [len(t.split()) for t in texts]


def write_hostile_files(folder: Path) -> Path:
    """Good files (a Markdown article, the seed page, two good JSONL records, a 20 MB line)
    among hostile ones; shared with the CLI test."""
    folder.mkdir(parents=True, exist_ok=True)
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


HOSTILE_FILES = {
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
GOOD_TITLES = [
    "A Very Long Line",
    "North",
    "Russia Plans Afghan Conference To Advance Peace Talks",
    "South",
    "Talks Resume in Geneva Today",
]


@pytest.fixture
def hostile_dir(tmp_path: Path) -> Path:
    return write_hostile_files(tmp_path / "news")


def test_a_directory_of_hostile_files(hostile_dir: Path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    collected = read_path(hostile_dir)

    assert sorted(a.title for a in collected.articles) == GOOD_TITLES
    reasons = {(Path(f.source).name, f.reason) for f in collected.failures}
    assert {name for name, _ in reasons} == HOSTILE_FILES
    assert ("deep.json", "invalid JSON: nested too deeply to read") in reasons
    assert ("empty.md", "file is empty") in reasons
    mixed = sorted(r for name, r in reasons if name == "mixed.jsonl")
    assert len(mixed) == 4  # the four bad lines; the good ones around them are read
    assert any("nested too deeply" in r for r in mixed)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # nothing unexpected
    assert all("unexpected error" not in f.reason for f in collected.failures)
    (long,) = (a for a in collected.articles if a.title == "A Very Long Line")
    assert MAX_ARTICLE_CHARS - 1000 < len(long.body) <= MAX_ARTICLE_CHARS
    assert long.notes[-1].startswith("A Very Long Line: text cut at ")
    assert any(n.endswith("(it has 19,999,999): longer than any article") for n in collected.notes)


def test_cap_article_cuts_at_a_space_or_hard() -> None:
    def article(body: str) -> Article:
        return Article(id="a", title="T", body=body, origin="o", source="s", notes=("n",))

    same, note = cap_article(article("short text"), limit=100)
    assert same == article("short text")
    assert note is None
    cut, note = cap_article(article("word " * 100), limit=52)
    assert cut.body == "word " * 9 + "word"  # 49 characters: at the last space before 52
    assert note == "T: text cut at 49 characters (it has 500): longer than any article"
    assert cut.notes == ("n", note)
    hard, _ = cap_article(article("x" * 5000), limit=2000)
    assert hard.body == "x" * 2000


def test_a_20_mb_line_without_a_sentence_end_chunks_with_linear_work() -> None:
    """The token counter (the model's tokenizer, the costly part) sees each character a bounded
    number of times: about three (the sentence, its words, no re-counting of growing runs)."""
    line = "word " * 4_000_000  # 20 MB, not one sentence end
    seen: list[int] = []

    def counting(texts: list[str]) -> list[int]:
        seen.append(sum(len(t) for t in texts))
        return words(texts)

    chunks = chunk_text(line, count_tokens=counting, budget=256, target=128)

    assert all(c.tokens <= 256 for c in chunks)
    assert chunks[0].start == 0
    assert chunks[-1].end == len(line.rstrip())
    assert sum(seen) <= 3 * len(line)
    assert len(seen) <= 2 + 4_000_000 // COUNT_BATCH + 1  # in batches, never one per word


@pytest.mark.parametrize("unit", [".", "!?", ". a", "…”) ", "Mr. ", "A. "])
def test_sentence_splitting_of_pathological_runs(unit: str) -> None:
    """These took quadratic time with a backtracking regex (20 KB of dots: 8 s); now linear,
    measured by `python -m bench.hostile`. Here: the spans of 2 MB of them are sound."""
    big = unit * (2_000_000 // len(unit))
    spans = split_sentences(big)
    assert all(0 <= s.start < s.end <= len(big) for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


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
