"""Sentence vectors of a passage, made in the same pass of the model that embeds the passage.

The model reads a passage once and gives a vector per word piece; the passage vector is their
mean (mean pooling, what all-MiniLM-L6-v2 does), and a sentence's vector is the mean of its own
word pieces' vectors, read in the context of the whole passage ("late chunking"). So an ingest
gets them without another model call, and an answer scores its candidate sentences by meaning
with one dot product each, never embedding a sentence while the reader waits.

They are stored with the passage as one string (`pack`): the sentences' character spans in the
passage text and their unit vectors quantised to int8 (a cosine changes by under 0.01), base64.
Pure functions over plain data.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np

Span = tuple[int, int]  # (start, end) of a sentence in the passage text


def pool_spans(
    token_vectors: np.ndarray, offsets: Sequence[Span], spans: Sequence[Span]
) -> np.ndarray:
    """Unit vectors of `spans`: the mean of the token vectors whose character offsets fall in
    each span (special tokens, offset (0, 0), never do). A span no token falls in (cut off by
    the model's window) gets a zero vector."""
    dimension = token_vectors.shape[1]
    out = np.zeros((len(spans), dimension), dtype=np.float32)
    starts = np.array([o[0] for o in offsets])
    ends = np.array([o[1] for o in offsets])
    real = ends > starts
    for row, (start, end) in enumerate(spans):
        inside = real & (starts >= start) & (ends <= end)
        if inside.any():
            vector = token_vectors[inside].mean(axis=0)
            norm = float(np.linalg.norm(vector))
            if norm > 0:
                out[row] = vector / norm
    return out


def pack(spans: Sequence[Span], vectors: np.ndarray) -> str:
    """`spans` and their unit `vectors` as one string (see the module docstring)."""
    if len(spans) != len(vectors):
        raise ValueError("one vector per span")
    head = ",".join(f"{start}:{end}" for start, end in spans)
    quantised = np.clip(np.rint(np.asarray(vectors) * 127.0), -127, 127).astype(np.int8)
    return f"{head}|{base64.b64encode(quantised.tobytes()).decode('ascii')}"


def unpack(packed: str) -> tuple[list[Span], np.ndarray]:
    """The spans and vectors `pack` wrote; ([], empty) for anything unreadable."""
    try:
        head, _, body = packed.partition("|")
        spans = [
            (int(start), int(end))
            for start, end in (item.split(":") for item in head.split(",") if item)
        ]
        raw = np.frombuffer(base64.b64decode(body), dtype=np.int8)
        if not spans or raw.size % len(spans):
            return [], np.zeros((0, 0), dtype=np.float32)
        return spans, raw.reshape(len(spans), -1).astype(np.float32) / 127.0
    except (ValueError, TypeError):
        return [], np.zeros((0, 0), dtype=np.float32)


def similarities(packed: str | None, query_vector: np.ndarray) -> dict[int, float]:
    """Cosine of each stored sentence with the question's vector, by the sentence's start."""
    if not packed:
        return {}
    spans, vectors = unpack(packed)
    if not spans or vectors.shape[1] != query_vector.shape[0]:
        return {}
    scores = vectors @ np.asarray(query_vector, dtype=np.float32)
    return {start: float(score) for (start, _), score in zip(spans, scores, strict=True)}
