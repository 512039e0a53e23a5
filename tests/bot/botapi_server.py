"""The loopback Bot API server lives in `devkit/botapi_server.py` (tests and bench share it);
this name stays importable for code and docs that use it."""

from devkit.botapi_server import (
    BOT_ID,
    BOT_USERNAME,
    MAX_TEXT,
    TOKEN,
    Call,
    Failure,
    FakeBotApi,
    entities_for,
)

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "MAX_TEXT",
    "TOKEN",
    "Call",
    "Failure",
    "FakeBotApi",
    "entities_for",
]
