"""Per-core throughput of the heuristic filters (pipelines/clean/heuristics.py): Gopher's rules,
and with ``--rules`` also Gopher + C4 (``--heuristics-c4``) and Gopher with stopwords-iso lists.

    nice python benchmarks/bench_heuristics.py --docs 6000 --mb 50 [--rules gopher,c4,iso]

Text: bench_clean_text.py's pool (.md/.rst/.txt under site-packages and /usr/share/doc plus the
sample's Wikipedia), cut into log-normal documents (median ~4 KB). One process, one core, the
element function the stage calls (``judge``), language "en" (stop words checked; ``iso`` labels
every third document "de" and "fr" to use those lists). Prints one JSON line per rule set:
docs/s and MB/s over all documents (a rejected one stops at its first broken rule), MB/s over
the kept ones only (every rule evaluated: the worst case per byte), the share of documents each
rule rejected and, with C4, the share that lost lines to each C4 line rule.
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
from pipelines.clean.heuristics import HeuristicsOptions, judge  # noqa: E402

RULE_SETS = {"gopher": HeuristicsOptions(), "c4": HeuristicsOptions(c4=True),
             "iso": HeuristicsOptions(stop_word_lists="iso")}


def _language(i: int, rules: str) -> str:
    return ("en", "de", "fr")[i % 3] if rules == "iso" else "en"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=6000)
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--rules", default="gopher", help=f"comma-separated of {list(RULE_SETS)}")
    args = ap.parse_args(argv)
    docs = make_docs(text_pool(), args.docs, args.mb)
    for rules in args.rules.split(","):
        measure(docs, rules, RULE_SETS[rules])


def measure(docs: list[str], rules: str, o: HeuristicsOptions) -> None:
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    reasons, lines = collections.Counter(), collections.Counter()
    start_cpu, start = time.process_time(), time.perf_counter()
    kept = []
    for i, d in enumerate(docs):
        _, dropped, why = judge(d, _language(i, rules), o)
        reasons[why[0] if why else "kept"] += 1
        lines.update(r for r, n in dropped.items() if n)
        if why is None:
            kept.append((i, d))
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
    # A rejected document stops at its first broken rule; the kept ones pay for every rule.
    kept_mb = sum(len(d.encode("utf-8")) for _, d in kept) / 1e6
    start_cpu = time.process_time()
    for i, d in kept:
        judge(d, _language(i, rules), o)
    kept_cpu = time.process_time() - start_cpu
    print(json.dumps({
        "stage": "heuristics", "rules": rules, "docs": len(docs), "MB": round(mb, 1),
        "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
        "docs_per_s_per_core": round(len(docs) / cpu), "MB_per_s_per_core": round(mb / cpu, 2),
        "kept_docs": len(kept), "kept_MB": round(kept_mb, 1),
        "kept_MB_per_s_per_core": round(kept_mb / kept_cpu, 2) if kept_cpu else None,
        "outcomes": {k: round(v / len(docs), 4) for k, v in reasons.most_common()},
        **({"lines_dropped": {k: round(v / len(docs), 4) for k, v in sorted(lines.items())}}
           if lines else {}),
    }))


if __name__ == "__main__":
    main()
