"""Ingest throughput: the whole `newsbot ingest` process against the bare encoder, same text.

Both sides are separate processes timed from start to exit, so both pay the same start-up
(interpreter, torch and sentence-transformers imports, model load):

- pipeline: `newsbot ingest SOURCES --json` into a fresh NEWSBOT_DATA_DIR (imports, model load,
  reading, chunking, embedding, Chroma writes);
- bare encoder: a process that loads the same model and makes one `encode` call over exactly
  the texts the pipeline embeds (rebuilt here beforehand with `to_passages`, title prefix
  included, deduplicated as the pipeline does).

Throughput is embedded passages per second; the ratio is pipeline / bare (target >= 0.85). Also
timed: a second `newsbot ingest` of the same sources into the same data dir (it should report
every article unchanged and embed nothing), as a fraction of the first run.

Run from the repository root, as a module (a script named `ingest.py` would shadow the
`ingest` package):

    python -m bench.ingest [SOURCE ...] [--limit N] [--repeat R]

Defaults: ../shared/seed and ../shared/data/multihop-rag/corpus.json (610 articles; one
pipeline run takes 5-10 minutes on 2 busy cores). `--limit N` keeps the first N records of
each JSON corpus (written to a temp file) for quick runs. `--repeat R` alternates R runs of
each side and reports medians.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.settings import Settings
from retrieval.embedding import choose_encoder, load_encoder

DEFAULT_SOURCES = ["../shared/seed", "../shared/data/multihop-rag/corpus.json"]


# -- the bare-encoder process ---------------------------------------------------------------


def bare_worker(texts_file: Path) -> None:
    """Load the model (on the configured backend, as the pipeline's), encode every text in one
    call, print timings as JSON."""
    started = time.perf_counter()
    s = Settings()
    model = load_encoder(choose_encoder(s.embedding_model, s.encoder_backend, s.encoder_cache_dir))
    texts = json.loads(texts_file.read_text(encoding="utf-8"))
    loaded = time.perf_counter()
    vectors = model.encode(texts)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "texts": len(texts),
                "rows": int(vectors.shape[0]),
                "startup_seconds": loaded - started,  # model load + reading the texts
                "encode_seconds": done - loaded,
            }
        )
    )


# -- the parent: rebuild the embedded texts, run both sides ---------------------------------


def embedded_texts(sources: list[str]) -> tuple[list[str], int, int]:
    """The texts a fresh `newsbot ingest SOURCES` embeds, in the pipeline's order; with the
    number of articles and of passages."""
    # Imported here, not at the top: the bare-encoder process runs this module too and must
    # not pay for what only the pipeline needs (chromadb comes in through ingest.pipeline).
    from bot.runtime import Runtime, chunking_params
    from ingest.pipeline import to_passages
    from ingest.sources import read_source, spec_from_argument

    settings = Settings()
    model = Runtime(settings).model
    params = chunking_params(settings)
    seen: set[str] = set()
    texts_by_hash: dict[str, str] = {}
    passages = 0
    for source in sources:
        result = read_source(spec_from_argument(source))
        for failure in result.failures:
            print(f"warning: {failure.source}: {failure.reason}", file=sys.stderr)
        for article in result.articles:
            if article.id in seen:  # as plan_changes: the first one wins
                continue
            seen.add(article.id)
            article_passages, texts = to_passages(
                article, model.count_tokens, window=model.max_tokens, params=params
            )
            passages += len(article_passages)
            for passage, text in zip(article_passages, texts, strict=True):
                texts_by_hash.setdefault(passage.text_hash, text)
    return list(texts_by_hash.values()), len(seen), passages


def limited_sources(sources: list[str], limit: int | None, workdir: Path) -> list[str]:
    """Each JSON corpus cut to its first `limit` records, written under `workdir`."""
    if limit is None:
        return sources
    out = []
    for n, source in enumerate(sources):
        path = Path(source)
        if path.suffix == ".json" and path.is_file():
            records = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(records, dict):
                records = records.get("articles", [])
            digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
            cut = workdir / f"{n}-{digest}-{path.stem}-first{limit}.json"
            cut.write_text(json.dumps(records[:limit], ensure_ascii=False), encoding="utf-8")
            out.append(str(cut))
        else:
            out.append(source)
    return out


def child_env(data_dir: Path, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(
        NEWSBOT_DATA_DIR=str(data_dir),
        NEWSBOT_SOURCES=str(workdir / "none.toml"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def newsbot_command() -> list[str]:
    script = Path(sys.executable).parent / "newsbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds (user + system) of the process, and its last JSON line."""
    cpu = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - started
    cpu = _children_cpu() - cpu
    if result.returncode not in (0, 1):  # 1: some source failed, still a full run
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return seconds, cpu, json.loads(result.stdout.strip().splitlines()[-1])


def run_pipeline(sources: list[str], workdir: Path, run: int) -> dict:
    data_dir = workdir / f"data-{run}"
    env = child_env(data_dir, workdir)
    first_s, first_cpu, first = timed([*newsbot_command(), "ingest", *sources, "--json"], env)
    again_s, _, again = timed([*newsbot_command(), "ingest", *sources, "--json"], env)
    shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "seconds": first_s,
        "cpu": first_cpu,
        "report": first,
        "rerun_seconds": again_s,
        "rerun": again,
    }


def run_bare(texts_file: Path, workdir: Path) -> dict:
    env = child_env(workdir / "unused", workdir)
    command = [sys.executable, "-m", "bench.ingest", "--bare-worker", str(texts_file)]
    seconds, cpu, report = timed(command, env)
    return {"seconds": seconds, "cpu": cpu, "report": report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", default=DEFAULT_SOURCES)
    parser.add_argument("--limit", type=int, help="first N records of each JSON corpus")
    parser.add_argument("--repeat", type=int, default=1, help="alternating runs of each side")
    parser.add_argument("--bare-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_worker:
        bare_worker(args.bare_worker)
        return

    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        workdir = Path(tmp)
        sources = limited_sources(args.sources, args.limit, workdir)
        texts, articles, passages = embedded_texts(sources)
        texts_file = workdir / "texts.json"
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        words = sum(len(t.split()) for t in texts)
        print(
            f"sources: {' '.join(args.sources)}"
            + (f" (--limit {args.limit})" if args.limit else "")
        )
        print(
            f"{articles} articles, {passages} passages, {len(texts)} distinct texts to embed "
            f"({words} words); {os.cpu_count()} CPUs; python {sys.version.split()[0]}"
        )
        pipe_runs, bare_runs = [], []
        for run in range(args.repeat):
            # Alternate which side goes first, so drift in machine load hits both alike.
            order = ("pipeline", "bare") if run % 2 == 0 else ("bare", "pipeline")
            for side in order:
                if side == "pipeline":
                    pipe_runs.append(run_pipeline(sources, workdir, run))
                    r = pipe_runs[-1]
                    print(
                        f"run {run + 1}: pipeline {r['seconds']:.1f} s, CPU {r['cpu']:.1f} s "
                        f"(in-process ingest {r['report']['seconds']:.1f} s), "
                        f"re-run {r['rerun_seconds']:.1f} s; load average {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
                else:
                    bare_runs.append(run_bare(texts_file, workdir))
                    r = bare_runs[-1]
                    print(
                        f"run {run + 1}: bare {r['seconds']:.1f} s, CPU {r['cpu']:.1f} s "
                        f"(encode {r['report']['encode_seconds']:.1f} s); "
                        f"load average {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
        report(pipe_runs, bare_runs, len(texts))


def report(pipe_runs: list[dict], bare_runs: list[dict], texts: int) -> None:
    med = statistics.median
    embedded = pipe_runs[0]["report"]["embedded"]
    if embedded != texts:
        print(f"warning: the pipeline embedded {embedded} texts, the bare run {texts}")
    pipe_s = med(r["seconds"] for r in pipe_runs)
    bare_s = med(r["seconds"] for r in bare_runs)
    pipe_inproc = med(r["report"]["seconds"] for r in pipe_runs)
    bare_startup = med(r["report"]["startup_seconds"] for r in bare_runs)
    bare_encode = med(r["report"]["encode_seconds"] for r in bare_runs)
    rerun_s = med(r["rerun_seconds"] for r in pipe_runs)
    n = len(pipe_runs)
    print()
    print(
        f"{'median of ' + str(n) + ' run(s)':<24} {'passages':>9} {'seconds':>9} {'passages/s':>11}"
    )
    print(f"{'newsbot ingest':<24} {embedded:>9} {pipe_s:>9.1f} {embedded / pipe_s:>11.2f}")
    print(f"{'bare encoder':<24} {texts:>9} {bare_s:>9.1f} {texts / bare_s:>11.2f}")
    ratio = (embedded / pipe_s) / (texts / bare_s)
    print(f"ratio (pipeline / bare throughput): {ratio:.3f}  (target >= 0.85)")
    pipe_cpu = med(r["cpu"] for r in pipe_runs)
    bare_cpu = med(r["cpu"] for r in bare_runs)
    print(
        f"CPU seconds (user + system; less sensitive to other load): pipeline {pipe_cpu:.1f}, "
        f"bare {bare_cpu:.1f}, ratio bare / pipeline {bare_cpu / pipe_cpu:.3f}"
    )
    if n > 1:
        per_run = [
            (p["report"]["embedded"] / p["seconds"]) / (texts / b["seconds"])
            for p, b in zip(pipe_runs, bare_runs, strict=True)
        ]
        print(f"per-run ratios: {', '.join(f'{x:.3f}' for x in per_run)}")
    print(
        f"breakdown: pipeline outside run_ingest (start-up, imports) {pipe_s - pipe_inproc:.1f} s, "
        f"run_ingest {pipe_inproc:.1f} s (the model loads inside it when loaded lazily); bare "
        f"model load {bare_startup:.1f} s, process total minus encode "
        f"{bare_s - bare_encode:.1f} s, encode {bare_encode:.1f} s; "
        f"pipeline minus bare {pipe_s - bare_s:+.1f} s"
    )
    stages = {
        stage: med(r["report"]["stages"].get(stage, 0.0) for r in pipe_runs)
        for stage in pipe_runs[0]["report"]["stages"]
    }
    print(
        "pipeline stages (median s): "
        + ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in stages.items())
        + f"; its embedding stage / bare encode: {stages.get('embedding', 0) / bare_encode:.3f}"
    )
    again = pipe_runs[0]["rerun"]
    print(
        f"re-run: {rerun_s:.1f} s = {rerun_s / pipe_s:.3f} of the first run (target < 0.05); "
        f"added {again['added']}, updated {again['updated']}, unchanged {again['unchanged']}, "
        f"embedded {again['embedded']}"
    )


if __name__ == "__main__":
    main()
