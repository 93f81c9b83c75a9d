"""Peak RSS and CPU seconds of `palmkit corpus` per stage set, on a corpus of
benchmarks/make_scale_corpus.py (docs/benchmarks.md ``## Corpus memory``).

Each run is a fresh process under ``/usr/bin/time -v`` (one DirectRunner worker, the default):
``none`` = read + validate + write, ``near`` = that plus NearDedup alone, ``default`` = every
default stage (``--allow-unknown-license``: the generated code trees carry no licence files).
``--repo`` runs another checkout (its code first on PYTHONPATH, this venv), for before/after::

    python benchmarks/make_scale_corpus.py --mb 100
    nice python benchmarks/bench_corpus_job.py --corpus /tmp/scale/100mb --modes near,default,none

Prints one JSON line per run: peak RSS (MB), RSS / input, user+system CPU seconds, MB per
CPU second. Peak RSS is valid on a loaded machine; CPU seconds rise somewhat under load
(cache contention), wall time is meaningless there and not reported.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

MODES = {"none": ["--stages", "none"],
         "near": ["--stages", "pipelines.clean.near_dedup:NearDedup"],
         "default": ["--allow-unknown-license"]}
LAUNCH = "import sys; from palmkit.cli import main; sys.argv[0] = 'palmkit'; sys.exit(main())"


def input_mb(corpus: str) -> float:
    total = 0
    for dirpath, _, names in os.walk(corpus):
        total += sum(os.path.getsize(os.path.join(dirpath, n)) for n in names if n != "sources.yaml")
    return total / 1e6


def run(repo: str, corpus: str, mode: str, out: str, extra: list[str]) -> dict:
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c", LAUNCH, "corpus", "--sources",
           os.path.join(corpus, "sources.yaml"), "--output", out, "--overwrite", "--quiet",
           *MODES[mode], *extra]
    env = {**os.environ, "PYTHONPATH": os.path.abspath(repo)}
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{mode}: exit {proc.returncode}\n{proc.stderr[-3000:]}")

    def field(name: str) -> float:
        return float(re.search(rf"{name}: ([\d.]+)", proc.stderr).group(1))

    mb = input_mb(corpus)
    cpu = field(r"User time \(seconds\)") + field(r"System time \(seconds\)")
    rss = field(r"Maximum resident set size \(kbytes\)") * 1024 / 1e6  # MB, as the input
    return {"mode": mode, "repo": repo, "input_mb": round(mb, 1), "peak_rss_mb": round(rss),
            "rss_over_input": round(rss / mb, 2), "cpu_s": round(cpu, 1),
            "mb_per_cpu_s": round(mb / cpu, 2)}


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True, help="folder with sources.yaml")
    ap.add_argument("--modes", default="none,near,default")
    ap.add_argument("--repo", default=".", help="checkout whose code runs (default: this one)")
    ap.add_argument("--work", default="/tmp/bench_corpus_job")
    args, extra = ap.parse_known_args(argv)
    rows = []
    for mode in args.modes.split(","):
        row = run(args.repo, args.corpus, mode, os.path.join(args.work, mode), extra)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


if __name__ == "__main__":
    main()
