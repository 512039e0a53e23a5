"""Log lines carry timestamps; NEWSBOT_LOG_FORMAT=json gives one object per line; secrets
never show; `newsbot --version` answers."""

from __future__ import annotations

import json
import logging
import re

import pytest

from bot.cli.main import main
from bot.logs import configure_logging, protect_logs


@pytest.fixture
def restore_root_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_text_lines_start_with_a_timestamp(restore_root_logging, capsys):
    configure_logging("INFO", "text")
    logging.getLogger("newsbot.test").info("ingest done")
    line = capsys.readouterr().err.strip()
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO newsbot\.test: ingest done$", line)


def test_json_lines_parse_and_keep_tracebacks(restore_root_logging, capsys):
    configure_logging("INFO", "json")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("newsbot.test").exception("failed")
    entry = json.loads(capsys.readouterr().err.strip().splitlines()[0])
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "newsbot.test"
    assert entry["message"] == "failed"
    assert entry["time"].endswith("+00:00")
    assert "ValueError: boom" in entry["traceback"]


def test_json_lines_are_redacted_too(restore_root_logging, capsys):
    configure_logging("INFO", "json")
    protect_logs("123:SECRET-token")
    logging.getLogger("telegram").warning("POST /bot123:SECRET-token/getMe")
    err = capsys.readouterr().err
    assert "SECRET" not in err
    assert "[redacted]" in json.loads(err.strip())["message"]


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert re.fullmatch(r"newsbot \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)
