"""Model benchmarks: train-step throughput/MFU of a small preset, and compile time scan vs unrolled.

    nice python benchmarks/bench_model.py --preset palm-small --batch 8 --steps 10
    nice python benchmarks/bench_model.py --compile palm-8b   # lower+compile grad, scan vs unrolled

Throughput: one jitted step = forward + backward + Adam update on random tokens, timed after one
warm-up (compile) step. MFU uses model_stub.flops (6N + 12LHQT per token) over ``--peak`` FLOP/s
(default: PEAK_FLOPS[--device]; the "cpu" entry is nominal, pass the machine's real peak).

Compile: ``jit(grad(loss)).lower(abstract params, tokens).compile()`` on the default backend with
ShapeDtypeStructs only (no parameter memory), so 8B/540B compile on a laptop; the point is that
nn.scan keeps it flat in n_layers.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from model_stub import flops, palm


def _loss(params, model, tokens):
    logits = model.apply({"params": params}, tokens[:, :-1])
    return optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]).mean()


def throughput(cfg: palm.PaLMConfig, *, batch: int, steps: int, peak: float) -> dict:
    model = palm.PaLM(cfg)
    params = palm.init_params(cfg, jax.random.key(0))
    opt = optax.adam(1e-3)
    state = opt.init(params)
    tokens = jax.random.randint(jax.random.key(1), (batch, cfg.seq_len + 1), 0, cfg.vocab_size)

    @jax.jit
    def step(params, state):
        loss, grads = jax.value_and_grad(_loss)(params, model, tokens)
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state, loss

    t0 = time.perf_counter()
    params, state, loss = jax.block_until_ready(step(params, state))
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps):
        params, state, loss = step(params, state)
    jax.block_until_ready(loss)
    elapsed = time.perf_counter() - t0
    tps = steps * batch * cfg.seq_len / elapsed
    fpt = flops.flops_per_token(cfg)
    return {"tokens_per_sec": round(tps), "step_s": round(elapsed / steps, 4), "first_step_s": round(compile_s, 2),
            "flops_per_token": fpt, "mfu": round(flops.mfu(tps, fpt, peak), 4), "peak_flops": peak}


def compile_time(cfg: palm.PaLMConfig) -> dict:
    out = {}
    for scan in (True, False):
        c = dataclasses.replace(cfg, scan_layers=scan, dtype="bfloat16", remat=True)
        params = nn.meta.unbox(palm.abstract_params(c))
        tokens = jax.ShapeDtypeStruct((1, c.seq_len + 1), jnp.int32)
        t0 = time.perf_counter()
        lowered = jax.jit(jax.grad(_loss), static_argnums=1).lower(params, palm.PaLM(c), tokens)
        t1 = time.perf_counter()
        lowered.compile()
        t2 = time.perf_counter()
        out["scan" if scan else "unrolled"] = {"lower_s": round(t1 - t0, 2), "compile_s": round(t2 - t1, 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="palm-small")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--device", default="cpu", choices=sorted(flops.PEAK_FLOPS))
    parser.add_argument("--peak", type=float, default=None, help="peak FLOP/s of one device (default: PEAK_FLOPS[--device])")
    parser.add_argument("--compile", metavar="PRESET", default=None, help="time compile, scan vs unrolled")
    args = parser.parse_args()
    if args.compile:
        result = {"preset": args.compile, **compile_time(palm.get_config(args.compile))}
    else:
        cfg = palm.get_config(args.preset, dtype=args.dtype)
        peak = flops.peak_flops_per_chip(args.device, override=args.peak) * jax.device_count()
        result = {"preset": args.preset, "batch": args.batch, "dtype": args.dtype,
                  **throughput(cfg, batch=args.batch, steps=args.steps, peak=peak)}
    result["backend"] = jax.default_backend()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
