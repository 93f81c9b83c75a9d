"""Whole-job CPU share of each stage of `palmkit corpus`, from the run's own timings
(``manifest.extra["timings"]``, pipelines/timings.py), on a corpus of
benchmarks/make_scale_corpus.py (docs/benchmarks.md ``## Whole-job CPU share per stage``)::

    python benchmarks/make_scale_corpus.py --mb 100
    nice python benchmarks/bench_stage_cpu.py --corpus /tmp/scale/100mb

One fresh process under ``/usr/bin/time -v`` (default stages, one DirectRunner worker unless
Beam flags say otherwise; ``--allow-unknown-license``: the generated code trees carry no
licence files). Prints the stage table as Markdown (CPU s, source of the number, records, MB/s
per core, share of the job's CPU) and one JSON line with the process's own user+system CPU,
the check that the stage seconds add up to it (the rest is the runner: graph, pickling,
shuffles).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

LAUNCH = "import sys; from palmkit.cli import main; sys.argv[0] = 'palmkit'; sys.exit(main())"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True, help="folder with sources.yaml")
    ap.add_argument("--out", default="/tmp/bench_stage_cpu")
    args, extra = ap.parse_known_args(argv)
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c", LAUNCH, "corpus", "--sources",
           os.path.join(args.corpus, "sources.yaml"), "--output", args.out, "--overwrite",
           "--quiet", "--allow-unknown-license", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"exit {proc.returncode}\n{proc.stderr[-3000:]}")

    def field(name: str) -> float:
        return float(re.search(rf"{name}: ([\d.]+)", proc.stderr).group(1))

    process_cpu = field(r"User time \(seconds\)") + field(r"System time \(seconds\)")
    with open(os.path.join(args.out, "manifest.json"), encoding="utf-8") as f:
        t = json.load(f)["extra"]["timings"]
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from pipelines.timings import apportion

    total = min(t["cpu_s"], process_cpu)  # the job's CPU around run(), not the launch
    t["stages"] = apportion(t["stages"], total)  # already done by the job; idempotent
    print("| stage | CPU s | measured by | records | MB/s per core | share of job CPU |")
    print("|---|---:|---|---:|---:|---:|")
    for r in t["stages"]:
        print(f"| {r['stage']} | {r['cpu_s']:.1f} | {r['cpu_source']} | {r['records']:,d} | "
              f"{r['mb_per_s_per_core']:.2f} | {r['cpu_s'] / total:.1%} |")
    rest = total - sum(r["cpu_s"] for r in t["stages"])
    print(f"| (runner: rest of the job) | {rest:.1f} | os.times | | | {rest / total:.1%} |")
    print(f"| **job** (wall {t['wall_s']:.0f} s) | {total:.1f} | os.times | | | 100% |")
    row = {"process_cpu_s": round(process_cpu, 1), "job_cpu_s": total, "wall_s": t["wall_s"],
           "stage_cpu_sum_s": round(sum(r["cpu_s"] for r in t["stages"]), 1)}
    print(json.dumps(row))
    return row


if __name__ == "__main__":
    main()
