"""Trainer throughput: step time, tokens/s and MFU of `trainer.train.main`, and the data loader's
throughput against what the step consumes.

    nice python benchmarks/bench_trainer.py --preset palm-tiny --steps 30 --batch 8
    nice python benchmarks/bench_trainer.py --preset palm-small --steps 20 --batch 8
    python benchmarks/bench_trainer.py --preset palm-1b --steps 20 --batch 8 --dtype bfloat16  # GPU
    python benchmarks/bench_trainer.py --measure-cpu-flops

Writes random-token shards of the preset's shape to a temporary folder (token values do not change
the step's cost), trains ``--steps`` steps through the real trainer (checkpoint only at the end) and
reports medians over the steps after the first ``--warmup`` (compilation). Results print as a
Markdown table row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def loader_tokens_per_sec(shards: str, *, batch: int, steps: int) -> float:
    from trainer import data

    examples = data.PackedExamples(data.read_spec(shards, verify_checksums=False))
    batches = data.StepBatches(examples, schedule=((0, batch),), skips=(), first_step=1,
                               last_step=steps)
    start = time.perf_counter()
    n = sum(b.tokens.size for b in data.step_iterator(batches, prefetch=2))
    return n / (time.perf_counter() - start)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="palm-tiny")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--dtype", choices=["float32", "bfloat16"])
    p.add_argument("--remat", action="store_true")
    p.add_argument("--peak-flops", type=float, help="per device; default from the device kind")
    p.add_argument("--measure-cpu-flops", action="store_true")
    args = p.parse_args()

    import jax

    from model_stub.palm import get_config
    from tests.shards_fixture import random_tokens, write_shards
    from trainer.metrics import measure_matmul_flops, read_jsonl
    from trainer.train import TrainConfig
    from trainer.train import main as train

    if args.measure_cpu_flops:
        print(f"float32 2048x2048 matmul: {measure_matmul_flops() / 1e9:.1f} GFLOP/s (best of 10)")
        return 0
    cfg = get_config(args.preset)
    overrides = {k: v for k, v in {"dtype": args.dtype, "remat": args.remat or None}.items() if v}
    with tempfile.TemporaryDirectory() as tmp:
        n = args.batch * args.steps
        shards = write_shards(Path(tmp) / "shards", random_tokens(n, cfg.seq_len, vocab_size=cfg.vocab_size),
                              num_shards=2, vocab_size=cfg.vocab_size, eod_id=1)
        loader = loader_tokens_per_sec(shards, batch=args.batch, steps=args.steps)
        result = train(TrainConfig(data=shards, workdir=str(Path(tmp) / "w"), steps=args.steps,
                                   preset=args.preset, model_overrides=overrides,
                                   batch_schedule=((0, args.batch),), checkpoint_every=10**9,
                                   spike_factor=1e9, peak_flops=args.peak_flops, progress=False,
                                   verify_checksums=False))
        rows = read_jsonl(str(Path(tmp) / "w" / "metrics.jsonl"))[args.warmup:]
    tok_s = statistics.median(r["tokens_per_sec"] for r in rows)
    mfu = statistics.median(r["mfu"] for r in rows)
    step_ms = args.batch * cfg.seq_len / tok_s * 1e3
    dev = jax.devices()[0]
    print(f"device: {dev.device_kind} x {jax.device_count()}; flops/token "
          f"{result['flops_per_token']:.3e}; steps measured {len(rows)}")
    print("| preset | batch x seq | step ms | tokens/s | MFU | loader tokens/s | loader / step |")
    print(f"| {args.preset} | {args.batch} x {cfg.seq_len} | {step_ms:.1f} | {tok_s:,.0f} | "
          f"{mfu:.1%} | {loader:,.0f} | {loader / tok_s:.0f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
