"""`newsbot serve` start-up: settings, refusing to start, and keeping secrets out of logs."""

from __future__ import annotations

import argparse
import logging
import re

import pytest
from pydantic import ValidationError

from bot import logs
from bot.cli.main import build_parser
from bot.settings import ServeSettings, parse_period
from bot.telegram import serve
from devkit.botapi_server import TOKEN


def settings(**values) -> ServeSettings:
    return ServeSettings(_env_file=None, **values)


def test_admin_ids_and_periods_from_the_environment(monkeypatch):
    monkeypatch.setenv("NEWSBOT_ADMIN_IDS", "12, 34 56")
    monkeypatch.setenv("NEWSBOT_REINGEST_EVERY", "6h")
    monkeypatch.setenv("NEWSBOT_ADMIN_CHAT_ID", "")
    monkeypatch.setenv("NEWSBOT_WEBHOOK_URL", "")
    loaded = settings()
    assert loaded.admin_ids == [12, 34, 56]
    assert loaded.reingest_every == 6 * 3600
    assert loaded.admin_chat_id is None
    assert loaded.webhook_url is None


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("30m", 1800), ("1d", 86400), ("", None), ("off", None)]
)
def test_periods(text, seconds):
    assert parse_period(text) == seconds


@pytest.mark.parametrize(
    "values",
    [
        {"NEWSBOT_ADMIN_IDS": "alice"},
        {"NEWSBOT_WEBHOOK_SECRET": "has spaces!"},
        {"NEWSBOT_WEBHOOK_LISTEN": "8443"},
        {"NEWSBOT_REINGEST_EVERY": "weekly"},
    ],
)
def test_bad_settings_are_refused(monkeypatch, values):
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        settings()


def test_missing_token_is_one_clear_line(capsys):
    assert serve.cmd_serve(argparse.Namespace(), settings()) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "TELEGRAM_BOT_TOKEN is not set" in err[0]


@pytest.mark.integration
def test_rejected_token_is_one_clear_line(api, capsys):
    wrong = "999:wrong-token"
    configured = settings(TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE_URL=api.base_url)
    assert serve.cmd_serve(argparse.Namespace(), configured) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "rejected TELEGRAM_BOT_TOKEN" in lines[0]
    assert wrong not in captured.err + captured.out
    assert [c.name for c in api.calls] == ["getme"]


@pytest.mark.integration
def test_unreachable_api_is_one_clear_line(capsys):
    configured = settings(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot")
    assert serve.cmd_serve(argparse.Namespace(), configured) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "cannot reach the Bot API" in lines[0]


def test_logs_never_show_the_token():
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logs.protect_logs(TOKEN)
        logging.getLogger("telegram.Bot").warning("POST https://api/bot%s/getMe", TOKEN)
    finally:
        root.removeHandler(handler)
    assert records
    assert TOKEN not in records[0]
    assert "[redacted]" in records[0]


def test_serve_arguments():
    args = build_parser().parse_args(["serve", "--drop-pending-updates"])
    assert args.drop_pending_updates


@pytest.mark.integration
def test_wrong_base_url_is_one_clear_line(api, capsys):
    configured = settings(
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api.base_url.replace("/bot", "/api/")
    )
    assert serve.cmd_serve(argparse.Namespace(), configured) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "TELEGRAM_API_BASE_URL" in line


def test_fetch_allow_hosts_are_split_and_checked_when_settings_load():
    allowed = ServeSettings(_env_file=None, fetch_allow_hosts="10.0.0.0/8, intranet.local 127.1")
    assert allowed.fetch_allow_hosts == ["10.0.0.0/8", "intranet.local", "127.1"]
    refused = re.escape("'10.0.0.0/33' is not an IP address or CIDR")
    with pytest.raises(ValidationError, match=refused):
        ServeSettings(_env_file=None, fetch_allow_hosts="10.0.0.0/33")
