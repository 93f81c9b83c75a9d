"""What a resumed build saves (pipelines/resume.py): CPU seconds of an uninterrupted run, of a
run killed (SIGKILL of its process group) at a share of that run's wall time, and of the
rerun of the same command that resumes it; the resume cache's size; whether the resumed
outputs are byte-identical to the uninterrupted ones (docs/scale.md ``## Builds that resume``).

    python benchmarks/make_scale_corpus.py --mb 30
    python benchmarks/bench_resume.py corpus --sources /tmp/scale/30mb/sources.yaml --kill-at 0.7
    python benchmarks/bench_resume.py pack --corpus OUT --vocab V.model --kill-at 0.7

Prints one JSON line. CPU seconds are user+system of the whole process group (resource
usage of children), which stays meaningful on a loaded machine; wall time does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from pipelines.timings import strip_timings

LAUNCH = [sys.executable, "-m", "palmkit.cli"]


def cpu_of(run) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime), wall


def run_cmd(cmd: list[str], kill_after: float | None = None) -> bool:
    """Run ``cmd``; SIGKILL its process group after ``kill_after`` s. True when killed."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        proc.wait(timeout=kill_after)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def timed(cmd: list[str]) -> float:
    start = time.monotonic()
    run_cmd(cmd)
    return time.monotonic() - start


def digest(root: str) -> str:
    h = hashlib.sha256()
    for dirpath, dirs, files in sorted(os.walk(root)):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            data = open(path, "rb").read()
            if name == "manifest.json":
                data = strip_timings(data)
            h.update(os.path.relpath(path, root).encode() + hashlib.sha256(data).digest())
    return h.hexdigest()


def cache_bytes(root: str) -> int:
    total = 0
    for dirpath, _, files in os.walk(os.path.join(root, ".resume")):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("job", choices=["corpus", "pack"])
    ap.add_argument("--sources")
    ap.add_argument("--corpus")
    ap.add_argument("--vocab")
    ap.add_argument("--kill-at", type=float, default=0.7, help="share of the full run's wall")
    ap.add_argument("--work", default=None)
    args, extra = ap.parse_known_args()
    work = args.work or tempfile.mkdtemp(prefix="bench-resume-")
    if args.job == "corpus":
        base = LAUNCH + ["corpus", "--sources", args.sources, "--allow-unknown-license", "--quiet"]
    else:
        base = LAUNCH + ["pack", "--corpus", args.corpus, "--vocab", args.vocab, "--quiet"]
    base += extra
    full, resumed = os.path.join(work, "full"), os.path.join(work, "resumed")
    cpu_full, wall_full = cpu_of(lambda: timed(base + ["--output", full]))
    share = args.kill_at
    while True:  # a run that finishes before its kill (a less loaded machine): kill earlier
        shutil.rmtree(resumed, ignore_errors=True)
        killed = []
        cpu_killed, _ = cpu_of(lambda: killed.append(run_cmd(base + ["--output", resumed],
                                                             kill_after=wall_full * share)))
        if killed[0] or share < 0.05:
            break
        share /= 2
    cached = cache_bytes(resumed)
    cpu_rerun, _ = cpu_of(lambda: run_cmd(base + ["--output", resumed]))
    print(json.dumps({
        "job": args.job, "killed_at_wall_share": round(share, 3), "killed": killed[0],
        "cpu_s_uninterrupted": round(cpu_full, 1),
        "cpu_s_killed_run": round(cpu_killed, 1), "cpu_s_rerun": round(cpu_rerun, 1),
        "rerun_vs_uninterrupted": round(cpu_rerun / cpu_full, 3),
        "resume_cache_mb": round(cached / 1e6, 1),
        "byte_identical": digest(full) == digest(resumed),
        "command": " ".join(base[2:]), "date": time.strftime("%Y-%m-%d"),
    }))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
