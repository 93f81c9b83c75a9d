"""datatrove 0.10.1's default MinHash deduplication, for the side-by-side in bench_near_dedup.py.

Runs in its OWN virtual environment (datatrove pins differ from palmkit's); never imported by
palmkit. Set it up once (about 2 minutes; spaCy is needed because datatrove's English word
tokenizer is ``spacy.blank("en")`` and its JSONL reader needs orjson)::

    python3.11 -m venv /tmp/dtvenv
    /tmp/dtvenv/bin/pip install "datatrove[processing]==0.10.1" spacy orjson

Usage (bench_near_dedup.py calls it)::

    /tmp/dtvenv/bin/python benchmarks/datatrove_minhash.py INPUT_DIR WORK_DIR RESULT.json

INPUT_DIR holds JSONL files with ``{"id", "text"}`` rows. The four datatrove steps run one
after another on one task/worker each (signatures, buckets, clusters, filter), with
datatrove's defaults (5-word shingles after its text normalisation, 14 buckets x 8 hashes,
64-bit hashes). RESULT.json records the wall and CPU seconds of each step and, per document,
its cluster id (-1 = none) and whether it was removed.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_step(name: str, pipeline: list, work: str, tasks: int, timings: dict) -> None:
    wall, cpu = time.perf_counter(), cpu_seconds()
    LocalPipelineExecutor(
        pipeline=pipeline, tasks=tasks, workers=1, logging_dir=os.path.join(work, "logs", name)
    ).run()
    timings[name] = {"wall_s": time.perf_counter() - wall, "cpu_s": cpu_seconds() - cpu}


def main(input_dir: str, work: str, result_path: str) -> None:
    config = MinhashConfig()  # datatrove's defaults
    sigs, buckets, clusters = (os.path.join(work, d) for d in ("sigs", "buckets", "clusters"))
    kept_dir, removed_dir = os.path.join(work, "kept"), os.path.join(work, "removed")
    timings: dict[str, dict] = {}
    reader = lambda: JsonlReader(input_dir, id_key="id", text_key="text")  # noqa: E731
    run_step("signatures", [reader(), MinhashDedupSignature(sigs, config=config)], work, 1, timings)
    run_step(
        "buckets",
        [MinhashDedupBuckets(sigs, buckets, config=config)],
        work,
        config.num_buckets,
        timings,
    )
    run_step(
        "clusters", [MinhashDedupCluster(buckets, clusters, config=config, save_cluster_id=True)],
        work, 1, timings,
    )
    run_step(
        "filter",
        [
            reader(),
            MinhashDedupFilter(
                clusters, exclusion_writer=JsonlWriter(removed_dir, compression=None),
                load_cluster_ids=True,
            ),
            JsonlWriter(kept_dir, compression=None),
        ],
        work,
        1,
        timings,
    )
    docs = {}
    for folder, removed in ((kept_dir, False), (removed_dir, True)):
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                for line in f:
                    row = json.loads(line)
                    docs[row["id"]] = [row["metadata"].get("minhash_cluster_id", -1), removed]
    with open(result_path, "w") as f:
        json.dump({"timings": timings, "docs": docs}, f)


if __name__ == "__main__":
    main(*sys.argv[1:4])
