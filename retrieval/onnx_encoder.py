"""The sentence-transformers model run by ONNX Runtime: exported once, then used without torch.

`ensure_export` writes the model's transformer as ONNX (fp32, or int8 by dynamic quantization of
its matrix products) into a cache directory, once per model, variant and cache, and checks it
every time it is used: a manifest names the source model's fingerprint and the file's sha256,
and anything that does not match is exported again. The export needs torch, transformers and
onnx; `OnnxEncoder` needs only onnxruntime, tokenizers and numpy, so a process that answers
questions never imports torch. Pooling (mean or CLS, as the model's own config says) and
normalisation are done here, in numpy, as sentence-transformers does them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.sentence_vectors import Span, pool_spans

logger = logging.getLogger(__name__)

EXPORT_FORMAT = 1  # bump when the export recipe changes: older exports are then redone
MANIFEST = "manifest.json"
VARIANTS = ("fp32", "int8")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class ExportError(Exception):
    """The model cannot be exported to, or run by, ONNX Runtime (the caller falls back)."""


@dataclass(frozen=True)
class OnnxExport:
    """A checked export: the .onnx file and what running it needs from the source model."""

    model_file: Path
    source: Path  # the sentence-transformers folder (its tokenizer.json)
    max_tokens: int
    pooling: str  # "mean" or "cls"


def read_model_config(source: Path) -> tuple[int, str]:
    """(max_tokens, pooling) of a sentence-transformers folder this module can run: a
    transformer, mean or CLS pooling and optionally a Normalize module, with a tokenizer.json."""
    try:
        modules = json.loads((source / "modules.json").read_text())
        kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling_config = json.loads((source / pooling_dir / "config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise ExportError(f"{source} is not a sentence-transformers folder ({exc})") from exc
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
        raise ExportError(f"modules {kinds} of {source}: only Transformer, Pooling, Normalize")
    if pooling_config.get("pooling_mode_mean_tokens"):
        pooling = "mean"
    elif pooling_config.get("pooling_mode_cls_token"):
        pooling = "cls"
    else:
        raise ExportError(f"pooling of {source} is neither mean nor CLS")
    if not (source / "tokenizer.json").is_file():
        raise ExportError(f"{source} has no tokenizer.json")
    try:
        bert_config = json.loads((source / "sentence_bert_config.json").read_text())
        max_tokens = int(bert_config["max_seq_length"])
    except (OSError, ValueError, KeyError) as exc:
        raise ExportError(f"{source} states no max_seq_length ({exc})") from exc
    return max_tokens, pooling


def source_fingerprint(source: Path) -> str:
    """What identifies the source model: its small files' contents, its weights' sizes and
    times (hashing hundreds of MB at every start would cost more than it guards)."""
    digest = hashlib.sha256(f"format {EXPORT_FORMAT}".encode())
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(source)).encode())
        stat = path.stat()
        if stat.st_size > 1_000_000:
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        else:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_export(source: Path, variant: str, cache_dir: Path) -> OnnxExport:
    """The checked export of `source` as `variant` under `cache_dir`, made now if it is
    missing or does not match; ExportError when it cannot be made."""
    if variant not in VARIANTS:
        raise ExportError(f"unknown ONNX variant {variant!r}")
    max_tokens, pooling = read_model_config(source)
    fingerprint = source_fingerprint(source)
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", source.name).strip("-").lower()[:40] or "model"
    folder = cache_dir / "onnx" / f"{slug}-{fingerprint[:16]}-{variant}"
    export = OnnxExport(folder / "model.onnx", source, max_tokens, pooling)
    problem = export_problem(folder, fingerprint)
    if problem is None:
        return export
    if problem != "missing":  # a warning only if it cannot be redone (the caller's one line)
        logger.info("ONNX export %s unusable (%s); exporting it again", folder, problem)
    base = ensure_export(source, "fp32", cache_dir).model_file if variant == "int8" else None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    except OSError as exc:
        raise ExportError(f"cannot write to the encoder cache {cache_dir} ({exc})") from exc
    try:
        if base is None:
            export_fp32(source, staging / "model.onnx")
        else:
            quantize_int8(base, staging / "model.onnx")
        manifest = {
            "format": EXPORT_FORMAT,
            "source": str(source),
            "source_fingerprint": fingerprint,
            "variant": variant,
            "sha256": file_sha256(staging / "model.onnx"),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1))
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
    except Exception as exc:
        if export_problem(folder, fingerprint) is None:  # another process finished it first
            return export
        reason = f"{type(exc).__name__}: {exc}" + ("" if problem == "missing" else f"; {problem}")
        raise ExportError(f"cannot export {source.name} to ONNX ({reason})") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return export


def export_problem(folder: Path, fingerprint: str) -> str | None:
    """Why the export in `folder` cannot be used, or None when its manifest and file match."""
    if not (folder / MANIFEST).is_file():
        return "missing"
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        return f"unreadable manifest: {exc}"
    if manifest.get("format") != EXPORT_FORMAT:
        return "an older export format"
    if manifest.get("source_fingerprint") != fingerprint:
        return "made from other model files"
    try:
        actual = file_sha256(folder / "model.onnx")
    except OSError as exc:
        return f"unreadable model file: {exc}"
    return None if actual == manifest.get("sha256") else "the model file does not match its hash"


def export_fp32(source: Path, target: Path) -> None:
    """The transformer of `source` as ONNX, its last hidden state the output (torch's
    TorchScript exporter: no extra packages beyond `onnx`)."""
    import torch
    from transformers import AutoModel

    class HiddenStates(torch.nn.Module):
        """The transformer called by keyword (its forward takes more positional arguments)."""

        def __init__(self, model: Any):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = AutoModel.from_pretrained(str(source), local_files_only=True).eval()
    example = torch.tensor([[101, 2023, 2003, 102], [101, 2023, 102, 0]])
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on opsets and deprecations
        torch.onnx.export(
            HiddenStates(model),
            (example, (example > 0).long(), torch.zeros_like(example)),
            str(target),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


class _DropRootWarnings(logging.Filter):
    """onnxruntime's quantizer advises on the root logger; that advice is not for our users."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.WARNING


def quantize_int8(base: Path, target: Path) -> None:
    """Dynamic int8 quantization of the matrix products, weights per channel: measured
    closest to the fp32 vectors of the variants tried (bench/encoder.py, docs/benchmarks.md)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    quiet = _DropRootWarnings()
    root.addFilter(quiet)
    try:
        quantize_dynamic(
            str(base),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
    finally:
        root.removeFilter(quiet)


def usable_threads() -> int:
    """The cores this process may run on (the intra-op threads of a model call)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class OnnxEncoder:
    """An exported model with the interface of `retrieval.embedding.Embedder`."""

    def __init__(self, name: str, export: OnnxExport, *, vectors: str, batch_size: int = 32):
        import onnxruntime
        from tokenizers import Tokenizer

        self.name = name
        self.vectors = vectors  # the index identity these vectors belong to
        self.batch_size = batch_size
        self._pooling = export.pooling
        self._max_tokens = export.max_tokens
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = usable_threads()
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(export.model_file), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._counter = Tokenizer.from_file(str(export.source / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._reader = Tokenizer.from_file(str(export.source / "tokenizer.json"))
        self._reader.enable_truncation(self._max_tokens)
        self._reader.no_padding()
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces of each text, without the special tokens the model adds."""
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(texts, add_special_tokens=False)]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        vectors, _ = self._run(texts, None)
        return vectors

    def encode_with_sentences(
        self, texts: list[str], spans: list[list[Span]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode(texts)` and, from the same pass, the unit vectors of the sentences at
        `spans` (retrieval.sentence_vectors)."""
        vectors, sentences = self._run(texts, spans)
        return vectors, sentences or []

    def _run(
        self, texts: list[str], spans: list[list[Span]] | None
    ) -> tuple[np.ndarray, list[np.ndarray] | None]:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        sentences: list[np.ndarray] = [np.zeros((0, self.dimension), np.float32)] * len(texts)
        # longest first, as sentence-transformers batches: little padding in each batch
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            encodings = self._reader.encode_batch([texts[i] for i in rows])
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, encoding in enumerate(encodings):
                ids[row, : len(encoding.ids)] = encoding.ids
                mask[row, : len(encoding.ids)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
            tokens = np.asarray(hidden[0], dtype=np.float32)
            if self._pooling == "cls":
                pooled = tokens[:, 0]
            else:
                weights = mask[..., None].astype(np.float32)
                pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            vectors[rows] = pooled / norms
            if spans is not None:
                for row, (index, encoding) in enumerate(zip(rows, encodings, strict=True)):
                    real = tokens[row, : len(encoding.ids)]
                    sentences[index] = pool_spans(real, encoding.offsets, spans[index])
        return vectors, (sentences if spans is not None else None)
