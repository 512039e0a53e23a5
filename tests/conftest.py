"""Shared fixtures: a clean environment, a fake encoder, and the heavy real parts built once
per session."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def embedder():
    """The real bundled model, loaded once."""
    from retrieval.embedding import load_embedder

    return load_embedder()


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    """A deterministic bag-of-words encoder: no model, and texts sharing words are close."""
    return HashingEmbedder()
