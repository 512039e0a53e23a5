"""Shared fixtures: a clean environment, no network outside integration tests, a fake encoder,
and the heavy real parts built once per session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from ingest.chunking import ChunkingParams
from ingest.netguard import guarded_client
from ingest.pipeline import run_ingest
from ingest.sources import read_source, spec_from_argument
from retrieval.index.chroma import index_name, open_client
from retrieval.index.store import IndexStore
from tests.retrieval.fakes import HashingEmbedder

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "samples" / "000_fea4cf2722b2191c.txt"
SHARED = ROOT.parent / "shared"


def free_port() -> int:
    """A loopback port nobody listens on (for the tests' own servers)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch):
    """A developer's NEWSBOT_/TELEGRAM_ variables or .env never leak into a test."""
    for name in list(os.environ):
        if name.startswith(("NEWSBOT_", "TELEGRAM_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


class NetworkBlockedError(RuntimeError):
    """A test not marked `integration` tried to open a network connection.

    A RuntimeError, not an OSError: code that handles connection failures must not mistake it
    for an unreachable server and carry on.
    """


_NETWORK_FAMILIES = (socket.AF_INET, socket.AF_INET6)


@pytest.fixture(autouse=True)
def no_network(request, monkeypatch):
    """Outside `integration` tests, connecting or binding an IP socket (loopback included)
    fails loudly (the idea of python-telegram-bot's OfflineRequest). Attempts are also
    recorded, so a test whose code swallows the error still fails."""
    attempts: list[str] = []  # what the test tried; a test of the guard itself may clear it
    if request.node.get_closest_marker("integration"):
        yield attempts
        return

    def guard(name: str, original):
        def blocked(sock, address, *args):
            if sock.family not in _NETWORK_FAMILIES:
                return original(sock, address, *args)
            attempts.append(f"{name} {address!r}")
            raise NetworkBlockedError(
                f"{request.node.nodeid} tried to {name} {address!r}: tests without "
                "@pytest.mark.integration get no network; use a fake, or mark the test"
            )

        return blocked

    for name in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, name, guard(name, getattr(socket.socket, name)))

    def resolve(host, *args, **kwargs):  # a name lookup may ask a DNS server: network too
        attempts.append(f"resolve {host!r}")
        raise NetworkBlockedError(
            f"{request.node.nodeid} tried to resolve {host!r}: tests without "
            "@pytest.mark.integration get no network; use a fake, or mark the test"
        )

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    yield attempts
    if attempts:
        pytest.fail(
            "network use in a test not marked integration: " + "; ".join(attempts),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def embedder():
    """The real bundled model, loaded once."""
    from retrieval.embedding import load_embedder

    return load_embedder()


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    """A deterministic bag-of-words encoder: no model, and texts sharing words are close."""
    return HashingEmbedder()


# -- a real Chroma in tmp_path and the real pipeline (integration tests of ingest and store) --


@pytest.fixture
def store(tmp_path):

    return IndexStore(
        open_client(tmp_path / "data"),
        index_name("test-model", 128, 0, 1),
        lock_dir=tmp_path / "data",
        location=str(tmp_path),
    )


@pytest.fixture
def ingest(store, embedder):
    """`ingest(*sources, prune=False)`: the real pipeline into `store`, fetching only from
    loopback test servers."""

    http = guarded_client(allow="127.0.0.1", timeout=2)

    def run(*arguments, prune=False):
        return run_ingest(
            [spec_from_argument(str(a)) for a in arguments],
            read_source=partial(read_source, http=http, max_bytes=10_000_000),
            store=store,
            embedder=embedder,
            params=ChunkingParams(),
            prune=prune,
        )

    yield run
    http.close()


@pytest.fixture
def news_dir(tmp_path):
    """A folder of two articles: the seed (scraped text) and a short Markdown one."""

    folder = tmp_path / "news"
    folder.mkdir()
    shutil.copy(SEED, folder / "seed.txt")
    (folder / "talks.md").write_text(
        "---\ntitle: Doha talks resume\nsource: Peace Wire\ndate: 2021-03-12\n---\n\n"
        "Negotiators for the Afghan government and the Taliban met again in Doha on Friday. "
        "Abdullah Abdullah said the talks would continue next week.\n"
    )
    return folder


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    """`chroma run` (the chromadb package's own server) on loopback `port`, storing under
    `path`; returns once it accepts connections. Started again with the same path and port,
    it serves the same index (the fault tests restart it)."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if chroma is None:
        pytest.fail("the `chroma` CLI (from the chromadb package) is not installed")
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            assert process.poll() is None, "chroma run exited"
            assert time.monotonic() < deadline, "chroma run did not start"
            time.sleep(0.2)


@pytest.fixture
def chroma_server(tmp_path):
    """`chroma run` on loopback; yields (process, port)."""
    port = free_port()
    process = start_chroma(tmp_path / "chroma-server", port)
    yield process, port
    if process.poll() is None:
        process.terminate()
        process.wait(30)


class ChromaServer:
    """A `chroma run` that a test can kill (SIGKILL) and start again on the same port and
    data path: the store going away under a running newsbot and coming back."""

    def __init__(self, path: Path):
        self.path = path
        self.port = free_port()
        self.process = start_chroma(path, self.port)

    @property
    def env(self) -> dict[str, str]:
        """The settings that point newsbot at it."""
        return {"NEWSBOT_CHROMA_HOST": "127.0.0.1", "NEWSBOT_CHROMA_PORT": str(self.port)}

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(30)

    def restart(self) -> None:
        self.process = start_chroma(self.path, self.port)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture
def restartable_chroma(tmp_path):
    """A ChromaServer on loopback, stopped at the end of the test."""
    server = ChromaServer(tmp_path / "chroma-server")
    yield server
    server.stop()
