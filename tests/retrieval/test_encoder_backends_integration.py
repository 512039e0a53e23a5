"""The encoder backends: ONNX vectors agree with torch's, an export is checked and redone, one
that cannot be made falls back to torch, the index follows the vectors, and a question answered
with ONNX never imports torch."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.runtime import Runtime
from bot.settings import Settings
from retrieval.embedding import (
    BUNDLED_MODEL,
    choose_encoder,
    load_encoder,
    resolve_model_path,
)
from retrieval.onnx_encoder import export_problem, source_fingerprint
from tests.conftest import ROOT, SEED

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TEXTS = [
    "Russia plans to hold a conference in Moscow on March 18 to discuss Afghanistan.",
    "The Taliban and the Afghan government met again in Doha; the talks will continue.",
    "Who is invited to Moscow?",
    "x",
    SEED.read_text()[:1500],  # longer than the model's window: cut off the same way
]
SPANS = [[(0, 20), (20, len(text))] for text in TEXTS]
# measured on 200 corpus passages (docs/benchmarks.md): fp32 cosine 1.0000, int8 mean 0.993,
# min 0.973; the bounds leave room for other texts, not for a different model
AGREEMENT = {"onnx": (0.9999, 0.9999), "onnx-int8": (0.98, 0.95)}


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_vectors_agree_with_torch(backend, torch_embedder, encoder_cache, caplog):
    choice = choose_encoder(BUNDLED_MODEL, backend, encoder_cache)
    assert choice.backend == backend, caplog.text
    encoder = load_encoder(choice)
    mean_bound, min_bound = AGREEMENT[backend]

    vectors, sentences = encoder.encode_with_sentences(TEXTS, SPANS)
    expected, expected_sentences = torch_embedder.encode_with_sentences(TEXTS, SPANS)
    cosines = (vectors * expected).sum(axis=1)
    assert cosines.mean() >= mean_bound
    assert cosines.min() >= min_bound
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(encoder.encode(TEXTS), vectors, atol=1e-5)  # one pass, same vectors
    for got, want in zip(sentences, expected_sentences, strict=True):
        both = (np.linalg.norm(got, axis=1) > 0) & (np.linalg.norm(want, axis=1) > 0)
        assert (np.linalg.norm(got, axis=1) > 0).tolist() == both.tolist()
        assert ((got * want).sum(axis=1)[both] >= min_bound).all()

    assert encoder.count_tokens(TEXTS) == torch_embedder.count_tokens(TEXTS)
    assert (encoder.max_tokens, encoder.dimension) == (256, 384)
    assert encoder.encode([]).shape == (0, 384)


def test_a_broken_export_is_found_and_made_again(encoder_cache, tmp_path, caplog):
    good = choose_encoder(BUNDLED_MODEL, "onnx-int8", encoder_cache).export
    assert good is not None
    cache = tmp_path / "cache"
    shutil.copytree(encoder_cache / "onnx", cache / "onnx")  # fp32 beside: only int8 is redone
    folder = good.model_file.parent.relative_to(encoder_cache)
    broken = cache / folder / "model.onnx"
    broken.write_bytes(broken.read_bytes()[:1000])
    fingerprint = source_fingerprint(Path(resolve_model_path(BUNDLED_MODEL)))
    assert export_problem(cache / folder, fingerprint) == "the model file does not match its hash"

    with caplog.at_level(logging.INFO):
        choice = choose_encoder(BUNDLED_MODEL, "onnx-int8", cache)
    assert choice.backend == "onnx-int8"
    assert "does not match its hash); exporting it again" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert export_problem(cache / folder, fingerprint) is None
    assert load_encoder(choice).encode(["Doha talks"]).shape == (1, 384)


def test_an_export_that_cannot_be_made_falls_back_to_torch(tmp_path, caplog):
    cache = tmp_path / "not-a-directory"
    cache.write_text("")  # nothing can be written under it
    with caplog.at_level(logging.WARNING):
        choice = choose_encoder(BUNDLED_MODEL, "onnx-int8", cache)
    assert (choice.backend, choice.export, choice.vectors) == ("torch", None, BUNDLED_MODEL)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1
    assert "onnx-int8 unavailable, using torch" in lines[0]
    assert "encoder cache" in lines[0]


def test_a_model_onnx_cannot_run_falls_back_too(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        choice = choose_encoder("some-org/some-model-on-the-hub", "onnx", tmp_path)
    assert choice.backend == "torch"
    assert "local path" in caplog.text


def test_the_index_follows_the_vectors(encoder_cache, tmp_path):
    def store_name(backend: str, cache: Path = encoder_cache) -> str:
        settings = Settings(data_dir=tmp_path, encoder_backend=backend, encoder_cache=cache)
        return Runtime(settings, eager_model=False).store.name

    torch_name = store_name("torch")
    assert store_name("onnx") == torch_name  # the same vectors: the same index
    assert store_name("onnx-int8") != torch_name
    unwritable = tmp_path / "file"
    unwritable.write_text("")
    assert store_name("onnx-int8", unwritable) == torch_name  # fell back: torch's index


def test_answering_with_onnx_never_imports_torch(encoder_cache, tmp_path):
    script = (
        "import sys\n"
        "from bot.cli.main import main\n"
        f"assert main(['ingest', {str(SEED)!r}]) == 0\n"
        "assert main(['ask', 'Who is invited to Moscow?']) == 0\n"
        "print(sorted({'torch', 'sentence_transformers', 'transformers'} & set(sys.modules)))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "NEWSBOT_DATA_DIR": str(tmp_path / "data"),
        "NEWSBOT_ENCODER_BACKEND": "onnx-int8",
        "NEWSBOT_ENCODER_CACHE": str(encoder_cache),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Moscow" in done.stdout
    assert done.stdout.strip().endswith("[]")
