"""Log set-up for every entry point: timestamped lines, or JSON for log collectors, with
secrets blanked wherever they would appear (the bot token is part of Bot API URLs)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RedactingFormatter(logging.Formatter):
    """Wraps a formatter and blanks secrets in whatever it produces."""

    def __init__(self, inner: logging.Formatter | None, secrets: list[str]):
        super().__init__()
        self.inner = inner or logging.Formatter()
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


def configure_logging(level: str, log_format: str = "text") -> None:
    """Root logging to stderr at `level`, as timestamped text or as JSON lines."""
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def protect_logs(secret: str) -> None:
    """Never let `secret` reach a log line; and keep httpx from logging request URLs."""
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    root = logging.getLogger()
    if not root.handlers:
        configure_logging(logging.getLevelName(root.level) if root.level else "WARNING")
    for handler in root.handlers:
        formatter = handler.formatter
        if isinstance(formatter, RedactingFormatter):
            if secret not in formatter.secrets:
                formatter.secrets.append(secret)
        else:
            handler.setFormatter(RedactingFormatter(formatter, [secret]))
