"""How long the HTML report's reads of the rejects take, bounded vs reading them all.

    .venv/bin/python benchmarks/bench_report.py --rows 200000 --text-bytes 500

Writes a rejects folder of ``--rows`` rejects (Parquet, 4 files, row groups of 10,000; five
common reasons spread over the files and one rare reason only in the last row group, the worst
case for a filtered ``head``), then times (1) ``Context.reject_examples`` for every reason, (2)
``Context.near_duplicate_clusters``, (3) the whole-table read a report without bounds would do,
and prints peak RSS after each. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import string
import tempfile
import time

import pyarrow as pa
import pyarrow.parquet as pq

from palmkit.records import REJECT_SCHEMA
from palmkit.report.context import Context

COMMON = ("quality", "language", "duplicate", "near_duplicate", "license")
RARE = "invalid_json"  # sorts between the common ones: row-group statistics cannot skip


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_rejects(folder: str, rows: int, text_bytes: int, files: int = 4) -> None:
    os.makedirs(os.path.join(folder, "rejects"), exist_ok=True)
    per_file = rows // files
    rng = random.Random(0)
    words = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))
             for _ in range(5000)]
    for f in range(files):
        n = per_file
        reasons = [COMMON[i % len(COMMON)] for i in range(n)]
        if f == files - 1:
            reasons[-3:] = [RARE] * 3
        ids = [f"r{f}-{i}" for i in range(n)]
        table = pa.Table.from_pydict({
            "id": ids, "component": ["web"] * n, "reason": reasons,
            "detail": [f"web/a.jsonl:{i}: detail" for i in range(n)],
            "source": ["web/a.jsonl"] * n, "record": list(range(n)),
            "text": [" ".join(rng.choices(words, k=text_bytes // 6))[:text_bytes]
                     for _ in range(n)],  # compresses like text, not like one repeated row
            "duplicate_of": [f"keep{i % 97}" for i in range(n)],
            "similarity": [0.95] * n}, schema=REJECT_SCHEMA)
        name = f"part-{f:05d}-of-{files:05d}.parquet"
        pq.write_table(table, os.path.join(folder, "rejects", name), row_group_size=10_000)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--text-bytes", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write_rejects(tmp, args.rows, args.text_bytes)
        size = sum(os.path.getsize(os.path.join(tmp, "rejects", f))
                   for f in os.listdir(os.path.join(tmp, "rejects")))
        print(f"rejects: {args.rows:,} rows, {size / 1e6:,.1f} MB on disk; RSS {_rss_mb():.0f} MB")
        ctx = Context(stats={}, corpus_dir=tmp)
        for reason in COMMON + (RARE,):
            t = time.perf_counter()
            n = len(ctx.reject_examples(reason))
            print(f"reject_examples({reason!r}): {n} rows in {time.perf_counter() - t:.3f} s; "
                  f"peak RSS {_rss_mb():.0f} MB")
        t = time.perf_counter()
        clusters = ctx.near_duplicate_clusters()
        print(f"near_duplicate_clusters: {len(clusters)} clusters in "
              f"{time.perf_counter() - t:.3f} s; peak RSS {_rss_mb():.0f} MB")
        t = time.perf_counter()
        whole = pq.ParquetDataset(os.path.join(tmp, "rejects")).read()
        print(f"whole read (unbounded): {whole.num_rows:,} rows in {time.perf_counter() - t:.3f} s;"
              f" peak RSS {_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
