"""Exit codes of every `newsbot` command, and the one way to end with a message."""

from __future__ import annotations

import sys
from enum import IntEnum


class Exit(IntEnum):
    """The command line's exit codes."""

    OK = 0
    FAILED = 1  # something failed: a source, the store, the model, the token
    USAGE = 2  # bad usage or a bad setting
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class UsageError(Exception):
    """Bad usage: the message is printed and the command exits with Exit.USAGE."""


def fail(message: str, code: Exit = Exit.FAILED) -> Exit:
    """Print `newsbot: message` on stderr and return `code` for the command to exit with."""
    print(f"newsbot: {message}", file=sys.stderr)
    return code
