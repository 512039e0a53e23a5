"""Running the real `newsbot serve` process for the end-to-end tests and the load benchmark.

The process is started as the `newsbot` console script would run it (`bot.cli.main`), from an
empty working directory (no developer `.env`), with a clean environment pointing it at the
loopback Bot API server and an index built by `newsbot ingest`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devkit.botapi_server import TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "samples" / "000_fea4cf2722b2191c.txt"
NEWSBOT = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]
SEED_TITLE = "Russia Plans Afghan Conference To Advance Peace Talks"


def serve_command() -> list[str]:
    """`newsbot serve` as the console script runs it."""
    return [*NEWSBOT, "serve"]


def clean_env(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NEWSBOT_", "TELEGRAM_", "PYTEST_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(values)
    return env


def newsbot(*args: str, data_dir: Path, cwd: Path, timeout: float = 180, **env: str):
    """Run a `newsbot` command to completion."""
    return subprocess.run(
        [*NEWSBOT, *args],
        cwd=cwd,
        env=clean_env(NEWSBOT_DATA_DIR=str(data_dir), **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def build_seed_index(data_dir: Path, cwd: Path) -> None:
    done = newsbot("ingest", str(SEED), data_dir=data_dir, cwd=cwd)
    if done.returncode != 0:
        raise RuntimeError(f"newsbot ingest failed:\n{done.stdout}\n{done.stderr}")


class BotProcess:
    """`newsbot serve` in a subprocess; `stop()` sends SIGTERM and returns the exit code."""

    def __init__(self, api: FakeBotApi, data_dir: Path, workdir: Path, **env: str):
        self.api = api
        self.workdir = workdir
        self.stderr_path = workdir / "serve.stderr"
        self.stdout_path = workdir / "serve.stdout"
        self.env = clean_env(
            **{
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": api.base_url,
                "NEWSBOT_DATA_DIR": str(data_dir),
                "NEWSBOT_LOG_LEVEL": "INFO",
                # the tests' article pages are on loopback, which the bot refuses by default
                "NEWSBOT_FETCH_ALLOW_HOSTS": "127.0.0.1",
                **env,
            }
        )
        self.process: subprocess.Popen | None = None
        self.startup_seconds: float | None = None

    def start(self, timeout: float = 120) -> BotProcess:
        started = time.monotonic()
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.process = subprocess.Popen(
                serve_command(),
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=err,
            )
        webhook = "NEWSBOT_WEBHOOK_URL" in self.env

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"newsbot serve exited early:\n{self.stderr()}")
            if webhook:  # the bot listens before it calls setWebhook
                return self.api.webhook is not None
            commands = self.api.calls_to("setMyCommands")
            return commands and any(c.at > commands[0].at for c in self.api.calls_to("getUpdates"))

        self.api.wait_for(ready, timeout, "the bot to start")
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self, timeout: float = 30) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""
