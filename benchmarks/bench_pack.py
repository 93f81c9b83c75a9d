"""Benchmark of the pack stage: packing alone, tokenization (wrapper vs raw SentencePiece), and
the whole pack job on the DirectRunner.

    python benchmarks/bench_pack.py --corpus out/demo/corpus --vocab out/demo/vocab.model \
        [--repeat 20] [--workdir /tmp/bench_pack]

Prints a Markdown table for docs/benchmarks.md. The corpus is any `palmkit corpus` output; to
measure at scale, `--repeat` replicates its documents in memory for the packing/tokenize parts.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import time

import numpy as np
import sentencepiece as spm

import tokenizer
from palmkit.corpus_files import clean_files, iter_documents, join, read_corpus_manifest
from pipelines import packing
from pipelines.pack import PackConfig, main as pack_main


def _texts(corpus: str) -> list[str]:
    manifest = read_corpus_manifest(corpus)
    return [text for rels in clean_files(manifest).values() for rel in rels
            for _, _, text in iter_documents(join(corpus, rel))]


def _median(fn, runs: int = 5) -> float:
    """Median seconds of ``runs`` calls after one warm-up call (first-touch page faults and
    caches otherwise dominate; on a shared 2-core box the median is steadier than the min)."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def bench_tokenize(texts: list[str], vocab_path: str) -> dict:
    vocab = tokenizer.load(vocab_path, num_threads=1)
    raw = spm.SentencePieceProcessor(model_file=vocab_path)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    t_raw = _median(lambda: [raw.encode(t) for t in texts])
    t_wrap = _median(lambda: [vocab.encode(t) for t in texts])
    t_batch = _median(lambda: vocab.encode_batch(texts))  # num_threads=1: per-core figure
    return {"MB": mb, "raw sentencepiece encode (MB/s/core)": mb / t_raw,
            "palmkit encode (MB/s/core)": mb / t_wrap,
            "palmkit encode_batch, 1 thread (MB/s/core)": mb / t_batch,
            "wrapper overhead": t_wrap / t_raw - 1}


def bench_packing(docs: list[np.ndarray], seq_len: int, eod: int) -> dict:
    n = sum(len(d) + 1 for d in docs)
    t = _median(lambda: packing.pack(docs, seq_len=seq_len, eod_id=eod))
    return {"tokens": n, "packing alone (M tokens/s/core)": n / t / 1e6}


def bench_job(corpus: str, vocab: str, workdir: str) -> dict:
    out = os.path.join(workdir, "shards")
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    m = pack_main(PackConfig(corpus=corpus, vocab=vocab, output=out, seq_len=2048, num_shards=4))
    dt = time.perf_counter() - t
    tokens = sum(c["tokens_available"] for c in m.counts["components"].values())
    return {"job tokens": tokens, "whole pack job, DirectRunner 1 worker (K tokens/s)":
            tokens / dt / 1e3, "job seconds": dt}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--workdir", default="/tmp/bench_pack")
    args = ap.parse_args()
    texts = _texts(args.corpus)
    vocab = tokenizer.load(args.vocab)
    results = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
               "load average": os.getloadavg()[0]}
    results.update(bench_tokenize(texts, args.vocab))
    docs = [np.asarray(x, np.int32) for x in vocab.encode_batch(texts)] * args.repeat
    results.update(bench_packing(docs, 2048, vocab.eod_id))
    results.update(bench_job(args.corpus, args.vocab, args.workdir))
    results["peak RSS (MB)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| measure | value |\n|---|---|")
    for k, v in results.items():
        print(f"| {k} | {v:,.3f} |" if isinstance(v, float) else f"| {k} | {v} |")


if __name__ == "__main__":
    main()
