"""Peak RSS and CPU seconds of `palmkit corpus` per stage set, on a corpus of
benchmarks/make_scale_corpus.py (docs/benchmarks.md ``## Corpus memory``).

Each run is a fresh process under ``/usr/bin/time -v`` (one DirectRunner worker, the default):
``none`` = read + validate + write, ``near`` = that plus NearDedup alone, ``default`` = every
default stage (``--allow-unknown-license``: the generated code trees carry no licence files).
``--repo`` runs another checkout (its code first on PYTHONPATH, this venv), for before/after::

    python benchmarks/make_scale_corpus.py --mb 100
    nice python benchmarks/bench_corpus_job.py --corpus /tmp/scale/100mb --modes near,default,none

Prints one JSON line per run: peak RSS (MB), RSS / input, user+system CPU seconds, MB per
CPU second; ``tree_peak_rss_mb`` is the peak of the summed RSS of the process and its children
(sampled every 0.2 s), the figure that counts with ``--direct_num_workers=2
--direct_running_mode=multi_processing`` (passed through after the options). Peak RSS is valid on a loaded machine; CPU seconds rise somewhat under load
(cache contention), wall time is meaningless there and not reported.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time

MODES = {"none": ["--stages", "none"],
         "near": ["--stages", "pipelines.clean.near_dedup:NearDedup"],
         "default": ["--allow-unknown-license"]}
LAUNCH = "import sys; from palmkit.cli import main; sys.argv[0] = 'palmkit'; sys.exit(main())"


def input_mb(corpus: str) -> float:
    total = 0
    for dirpath, _, names in os.walk(corpus):
        total += sum(os.path.getsize(os.path.join(dirpath, n)) for n in names if n != "sources.yaml")
    return total / 1e6


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants now (``/proc``; 0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


class TreeSampler(threading.Thread):
    """Peak of ``tree_rss`` over a run, sampled every ``every`` s: with
    ``--direct_num_workers=N`` the workers are processes, and ``time -v`` reports only the
    largest one, not their sum."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.done = pid, every, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            time.sleep(self.every)


def run(repo: str, corpus: str, mode: str, out: str, extra: list[str]) -> dict:
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c", LAUNCH, "corpus", "--sources",
           os.path.join(corpus, "sources.yaml"), "--output", out, "--overwrite", "--quiet",
           *MODES[mode], *extra]
    env = {**os.environ, "PYTHONPATH": os.path.abspath(repo)}
    proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, stderr = proc.communicate()
    sampler.done.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{mode}: exit {proc.returncode}\n{stderr[-3000:]}")

    def field(name: str) -> float:
        return float(re.search(rf"{name}: ([\d.]+)", stderr).group(1))

    mb = input_mb(corpus)
    cpu = field(r"User time \(seconds\)") + field(r"System time \(seconds\)")
    rss = field(r"Maximum resident set size \(kbytes\)") * 1024 / 1e6  # MB, as the input
    return {"mode": mode, "repo": repo, "input_mb": round(mb, 1), "peak_rss_mb": round(rss),
            "rss_over_input": round(rss / mb, 2),
            "tree_peak_rss_mb": round(sampler.peak / 1e6),
            "tree_over_input": round(sampler.peak / 1e6 / mb, 2), "cpu_s": round(cpu, 1),
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
