"""`palmkit train`: PaLM's recipe on packed shards, resumable, bitwise deterministic.

    palmkit train --data SHARDS --preset palm-tiny --steps 200 --workdir W \
        --batch-schedule 0:8 --lr-constant-steps 50 --checkpoint-every 25

Expected: palm-tiny on a 2-core CPU runs ~5-10 steps/s at batch 8 x 64 tokens after a ~10-20 s
compile; the loss on real text falls from ~6.5 below 5 within 100 steps.

Flow of ``main``: read and check the manifest -> model config (vocabulary, sequence length and
``[eod]`` from the manifest) -> mesh and jitted functions (``trainer.step``) -> restore the latest
checkpoint or initialise -> ``train_loop``: for each step read its batch (a pure function of the
step: ``trainer.data``), update, log, detect spikes (roll back and skip), checkpoint.

Same command again = resume: everything is recomputed from (step, seed, manifest, schedule, skips),
so N straight steps and N/2 + resume give bitwise-identical losses and parameters on the same
machine and mesh (XLA's CPU and TPU reductions are deterministic for a fixed program).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from typing import Any

import jax

from model_stub.flops import flops_per_token
from model_stub.palm import PaLMConfig, count_params, get_config
from trainer import checkpoint, data, schedules, step
from trainer.metrics import MetricsLogger, SpikeDetector, peak_flops_per_device

log = logging.getLogger(__name__)


@dataclasses.dataclass
class TrainConfig:
    data: str
    workdir: str
    steps: int
    preset: str = "palm-tiny"
    model_overrides: dict[str, Any] = dataclasses.field(default_factory=dict)  # e.g. dtype, remat
    batch_schedule: schedules.BatchSchedule = ((0, 8),)
    lr_peak: float = 1e-2
    lr_constant_steps: int = 10_000
    z_loss: float = 1e-4
    clip_norm: float = 1.0
    weight_decay: bool = True
    seed: int = 0
    mesh_data: int | None = None  # default: all devices / mesh_model
    mesh_model: int = 1
    checkpoint_every: int = 100
    keep_checkpoints: int = 5  # with checkpoint_every=100: rollbacks reach up to 500 steps back
    async_checkpoints: bool = True
    # Loss spikes (section 5): roll back ~100 steps, skip 200-500 batches.
    spike_factor: float = 1.5
    spike_window: int = 100
    spike_min_history: int = 20
    rollback_steps: int = 100
    skip_batches: int = 200
    max_rollbacks: int = 20
    peak_flops: float | None = None  # per device; default from the device kind
    verify_checksums: bool = True
    allow_repeat: bool = False
    prefetch: int = 2
    progress: bool = True
    # Test hook: a batch containing any example in [a, b) has its loss (and gradient) multiplied by
    # debug_spike_factor, a reproducible stand-in for a corrupt batch.
    debug_spike_examples: tuple[int, int] | None = None
    debug_spike_factor: float = 100.0


@dataclasses.dataclass
class Run:
    """Host-side state that travels with a checkpoint's ``meta``."""

    step: int  # last completed step
    skips: tuple[schedules.Skip, ...]
    detector: SpikeDetector
    rollbacks: int = 0


def model_config(config: TrainConfig, spec: data.DataSpec) -> PaLMConfig:
    """The preset with the manifest's vocabulary, sequence length and [eod] unless overridden."""
    overrides = {"vocab_size": spec.vocab_size, "seq_len": spec.seq_len, "eod_id": spec.eod_id,
                 **config.model_overrides}
    cfg = get_config(config.preset, **overrides)
    data.check_model_matches(spec, seq_len=cfg.seq_len, vocab_size=cfg.vocab_size, eod_id=cfg.eod_id)
    return cfg


def optim_config(config: TrainConfig) -> step.OptimConfig:
    return step.OptimConfig(lr_peak=config.lr_peak, lr_constant_steps=config.lr_constant_steps,
                            clip_norm=config.clip_norm, weight_decay=config.weight_decay,
                            z_loss=config.z_loss)


def data_fingerprint(spec: data.DataSpec) -> str:
    from palmkit.manifest import Manifest

    outputs = Manifest.read(spec.directory).outputs
    return hashlib.sha256("".join(outputs[s].sha256 for s in spec.shards).encode()).hexdigest()


def checkpoint_meta(config: TrainConfig, run: Run, fingerprint: str) -> dict:
    consumed = schedules.examples_before(run.step + 1, config.batch_schedule,
                                         [s for s in run.skips if s.at_step <= run.step])
    return {"step": run.step, "skips": checkpoint.skips_to_json(run.skips),
            "loss_history": list(run.detector.history), "examples_consumed": consumed,
            "batch_schedule": [list(p) for p in config.batch_schedule], "seed": config.seed,
            "data_fingerprint": fingerprint}


def new_detector(config: TrainConfig, history=()) -> SpikeDetector:
    return SpikeDetector(factor=config.spike_factor, window=config.spike_window,
                         min_history=config.spike_min_history, history=history)


def load_state(config: TrainConfig, *, compiled: step.Compiled, mesh, manager,
               at: int | None, fingerprint: str):
    """State and Run at checkpoint ``at`` (None: freshly initialised from the seed)."""
    file_skips = checkpoint.read_skips(config.workdir)
    if at is None:
        return step.init_state(compiled, mesh, config.seed), Run(0, file_skips, new_detector(config))
    shapes = jax.eval_shape(lambda: compiled.init(config.seed))
    target = checkpoint.abstract_state(shapes, compiled.shardings)
    state, meta = checkpoint.restore(manager, at, target)
    if meta["data_fingerprint"] != fingerprint or meta["seed"] != config.seed or \
            [tuple(p) for p in meta["batch_schedule"]] != list(config.batch_schedule):
        raise ValueError(f"checkpoint {at} in {config.workdir} was written for other data, seed or "
                         f"batch schedule; use a new --workdir")
    skips = checkpoint.merge_skips(checkpoint.skips_from_json(meta["skips"]), file_skips)
    run = Run(at, skips, new_detector(config, meta["loss_history"]))
    assert checkpoint_meta(config, run, fingerprint)["examples_consumed"] == meta["examples_consumed"]
    return state, run


def rollback(config: TrainConfig, *, run: Run, loss: float, compiled, mesh, manager,
             logger: MetricsLogger, fingerprint: str):
    """Restore the checkpoint from before a spike at step ``run.step + 1`` and skip batches."""
    spike_step = run.step + 1
    if run.rollbacks >= config.max_rollbacks:
        raise RuntimeError(f"loss spike at step {spike_step} after {run.rollbacks} rollbacks: giving up")
    manager.wait_until_finished()
    target = checkpoint.rollback_step(manager, spike_step=spike_step, rollback_steps=config.rollback_steps)
    restored = target or 0
    skip = schedules.skip_for_spike(restored_step=restored, batches=config.skip_batches,
                                    schedule=config.batch_schedule, skips=run.skips,
                                    spike_step=spike_step, spike_loss=loss,
                                    median_loss=run.detector.median())
    # Order matters for crash safety: drop the abandoned checkpoints, then record the skip.
    checkpoint.delete_after(manager, restored)
    checkpoint.write_skips(config.workdir, run.skips + (skip,))
    state, new_run = load_state(config, compiled=compiled, mesh=mesh, manager=manager,
                                at=target, fingerprint=fingerprint)
    new_run.rollbacks = run.rollbacks + 1
    logger.restart(restored)
    logger.message(f"loss spike at step {spike_step}: loss {loss:.4g} > {config.spike_factor} x "
                   f"median {skip.median_loss:.4g}; restored step {restored}, skipping "
                   f"{skip.batches} batches = examples [{skip.start_example}, "
                   f"{skip.start_example + skip.examples})")
    return state, new_run


def loss_scale(config: TrainConfig, batch: data.Batch) -> float:
    if config.debug_spike_examples is None:
        return 1.0
    a, b = config.debug_spike_examples
    hit = batch.first_example < b and a < batch.first_example + batch.global_size
    return config.debug_spike_factor if hit else 1.0


def train_loop(config: TrainConfig, *, state, run: Run, examples: data.PackedExamples, compiled,
               mesh, manager, logger: MetricsLogger, flops_tok: float, peak_total: float,
               fingerprint: str):
    """Steps ``run.step + 1 .. config.steps``; restarts its batch iterator after a rollback."""
    while run.step < config.steps:
        batches = data.StepBatches(examples, schedule=config.batch_schedule, skips=run.skips,
                                   first_step=run.step + 1, last_step=config.steps,
                                   process_index=jax.process_index(),
                                   process_count=jax.process_count(), allow_repeat=config.allow_repeat)
        tick = time.perf_counter()
        for batch in data.step_iterator(batches, prefetch=config.prefetch):
            tokens = step.global_batch(mesh, batch.tokens, batch.global_size)
            state, m = step.run_step(compiled, mesh, state, tokens, loss_scale(config, batch))
            loss = float(m["loss"])  # waits for the step: spike detection needs it now
            if run.detector.is_spike(loss):
                state, run = rollback(config, run=run, loss=loss, compiled=compiled, mesh=mesh,
                                      manager=manager, logger=logger, fingerprint=fingerprint)
                break
            run.detector.add(loss)
            run.step = batch.step
            now = time.perf_counter()
            tok_s = batch.global_size * examples.spec.seq_len / (now - tick)
            tick = now
            logger.log({"step": run.step, "loss": loss, "z_loss": float(m["z_loss"]),
                        "grad_norm": float(m["grad_norm"]), "batch_size": batch.global_size,
                        "first_example": batch.first_example,
                        "lr": schedules.learning_rate(run.step, peak=config.lr_peak,
                                                      constant_steps=config.lr_constant_steps),
                        "tokens_per_sec": tok_s, "mfu": tok_s * flops_tok / peak_total})
            if run.step % config.checkpoint_every == 0 or run.step == config.steps:
                checkpoint.save(manager, run.step, state, checkpoint_meta(config, run, fingerprint))
    return state, run


def main(config: TrainConfig) -> dict:
    """Train to ``config.steps`` (resuming from ``workdir`` when it has checkpoints)."""
    spec = data.read_spec(config.data, verify_checksums=config.verify_checksums)
    model_cfg = model_config(config, spec)
    n_dev = jax.device_count()
    mesh = step.make_mesh(config.mesh_data or n_dev // config.mesh_model, config.mesh_model)
    compiled = step.build(model_cfg, optim_config(config), mesh)
    os.makedirs(config.workdir, exist_ok=True)
    manager = checkpoint.make_manager(config.workdir, keep=config.keep_checkpoints,
                                      async_save=config.async_checkpoints)
    fingerprint = data_fingerprint(spec)
    state, run = load_state(config, compiled=compiled, mesh=mesh, manager=manager,
                            at=manager.latest_step(), fingerprint=fingerprint)
    dev = jax.devices()[0]
    try:
        peak_total = peak_flops_per_device(dev.device_kind, dev.platform, config.peak_flops) * n_dev
    except ValueError as e:  # an unlisted accelerator: train anyway, MFU unknown
        log.warning("%s; MFU will be NaN", e)
        peak_total = float("nan")
    flops_tok = flops_per_token(model_cfg, n_params=count_params(model_cfg))
    logger = MetricsLogger(config.workdir, first_step=run.step + 1, last_step=config.steps,
                           progress=config.progress)
    if run.step:
        logger.message(f"resumed from step {run.step} ({len(run.skips)} skipped ranges)")
    try:
        state, run = train_loop(config, state=state, run=run, examples=data.PackedExamples(spec),
                                compiled=compiled, mesh=mesh, manager=manager, logger=logger,
                                flops_tok=flops_tok, peak_total=peak_total, fingerprint=fingerprint)
    finally:
        manager.wait_until_finished()
        manager.close()
        logger.close()
    return {"step": run.step, "skips": run.skips, "rollbacks": run.rollbacks, "state": state,
            "model_config": model_cfg, "flops_per_token": flops_tok}
