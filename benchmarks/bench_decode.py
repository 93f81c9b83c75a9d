"""Decode and memorization-probe cost on this machine: KV-cache greedy decode vs a full forward
pass per token, and the occurrence-count hashing rate.

    .venv/bin/python benchmarks/bench_decode.py [--preset palm-small] [--batch 1,32]

Prints, per batch size: compile seconds of ``model_stub.decode.greedy`` (prompt 50, 50 new
tokens, the memorization probe's shape), warm generated tokens/s (best of 3), and the same
generation done without a cache (one jitted full forward over the fixed-length padded sequence
per new token) for comparison; then ``trainer.memorization.window_hashes`` throughput in
tokens/s on 256 rows x 2048 tokens (every 100-token window). Random parameters: the cost does
not depend on what the model learned.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="palm-small")
    p.add_argument("--batch", default="1,32")
    p.add_argument("--prompt", type=int, default=50)
    p.add_argument("--new", type=int, default=50)
    args = p.parse_args()

    import jax
    import jax.numpy as jnp

    from model_stub import decode
    from model_stub.palm import PaLM, get_config, init_params
    from trainer.memorization import window_hashes

    cfg = get_config(args.preset)
    params = init_params(cfg, jax.random.key(0))
    total = args.prompt + args.new
    forward = jax.jit(lambda p, t: PaLM(cfg).apply({"params": p}, t))

    def no_cache(prompts):
        seq = jnp.zeros((prompts.shape[0], total), jnp.int32).at[:, : args.prompt].set(prompts)
        for i in range(args.prompt, total):  # causal: positions after i do not change logits at i
            nxt = jnp.argmax(forward(params, seq)[:, i - 1], axis=-1).astype(jnp.int32)
            seq = seq.at[:, i].set(nxt)
        return seq.block_until_ready()

    print(f"{args.preset}: {jax.devices()[0].device_kind}, prompt {args.prompt}, new {args.new}")
    for b in [int(x) for x in args.batch.split(",")]:
        prompts = jnp.asarray(np.random.default_rng(b).integers(0, cfg.vocab_size, (b, args.prompt)),
                              jnp.int32)
        t = time.perf_counter()
        decode.greedy(params, cfg, prompts, args.new).block_until_ready()
        compile_s = time.perf_counter() - t
        warm = best_of(lambda: decode.greedy(params, cfg, prompts, args.new).block_until_ready())
        no_cache(prompts)  # compile
        slow = best_of(lambda: no_cache(prompts), repeats=2)
        cached = np.asarray(decode.greedy(params, cfg, prompts, args.new))
        same = bool((np.asarray(no_cache(prompts))[:, args.prompt:] == cached).all())
        print(f"batch {b:>3}: compile {compile_s:5.1f} s; KV cache {b * args.new / warm:8.0f} tok/s; "
              f"full forward per token {b * args.new / slow:8.0f} tok/s; same tokens: {same}")

    rows = np.random.default_rng(0).integers(0, 256_000, (256, 2048)).astype(np.int32)
    window_hashes(rows[:2], 100)
    sec = best_of(lambda: window_hashes(rows, 100))
    print(f"window_hashes (100-token windows): {rows.size / sec / 1e6:.1f} M tokens/s "
          f"({rows.size / sec * 4 / 1e6:.0f} MB/s of int32)")


if __name__ == "__main__":
    main()
