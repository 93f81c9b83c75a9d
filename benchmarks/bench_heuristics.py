"""Per-core throughput of the Gopher heuristic filters (pipelines/clean/heuristics.py).

    nice python benchmarks/bench_heuristics.py --docs 6000 --mb 50

Text: bench_clean_text.py's pool (.md/.rst/.txt under site-packages and /usr/share/doc plus the
sample's Wikipedia), cut into log-normal documents (median ~4 KB). One process, one core, the
element function the stage calls (``heuristic_rejection``), language "en" (stop words checked).
Prints one JSON line: docs/s and MB/s over all documents (a rejected one stops at its first
broken rule), MB/s over the kept ones only (every rule evaluated: the worst case per byte), and
the share of documents each rule rejected.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_clean_text import make_docs, text_pool  # noqa: E402
from pipelines.clean.heuristics import heuristic_rejection  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=6000)
    ap.add_argument("--mb", type=int, default=50)
    args = ap.parse_args(argv)
    docs = make_docs(text_pool(), args.docs, args.mb)
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    reasons = collections.Counter()
    start_cpu, start = time.process_time(), time.perf_counter()
    for d in docs:
        why = heuristic_rejection(d, "en")
        reasons[why[0] if why else "kept"] += 1
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
    # A rejected document stops at its first broken rule; the kept ones pay for every rule.
    kept = [d for d in docs if heuristic_rejection(d, "en") is None]
    kept_mb = sum(len(d.encode("utf-8")) for d in kept) / 1e6
    start_cpu = time.process_time()
    for d in kept:
        heuristic_rejection(d, "en")
    kept_cpu = time.process_time() - start_cpu
    print(json.dumps({
        "stage": "heuristics", "docs": len(docs), "MB": round(mb, 1),
        "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
        "docs_per_s_per_core": round(len(docs) / cpu), "MB_per_s_per_core": round(mb / cpu, 2),
        "kept_docs": len(kept), "kept_MB": round(kept_mb, 1),
        "kept_MB_per_s_per_core": round(kept_mb / kept_cpu, 2) if kept_cpu else None,
        "outcomes": {k: round(v / len(docs), 4) for k, v in reasons.most_common()},
    }))


if __name__ == "__main__":
    main()
