"""End to end: `newsbot serve` refuses to start with one clear line and exit code 1."""

from __future__ import annotations

import subprocess

import pytest

from devkit.bot_process import clean_env, serve_command
from devkit.botapi_server import FakeBotApi

pytestmark = pytest.mark.integration


def serve(tmp_path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        serve_command(),
        cwd=tmp_path,
        env=clean_env(NEWSBOT_DATA_DIR=str(tmp_path), **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_missing_token(tmp_path):
    done = serve(tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "newsbot: TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather (see README)"
    ]


def test_rejected_token(tmp_path):
    wrong = "42:not-the-token"
    with FakeBotApi() as api:
        done = serve(tmp_path, TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE_URL=api.base_url)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert "rejected TELEGRAM_BOT_TOKEN" in line
    assert wrong not in done.stderr + done.stdout
