"""Benchmark of `palmkit contamination`'s corpus side against a plain in-memory Python set.

    python benchmarks/make_scale_corpus.py --mb 250 --out /tmp/scale/250mb
    python benchmarks/bench_contamination.py --scale /tmp/scale/250mb --examples 10000 \
        [--workdir /tmp/bench_contamination] [--skip-job]

1. Builds a corpus-shaped folder (``clean/<component>/part-*.parquet`` + manifest, no cleaning:
   the cleaning stages are not what is measured) from the scale corpus's sources, ~64 MB of
   text per file.
2. Draws ``--examples`` benchmark-shaped examples (20-40 words): 10% copied from corpus
   documents (contaminated), 90% the same words shuffled (clean, as most benchmark examples).
3. Measures, on one core, the same documents (CPU seconds of this process, ``process_time``:
   on a shared, loaded machine wall time measures the neighbours; MB/s per core = MB / CPU s):
   * ``scan``: the job's per-document corpus side (``Units`` + ``ngrams.hits`` against the
     sorted int64 index behind its one-probe membership filter), in process;
   * ``set``: plain Python, an in-memory ``set`` of the examples' 8-gram tuples and a membership
     test of every corpus 8-gram (the baseline that works while everything fits one machine);
   * ``job``: the whole Beam job on the DirectRunner (one worker), wall time.
   Both in-process methods must find the same contaminated examples (checked).
Prints a Markdown table and a JSON line for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import time

import numpy as np

from palmkit.manifest import Manifest, file_entry
from palmkit.records import Document, documents_to_table
from pipelines import readers
from pipelines.contamination import ngrams
from pipelines.contamination.scan import UnitSpec, Units
from pipelines.sources import load_sources

FILE_BYTES = 64 << 20


def build_corpus(scale: str, out: str) -> list[Document]:
    """The scale corpus's records as a corpus output (every readable document kept)."""
    import pyarrow.parquet as pq

    docs: list[Document] = []
    for item in readers.initial_items(load_sources(os.path.join(scale, "sources.yaml"))):
        for part in readers.plan(item):
            docs += [d for d in readers.read(part, max_doc_bytes=10_000_000)
                     if isinstance(d, Document) and isinstance(d.text, str) and d.text.strip()]
    seen, unique = set(), []
    for d in docs:
        if d.id not in seen:
            seen.add(d.id)
            unique.append(d)
    outputs, counts = {}, {}
    for comp in sorted({d.component for d in unique}):
        mine = sorted((d for d in unique if d.component == comp), key=lambda d: d.id)
        parts, cur, size = [], [], 0
        for d in mine:
            cur.append(d)
            size += d.nbytes
            if size >= FILE_BYTES:
                parts.append(cur)
                cur, size = [], 0
        parts.append(cur)
        os.makedirs(os.path.join(out, "clean", comp), exist_ok=True)
        for i, rows in enumerate(parts):
            rel = f"clean/{comp}/part-{i:05d}-of-{len(parts):05d}.parquet"
            pq.write_table(documents_to_table(rows), os.path.join(out, rel), compression="zstd")
            outputs[rel] = file_entry(os.path.join(out, rel), len(rows))
        counts[comp] = {"read": len(mine), "kept": len(mine), "rejected": {},
                        "kept_bytes": sum(d.nbytes for d in mine)}
    Manifest(stage="corpus", config={"mixture": "palm"}, outputs=outputs, counts=counts).write(out)
    return unique


def make_examples(docs: list[Document], n: int, *, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    prose = [d for d in docs if d.component != "code" and len(d.text.split()) > 60]
    out = []
    for i in range(n):
        words = rng.choice(prose).text.split()
        k = rng.randint(20, 40)
        start = rng.randrange(len(words) - k)
        span = words[start:start + k]
        if i % 10:  # 90%: clean (the same words, shuffled)
            rng.shuffle(span)
        out.append({"id": f"ex{i:06d}", "question": " ".join(span[:-3]),
                    "answer": " ".join(span[-3:])})
    return out


def scan_inprocess(docs, examples, n=8):
    """The job's corpus side on one core: returns (seconds, contaminated ids, index bytes)."""
    units = Units(UnitSpec("words", ngrams.Normalisation()))
    ex_grams = {}
    for e in examples:
        g, _ = ngrams.example_grams(units(e["question"] + "\n" + e["answer"]), n)
        ex_grams[e["id"]] = g
    index = np.unique(np.concatenate(list(ex_grams.values())))
    bits = ngrams.membership_filter(index)
    start = time.process_time()
    found = set()
    for d in docs:
        found.update(ngrams.hits(units(d.text), [n], index, bits).tolist())
    seconds = time.process_time() - start
    bad = {i for i, g in ex_grams.items()
           if ngrams.contaminated(sum(h in found for h in g.tolist()), len(g), 0.7)}
    return seconds, bad, index.nbytes + bits.nbytes, len(found)


def set_inprocess(docs, examples, n=8):
    """Plain Python: a set of the examples' 8-gram tuples, every corpus 8-gram looked up."""
    ex_grams = {}
    for e in examples:
        w = ngrams.words(e["question"] + "\n" + e["answer"])
        ex_grams[e["id"]] = {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}
    wanted = set().union(*ex_grams.values())
    start = time.process_time()
    found = set()
    for d in docs:
        w = ngrams.words(d.text)
        for i in range(len(w) - n + 1):
            g = tuple(w[i:i + n])
            if g in wanted:
                found.add(g)
    seconds = time.process_time() - start
    bad = {i for i, g in ex_grams.items() if ngrams.contaminated(len(g & found), len(g), 0.7)}
    return seconds, bad, len(wanted)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", required=True, help="folder of make_scale_corpus.py")
    ap.add_argument("--examples", type=int, default=10_000)
    ap.add_argument("--workdir", default="/tmp/bench_contamination")
    ap.add_argument("--skip-job", action="store_true", help="only the in-process measurements")
    args = ap.parse_args(argv)
    shutil.rmtree(args.workdir, ignore_errors=True)
    corpus = os.path.join(args.workdir, "corpus")
    docs = build_corpus(args.scale, corpus)
    mb = sum(d.nbytes for d in docs) / 1e6
    examples = make_examples(docs, args.examples)
    evals = os.path.join(args.workdir, "evals")
    os.makedirs(evals)
    with open(os.path.join(evals, "bench.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(e) + "\n" for e in examples)
    with open(os.path.join(evals, "evals.yaml"), "w") as f:
        f.write("sets:\n  bench: {format: jsonl, path: bench.jsonl, "
                "text_fields: [question, answer]}\n")
    scan_s, scan_bad, index_bytes, hit_grams = scan_inprocess(docs, examples)
    set_s, set_bad, set_grams = set_inprocess(docs, examples)
    assert scan_bad == set_bad, (len(scan_bad), len(set_bad))
    result = {"corpus_mb": round(mb, 1), "documents": len(docs), "examples": len(examples),
              "contaminated": len(scan_bad), "eval_ngrams": set_grams,
              "index_bytes": index_bytes, "distinct_hit_ngrams": hit_grams,
              "scan_mb_s": round(mb / scan_s, 2), "set_mb_s": round(mb / set_s, 2)}
    if not args.skip_job:
        from pipelines.contamination.job import ContaminationConfig, main as job

        start, cpu = time.perf_counter(), time.process_time()
        manifest = job(ContaminationConfig(corpus=corpus, eval_sets=os.path.join(evals,
                                                                                 "evals.yaml"),
                                           output=os.path.join(args.workdir, "out")))
        job_s, job_cpu = time.perf_counter() - start, time.process_time() - cpu
        summary = manifest.extra["summary"]
        assert summary["sets"]["bench"]["contaminated"] == len(scan_bad)
        result.update(job_s=round(job_s, 1), job_cpu_s=round(job_cpu, 1),
                      job_mb_s=round(mb / job_cpu, 2),
                      job_hits=summary["scan"]["hits"],
                      hits_per_gb=summary["scan"]["hits_per_gb"])
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print("| method | MB/s per core | notes |\n|---|---|---|")
    print(f"| job corpus side, in process (`Units` + `ngrams.hits`) | {result['scan_mb_s']} | "
          f"index {index_bytes / 1e6:.1f} MB |")
    print(f"| plain Python set of 8-gram tuples | {result['set_mb_s']} | "
          f"{set_grams:,} eval 8-grams |")
    if "job_mb_s" in result:
        print(f"| whole Beam job, DirectRunner 1 worker | {result['job_mb_s']} | "
              f"{result['job_cpu_s']} CPU s, {result['job_s']} s wall |")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
