"""`palmkit train`: parses flags into a ``TrainConfig`` and calls ``trainer.train.main``.

Only parsing happens here. ``--mesh`` and ``--batch-schedule`` are parsed by ``build_config``
(not by argparse, which would print its usage block first), so a value that does not parse is a
``UserError`` naming the flag; a value out of range is a ``UserError`` from
``TrainConfig.validate``, so ``main(config)`` called from Python gets the same checks. Either way
`palmkit train` exits 2 with one line. A workdir already at or past ``--steps`` prints one line
and exits 0 (a resume loop that re-runs the same command ends cleanly).

Light at import: JAX is imported only by ``run``."""

from __future__ import annotations

import argparse

from palmkit.errors import UserError


def _mesh(text: str) -> dict[str, int]:
    """``"data=4,model=2"`` -> ``{"data": 4, "model": 2}`` (an argparse type: ``palmkit aot``)."""
    out = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key not in ("data", "model") or not value.isdigit():
            raise argparse.ArgumentTypeError(f"--mesh {text!r}: expected data=N,model=M")
        out[key] = int(value)
    return out


def _schedule(text: str):
    from trainer.schedules import parse_batch_schedule

    try:
        return parse_batch_schedule(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _range(text: str) -> tuple[int, int]:
    a, _, b = text.partition(":")
    return int(a), int(b)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="folder written by `palmkit pack`")
    p.add_argument("--workdir", required=True, help="checkpoints, metrics.jsonl, skips.json, tensorboard/")
    p.add_argument("--steps", type=int, required=True, help="train until this step (resumes if W has checkpoints)")
    p.add_argument("--preset", default="palm-tiny", help="model_stub preset, e.g. palm-tiny, palm-1b, palm-8b")
    p.add_argument("--seq-len", type=int, help="force the model's sequence length (default: the manifest's)")
    p.add_argument("--vocab-size", type=int, help="force the model's vocabulary (default: the manifest's)")
    p.add_argument("--eod-id", type=int, help="force the model's [eod] id (default: the manifest's)")
    p.add_argument("--dtype", choices=["float32", "bfloat16"], help="matmul dtype (bfloat16 on GPU/TPU)")
    p.add_argument("--remat", action="store_true", help="recompute activations in the backward pass")
    p.add_argument("--batch-schedule", default="0:8",
                   help="STEP:SIZE,... e.g. PaLM 540B: 0:512,50000:1024,115000:2048")
    p.add_argument("--lr-peak", type=float, default=1e-2,
                   help="learning rate of the constant phase (PaLM: 1e-2)")
    p.add_argument("--lr-constant-steps", type=int, default=10_000,
                   help="lr = peak until this step, then peak*sqrt(this/k) (paper: 1/sqrt(k))")
    p.add_argument("--z-loss", type=float, default=1e-4,
                   help="weight of the auxiliary loss z_loss * log(Z)^2 (PaLM: 1e-4)")
    p.add_argument("--clip-norm", type=float, default=1.0,
                   help="global-norm gradient clipping threshold (PaLM: 1.0)")
    p.add_argument("--no-weight-decay", action="store_true", help="disable the lr^2 weight decay")
    p.add_argument("--seed", type=int, default=0,
                   help="parameter initialisation seed (data order comes from the shards)")
    p.add_argument("--mesh", default="", help="data=N,model=M (default: all devices on data)")
    p.add_argument("--checkpoint-every", type=int, default=100,
                   help="save an Orbax checkpoint every this many steps")
    p.add_argument("--keep-checkpoints", type=int, default=5,
                   help="checkpoints kept; rollbacks reach back keep x every steps")
    p.add_argument("--sync-checkpoints", action="store_true", help="block on every save")
    p.add_argument("--spike-factor", type=float, default=1.5, help="spike: loss > this x recent median")
    p.add_argument("--spike-window", type=int, default=100,
                   help="steps in the running median that spikes are measured against")
    p.add_argument("--rollback-steps", type=int, default=100, help="restore a checkpoint this far back")
    p.add_argument("--skip-batches", type=int, default=200, help="batches skipped after a rollback")
    p.add_argument("--peak-flops", type=float, help="peak FLOP/s per device for MFU")
    p.add_argument("--no-verify-checksums", action="store_true", help="check shard sizes only")
    p.add_argument("--allow-repeat", action="store_true", help="wrap around after one epoch")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar (metrics still go to W/metrics.jsonl)")
    p.add_argument("--distributed", action="store_true",
                   help="call jax.distributed.initialize() first (multi-host TPU/GPU)")
    p.add_argument("--debug-spike-examples", type=_range, help=argparse.SUPPRESS)


def build_config(args: argparse.Namespace):
    """The ``TrainConfig`` of parsed flags (``UserError`` for a value out of range)."""
    from trainer.train import TrainConfig

    overrides = {k: v for k, v in {"seq_len": args.seq_len, "vocab_size": args.vocab_size,
                                    "eod_id": args.eod_id, "dtype": args.dtype}.items() if v is not None}
    if args.remat:
        overrides["remat"] = True
    try:
        schedule = args.batch_schedule if isinstance(args.batch_schedule, tuple) else \
            _schedule(args.batch_schedule)
    except argparse.ArgumentTypeError as e:
        raise UserError(f"--batch-schedule: {e}") from None
    try:
        mesh = args.mesh if isinstance(args.mesh, dict) else _mesh(args.mesh) if args.mesh else {}
    except argparse.ArgumentTypeError as e:
        raise UserError(str(e)) from None
    config = TrainConfig(
        data=args.data, workdir=args.workdir, steps=args.steps, preset=args.preset,
        model_overrides=overrides, batch_schedule=schedule, lr_peak=args.lr_peak,
        lr_constant_steps=args.lr_constant_steps, z_loss=args.z_loss, clip_norm=args.clip_norm,
        weight_decay=not args.no_weight_decay, seed=args.seed, mesh_data=mesh.get("data"),
        mesh_model=mesh.get("model", 1), checkpoint_every=args.checkpoint_every,
        keep_checkpoints=args.keep_checkpoints, async_checkpoints=not args.sync_checkpoints,
        spike_factor=args.spike_factor, spike_window=args.spike_window,
        rollback_steps=args.rollback_steps, skip_batches=args.skip_batches,
        peak_flops=args.peak_flops, verify_checksums=not args.no_verify_checksums,
        allow_repeat=args.allow_repeat, progress=not args.no_progress,
        debug_spike_examples=args.debug_spike_examples)
    return config


def run(args: argparse.Namespace, extra: list[str]) -> int:
    config = build_config(args)  # checked before any JAX start-up
    if args.distributed:
        import jax

        jax.distributed.initialize()
    from trainer.train import main

    result = main(config)
    if not result["trained"]:
        print(result["message"])
        return 0
    print(f"trained to step {result['step']} in {config.workdir} "
          f"({len(result['skips'])} skipped ranges, {result['rollbacks']} rollbacks this run)")
    return 0
