"""Shared fixtures: a clean environment, no network outside integration tests, a fake encoder,
and the heavy real parts built once per session."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.retrieval.fakes import HashingEmbedder

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "samples" / "000_fea4cf2722b2191c.txt"
SHARED = ROOT.parent / "shared"


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
