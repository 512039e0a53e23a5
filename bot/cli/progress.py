"""A rich progress bar on a terminal (stderr), shared by the long-running commands.

Library code reports progress as `(stage, done, total)`; this turns it into one bar per stage.
Off a terminal (pipes, CI, `--json`) it is nothing at all, so output stays machine-readable.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Any


def terminal_progress(enabled: bool, labels: dict[str, str] | None = None, *, transient=False):
    """A context manager giving a `(stage, done, total)` callable, or None off a terminal."""
    if not enabled or not sys.stderr.isatty():
        return nullcontext(None)
    return StageBars(labels or {}, transient=transient)


class StageBars:
    """One rich progress bar per stage on stderr; called as `(stage, done, total)`."""

    def __init__(self, labels: dict[str, str], *, transient: bool):
        self.labels = labels
        self.transient = transient
        self.tasks: dict[str, Any] = {}  # stage -> rich TaskID

    def __enter__(self):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=self.transient,
        )
        self.bar.__enter__()
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(self.labels.get(stage, stage), total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)
