"""The terminal's ingest summary (pure)."""

from __future__ import annotations

from bot.cli.render import render_report
from ingest.pipeline import IngestReport


def test_a_quiet_re_ingest_says_what_it_did_not_fetch() -> None:
    text = render_report(IngestReport(unchanged=3, skipped=12, not_modified=2))

    first = text.splitlines()[0]
    assert first.startswith("added 0, updated 0, unchanged 3, removed 0, failed 0")
    assert "skipped 12 feed entries already read" in first
    assert "2 feeds or pages unchanged since the last read (HTTP 304)" in first


def test_a_first_ingest_mentions_neither() -> None:
    text = render_report(IngestReport(added=5))

    assert "skipped" not in text
    assert "304" not in text
