"""The trainer's loader (``trainer.data``) on Parquet vs ArrayRecord shards of the same pack.

    python benchmarks/bench_loader.py [--tokens-mb 256] [--seq-len 2048] [--batch 32] \
        [--random 400] [--workdir /tmp/bench_loader]

Builds (or reuses, when WORKDIR/FORMAT/manifest.json exists) one pack twice with ``pipelines.pack_shards.write_shard`` (the pack job's own writers: Parquet
with zstd and 1024-row groups, ArrayRecord with ``group_size:1``) from the same int32 tokens
(Zipf-distributed ids over a 32k vocabulary, so zstd sees roughly the redundancy of real token
ids), then measures, each in a fresh child process so its peak RSS is its own:

* ``sequential``: ``StepBatches`` + ``step_iterator`` (the exact loop ``palmkit train`` runs,
  Grain prefetch on) over every step of a fixed batch: examples/s (wall) and examples per
  CPU-second (all threads: the per-core rate);
* ``random``: ``--random`` random indices through ``PackedExamples[i]`` (the trainer's
  ``__getitem__``: one whole row group / 1024-record group decoded per miss) and, for
  ArrayRecord, through ``grain.sources.ArrayRecordDataSource(files)[i]`` (one record per read,
  what MaxText's Grain pipeline does for its global shuffle).

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

VOCAB = 32_000


def build(directory: str, *, fmt: str, tokens: np.ndarray, num_shards: int) -> str:
    """A pack output folder of ``tokens`` in ``fmt`` (shards + manifest.json)."""
    from palmkit.contracts import PackedDataSpec, packed_shard_name
    from pipelines.pack_shards import write_shard

    os.makedirs(directory, exist_ok=True)
    seq_len = tokens.shape[1]
    parts, outputs = np.array_split(tokens, num_shards), {}
    for i, part in enumerate(parts):
        name = packed_shard_name(i, num_shards, fmt)
        outputs[name] = write_shard(directory, name, part, seq_len=seq_len, eod_id=1,
                                    segment_ids=False, fmt=fmt)
    spec = PackedDataSpec(seq_len=seq_len, vocab_size=VOCAB, vocab_sha256="bench", eod_id=1,
                          seed=0, shards=tuple(outputs), examples_per_shard=tuple(map(len, parts)),
                          format=fmt)
    spec.to_manifest(outputs=outputs, config={"seq_len": seq_len}, inputs={},
                     counts={"tokens_packed": int(tokens.size)}, versions={}).write(directory)
    return directory


def peak_rss_mb() -> float:
    """VmHWM of this process (``ru_maxrss`` would include the parent's peak: it survives exec)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(args) -> dict:
    """One measurement in this process: prints a JSON line."""
    from trainer import data, schedules

    import grain

    spec = data.read_spec(args.data, verify_checksums=False)
    examples = data.PackedExamples(spec)
    source = grain.sources.ArrayRecordDataSource(
        [os.path.join(spec.directory, s) for s in spec.shards]) if args.mode == "random-grain" \
        else None
    if args.mode != "sequential":  # open every shard before the clock starts
        for first in np.cumsum((0,) + spec.examples_per_shard[:-1]):
            (source or examples)[int(first)]
    base_rss = peak_rss_mb()
    cpu0, t0 = time.process_time(), time.perf_counter()
    n = 0
    if args.mode == "sequential":
        steps = len(examples) // args.batch
        batches = data.StepBatches(examples, schedule=((0, args.batch),), skips=(), first_step=1,
                                   last_step=steps)
        for batch in data.step_iterator(batches, prefetch=2):
            n += len(batch.tokens)
            assert batch.tokens.dtype == np.int32
    else:
        idx = np.random.default_rng(0).integers(0, len(examples), args.random)
        if source is not None:
            for i in idx:
                row = np.frombuffer(source[int(i)], "<i4")
                n += row.size == spec.seq_len
        else:
            for i in idx:
                n += examples[int(i)].size == spec.seq_len
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    rss = peak_rss_mb()
    return {"examples": n, "wall_s": wall, "cpu_s": cpu, "per_s": n / wall, "per_cpu_s": n / cpu,
            "peak_rss_mb": rss, "base_rss_mb": base_rss}


def measure(data_dir: str, mode: str, args) -> dict:
    """Median rates and the largest peak RSS of ``args.repeats`` fresh child processes (the
    machine is shared: single runs varied 2x)."""
    cmd = [sys.executable, __file__, "--child", "--data", data_dir, "--mode", mode,
           "--batch", str(args.batch), "--random", str(args.random)]
    runs = []
    for _ in range(args.repeats):
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=dict(
            os.environ, JAX_PLATFORMS="cpu"))
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = {k: float(np.median([r[k] for r in runs])) for k in ("per_s", "per_cpu_s")}
    return {**runs[0], **med, "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "base_rss_mb": max(r["base_rss_mb"] for r in runs)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tokens-mb", type=int, default=256, help="int32 tokens, MB (4 bytes each)")
    p.add_argument("--seq-len", type=int, default=2048)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--random", type=int, default=400, help="random reads per measurement")
    p.add_argument("--shards", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3, help="child runs per row (median)")
    p.add_argument("--workdir", default="/tmp/bench_loader")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--mode", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    n = args.tokens_mb * 2**20 // 4 // args.seq_len
    rng = np.random.default_rng(0)
    tokens = np.minimum(rng.zipf(1.3, (n, args.seq_len)), VOCAB - 1).astype(np.int32)
    dirs = {}
    for fmt in ("parquet", "array_record"):
        t = time.perf_counter()
        if os.path.exists(os.path.join(args.workdir, fmt, "manifest.json")):  # built before
            dirs[fmt] = os.path.join(args.workdir, fmt)
            continue
        dirs[fmt] = build(os.path.join(args.workdir, fmt), fmt=fmt, tokens=tokens,
                          num_shards=args.shards)
        size = sum(os.path.getsize(os.path.join(dirs[fmt], f)) for f in os.listdir(dirs[fmt]))
        print(f"{fmt}: {n} examples x {args.seq_len} in {size / 2**20:.0f} MiB on disk, "
              f"written in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    del tokens
    rows = []
    for fmt, mode in (("parquet", "sequential"), ("array_record", "sequential"),
                      ("parquet", "random"), ("array_record", "random"),
                      ("array_record", "random-grain")):
        r = measure(dirs[fmt], mode, args)
        reader = "grain ArrayRecordDataSource[i]" if mode == "random-grain" else \
            ("PackedExamples[i]" if mode.startswith("random") else "StepBatches + step_iterator")
        rows.append(f"| {fmt} | {mode.split('-')[0]} | {reader} | {r['examples']} | "
                    f"{r['per_s']:,.0f} | {r['per_cpu_s']:,.0f} | {r['peak_rss_mb']:.0f} "
                    f"({r['base_rss_mb']:.0f}) |")
        print(rows[-1], file=sys.stderr)
    print(f"{n} examples of {args.seq_len} tokens ({args.tokens_mb} MB int32), {args.shards} shards, "
          f"batch {args.batch}; median of {args.repeats} runs; {platform.python_version()}, "
          f"{os.cpu_count()} cores\n")
    print("| format | access | reader | examples | examples/s (wall) | examples/CPU-s | peak RSS MB (after imports) |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
