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

Several processes (``--distributed``): each reads its part of every batch
(``step.process_data_slice``), process 0 alone writes ``metrics.jsonl`` and TensorBoard
(``QuietLogger`` elsewhere), Orbax saves one checkpoint for all. 2 processes x 4 CPU devices
match 1 process x 8 to ~1 ulp (another all-reduce order), and a kill + restart of both is
bitwise (tests/test_multiprocess.py).

Policies for what a person can get wrong (each a one-line ``UserError``; the CLI exits 2):

* options: ``TrainConfig.validate`` (run on construction and again by ``main``, with the device
  count for ``--mesh``) checks every numeric field's range and names the flag;
* data: ``trainer.data`` raises ``ManifestError`` for a missing folder, a folder that is not a
  ``pack`` output, and a shard whose size, SHA-256 or Parquet structure is wrong;
* damaged checkpoints: the newest step that restores is used, with a warning per damaged step
  (``trainer.checkpoint.restore_intact``); none intact is a ``CheckpointError``;
* a workdir already at or past ``--steps``: nothing is trained or written; ``main`` returns
  ``trained=False`` with a one-line ``message`` and the CLI prints it and exits 0, so a loop that
  re-runs the same command until it succeeds ends cleanly instead of failing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import os
import time
from typing import Any

import jax

from model_stub.flops import flops_per_token, mfu
from model_stub.palm import PRESETS, PaLMConfig, count_params, get_config
from palmkit import flags
from palmkit.errors import UserError
from trainer import checkpoint, data, schedules, step
from trainer.metrics import MetricsLogger, SpikeDetector, peak_flops_per_device

log = logging.getLogger(__name__)


def _schedule_text(schedule: schedules.BatchSchedule) -> str:
    return ",".join(f"{step}:{size}" for step, size in schedule)


def _example_range(text: str) -> tuple[int, int]:
    a, _, b = text.partition(":")
    return int(a), int(b)


_OPT, _CKPT = "optimizer", "checkpoints and loss spikes (section 5: roll back, skip batches)"


@dataclasses.dataclass
class TrainConfig:
    """`palmkit train`'s options; each field's flag, default and help (``palmkit.flags``).
    ``--mesh`` sets ``mesh_data``/``mesh_model`` and ``--seq-len``, ``--vocab-size``,
    ``--eod-id``, ``--dtype``, ``--remat`` set ``model_overrides`` (``trainer.cli``)."""

    data: str = flags.option(help="folder written by `palmkit pack`")
    workdir: str = flags.option(help="checkpoints, metrics.jsonl, skips.json, tensorboard/")
    steps: int = flags.option(help="train until this step (resumes if --workdir has checkpoints)")
    preset: str = flags.option("palm-tiny", help="model_stub preset, e.g. palm-tiny, palm-1b, palm-8b")
    model_overrides: dict[str, Any] = flags.option(
        default_factory=dict, cli=False, help="PaLMConfig fields forced, e.g. dtype, remat")
    batch_schedule: schedules.BatchSchedule = flags.option(
        ((0, 8),), parse=schedules.parse_batch_schedule, late=True, show_default=_schedule_text,
        help="STEP:SIZE,... e.g. PaLM 540B: 0:512,50000:1024,115000:2048")
    lr_peak: float = flags.option(1e-2, group=_OPT,
                                  help="learning rate of the constant phase (PaLM's)")
    lr_constant_steps: int = flags.option(
        10_000, group=_OPT, help="lr = peak until this step, then peak*sqrt(this/k) (paper: 1/sqrt(k))")
    z_loss: float = flags.option(
        1e-4, group=_OPT, help="weight of the auxiliary loss z_loss * log(Z)^2 (PaLM's)")
    clip_norm: float = flags.option(
        1.0, group=_OPT, help="global-norm gradient clipping threshold (PaLM's)")
    weight_decay: bool = flags.option(True, group=_OPT, help="disable the lr^2 weight decay")
    seed: int = flags.option(0, help="parameter initialisation seed (data order comes from the shards)")
    mesh_data: int | None = flags.option(None, cli=False, help="--mesh data=N; default: all "
                                         "devices / mesh_model")
    mesh_model: int = flags.option(1, cli=False, help="--mesh model=M")
    checkpoint_every: int = flags.option(
        100, group=_CKPT, help="save an Orbax checkpoint every this many steps")
    # with checkpoint_every=100: rollbacks reach up to 500 steps back
    keep_checkpoints: int = flags.option(
        5, group=_CKPT, help="checkpoints kept; rollbacks reach back keep x every steps")
    async_checkpoints: bool = flags.option(True, negate="--sync-checkpoints", group=_CKPT,
                                           help="block on every save")
    # Loss spikes (section 5): roll back ~100 steps, skip 200-500 batches.
    spike_factor: float = flags.option(1.5, group=_CKPT, help="spike: loss > this x recent median")
    spike_window: int = flags.option(
        100, group=_CKPT, help="steps in the running median that spikes are measured against")
    spike_min_history: int = flags.option(20, cli=False, help="losses known before spikes count")
    rollback_steps: int = flags.option(100, group=_CKPT, help="restore a checkpoint this far back")
    skip_batches: int = flags.option(200, group=_CKPT, help="batches skipped after a rollback")
    max_rollbacks: int = flags.option(20, cli=False, help="rollbacks in one run before giving up")
    peak_flops: float | None = flags.option(
        None, help="peak FLOP/s per device for MFU (default: from the device kind)")
    verify_checksums: bool = flags.option(True, help="check shard sizes only")
    allow_repeat: bool = flags.option(False, help="wrap around after one epoch")
    prefetch: int = flags.option(2, cli=False, help="batches read ahead by Grain's threads")
    progress: bool = flags.option(True, cli=False, help="tqdm progress bar (off: palmkit's --quiet)")
    # Test hook: a batch containing any example in [a, b) has its loss (and gradient) multiplied by
    # debug_spike_factor, a reproducible stand-in for a corrupt batch.
    debug_spike_examples: tuple[int, int] | None = flags.option(
        None, parse=_example_range, hidden=True, help="A:B, examples whose batch spikes")
    debug_spike_factor: float = flags.option(100.0, cli=False, help="loss factor of that batch")

    def __post_init__(self) -> None:
        self.validate()

    def validate(self, device_count: int | None = None) -> "TrainConfig":
        """Raise ``UserError`` (one line, naming the flag) for a value out of its range; normalises
        ``batch_schedule`` to a tuple of int pairs. With ``device_count``, also checks that the
        mesh covers exactly the devices. Called on construction and by ``main``."""
        _check_text(self, "data")
        _check_text(self, "workdir")
        _check_int(self, "steps", 0)
        if self.preset not in PRESETS:
            _fail(self, "preset", self.preset, f"unknown preset; known: {', '.join(PRESETS)}")
        fields = {f.name for f in dataclasses.fields(PaLMConfig)}
        if unknown := sorted(set(self.model_overrides) - fields):
            raise UserError(f"model_overrides {unknown}: not PaLMConfig fields")
        for key, low in (("seq_len", 1), ("vocab_size", 1), ("eod_id", 0)):
            value = self.model_overrides.get(key)
            if value is not None and not (_is_int(value) and value >= low):
                raise UserError(f"--{key.replace('_', '-')} {value!r}: must be an integer >= {low}")
        try:
            self.batch_schedule = schedules.validate_batch_schedule(self.batch_schedule)
        except (ValueError, TypeError) as e:
            raise UserError(f"--batch-schedule: {e}") from None
        _check_float(self, "lr_peak", 0.0)
        _check_int(self, "lr_constant_steps", 1)
        _check_float(self, "z_loss", 0.0, strict=False)
        _check_float(self, "clip_norm", 0.0)
        if not (_is_int(self.seed) and -2**63 <= self.seed < 2**63):
            _fail(self, "seed", self.seed, "must be an integer in the int64 range")
        if self.mesh_data is not None:
            _check_int(self, "mesh_data", 1)
        _check_int(self, "mesh_model", 1)
        _check_int(self, "checkpoint_every", 1)
        _check_int(self, "keep_checkpoints", 1)
        _check_float(self, "spike_factor", 1.0)
        _check_int(self, "spike_window", 1)
        _check_int(self, "spike_min_history", 1)
        _check_int(self, "rollback_steps", 0)
        _check_int(self, "skip_batches", 1)
        _check_int(self, "max_rollbacks", 0)
        if self.peak_flops is not None:
            _check_float(self, "peak_flops", 0.0)
        _check_int(self, "prefetch", 0)
        if self.debug_spike_examples is not None:
            a, b = self.debug_spike_examples
            if not (_is_int(a) and _is_int(b) and 0 <= a < b):
                _fail(self, "debug_spike_examples", self.debug_spike_examples, "need 0 <= A < B")
        _check_float(self, "debug_spike_factor", 0.0)
        if device_count is not None:
            self.mesh_shape(device_count)
        return self

    def mesh_shape(self, device_count: int) -> tuple[int, int]:
        """``(data, model)``; ``data`` defaults to all devices / ``model``. UserError naming
        ``--mesh`` when the product is not the device count."""
        model = self.mesh_model
        data_ = self.mesh_data if self.mesh_data is not None else device_count // model
        if data_ < 1 or data_ * model != device_count:
            given = f"data={self.mesh_data}," if self.mesh_data is not None else ""
            raise UserError(f"--mesh {given}model={model}: data x model must equal the "
                            f"{device_count} available devices")
        return data_, model


#: TrainConfig field -> the `palmkit train` flag that sets it (fields without a flag are named
#: as ``TrainConfig.<field>`` in messages).
FLAGS = {"data": "--data", "workdir": "--workdir", "steps": "--steps", "preset": "--preset",
         "lr_peak": "--lr-peak", "lr_constant_steps": "--lr-constant-steps", "z_loss": "--z-loss",
         "clip_norm": "--clip-norm", "seed": "--seed", "mesh_data": "--mesh data=",
         "mesh_model": "--mesh model=", "checkpoint_every": "--checkpoint-every",
         "keep_checkpoints": "--keep-checkpoints", "spike_factor": "--spike-factor",
         "spike_window": "--spike-window", "rollback_steps": "--rollback-steps",
         "skip_batches": "--skip-batches", "peak_flops": "--peak-flops"}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fail(config: TrainConfig, field: str, value, need: str):
    flag = FLAGS.get(field, f"TrainConfig.{field}")
    sep = "" if flag.endswith("=") else " "
    raise UserError(f"{flag}{sep}{value!r}: {need}")


def _check_int(config: TrainConfig, field: str, low: int) -> None:
    value = getattr(config, field)
    if not (_is_int(value) and value >= low):
        _fail(config, field, value, f"must be an integer >= {low}")


def _check_float(config: TrainConfig, field: str, low: float, *, strict: bool = True) -> None:
    value = getattr(config, field)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        and (value > low if strict else value >= low)
    if not ok:
        _fail(config, field, value, f"must be a finite number {'>' if strict else '>='} {low:g}")


def _check_text(config: TrainConfig, field: str) -> None:
    value = getattr(config, field)
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        _fail(config, field, value, "must be a non-empty path")


@dataclasses.dataclass
class Run:
    """Host-side state that travels with a checkpoint's ``meta``."""

    step: int  # last completed step
    skips: tuple[schedules.Skip, ...]
    detector: SpikeDetector
    rollbacks: int = 0


class QuietLogger:
    """``MetricsLogger``'s interface for processes other than 0: writes no file, logs messages."""

    def log(self, row: dict) -> None:
        pass

    def restart(self, step: int) -> None:
        pass

    def message(self, text: str) -> None:
        log.info("process %d: %s", jax.process_index(), text)

    def close(self) -> None:
        pass


def model_config(config: TrainConfig, spec: data.DataSpec) -> PaLMConfig:
    """The preset with the manifest's vocabulary, sequence length and [eod] unless overridden."""
    overrides = {"vocab_size": spec.vocab_size, "seq_len": spec.seq_len, "eod_id": spec.eod_id,
                 **config.model_overrides}
    cfg = get_config(config.preset, **overrides)
    data.check_model_matches(spec, seq_len=cfg.seq_len, vocab_size=cfg.vocab_size, eod_id=cfg.eod_id)
    return cfg


def check_mesh_divides(model_cfg: PaLMConfig, data_: int, model_: int) -> None:
    """One-line ``UserError`` when a dimension that ``step.RULES`` shards does not split over
    its mesh axis (``vocab``/``heads``/``mlp`` over ``model``, ``embed`` over ``data``);
    otherwise it is an ``IndivisibleError`` traceback from inside the first jit. A manifest's
    vocabulary (e.g. 257 byte ids) is the usual one: ``--vocab-size`` rounds it up."""
    for name, size, axis, n in (("vocab_size", model_cfg.vocab_size, "model", model_),
                                ("n_heads", model_cfg.n_heads, "model", model_),
                                ("d_ff", model_cfg.d_ff, "model", model_),
                                ("d_model", model_cfg.d_model, "data", data_)):
        if size % n:
            fix = (f"pass --vocab-size {-(-size // n) * n} (a multiple of {n})"
                   if name == "vocab_size" else f"use a --mesh {axis}= that divides {size}")
            raise UserError(f"--mesh {axis}={n} does not divide the model's {name} of {size}: {fix}")


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
    # A window shorter than min_history would never fill up: spike detection silently off.
    return SpikeDetector(factor=config.spike_factor, window=config.spike_window,
                         min_history=min(config.spike_min_history, config.spike_window),
                         history=history)


def fresh_state(config: TrainConfig, *, compiled: step.Compiled, mesh):
    """State initialised from the seed, Run at step 0 with the skips of ``W/skips.json``."""
    run = Run(0, checkpoint.read_skips(config.workdir), new_detector(config))
    return step.init_state(compiled, mesh, config.seed), run


def restore_state(config: TrainConfig, *, compiled: step.Compiled, manager, fingerprint: str,
                  at_most: int | None = None, purpose: str = "resuming from"):
    """``(state, meta)`` of the newest intact checkpoint ``<= at_most``, or None when there is
    none; damaged newer ones are skipped with a warning (``checkpoint.restore_intact``). A
    checkpoint of other data, seed or batch schedule is a ``CheckpointError``, never skipped."""
    shapes = jax.eval_shape(lambda: compiled.init(config.seed))
    target = checkpoint.abstract_state(shapes, compiled.shardings)
    found = checkpoint.restore_intact(manager, target, at_most=at_most, purpose=purpose)
    if found is None:
        return None
    at, state, meta = found
    if meta["data_fingerprint"] != fingerprint or meta["seed"] != config.seed or \
            [tuple(p) for p in meta["batch_schedule"]] != list(config.batch_schedule):
        raise checkpoint.CheckpointError(
            f"checkpoint {at} in {manager.directory} was written for other data, seed or batch "
            f"schedule; use a new --workdir")
    return state, meta


def run_from_meta(config: TrainConfig, meta: dict, fingerprint: str) -> Run:
    """The Run of a restored checkpoint, its skips extended by ``W/skips.json``."""
    at = int(meta["step"])
    skips = checkpoint.merge_skips(checkpoint.skips_from_json(meta["skips"]),
                                   checkpoint.read_skips(config.workdir))
    run = Run(at, skips, new_detector(config, meta["loss_history"]))
    if checkpoint_meta(config, run, fingerprint)["examples_consumed"] != meta["examples_consumed"]:
        raise checkpoint.CheckpointError(
            f"checkpoint {at} in {config.workdir}: data position {meta['examples_consumed']} does "
            f"not follow from its step, schedule and skips; was the workdir edited?")
    return run


def load_state(config: TrainConfig, *, compiled: step.Compiled, mesh, manager, fingerprint: str,
               at_most: int | None = None, purpose: str = "resuming from"):
    """State and Run at the newest intact checkpoint ``<= at_most`` (all steps when None), or
    freshly initialised from the seed when there is none."""
    found = restore_state(config, compiled=compiled, manager=manager, fingerprint=fingerprint,
                          at_most=at_most, purpose=purpose)
    if found is None:
        return fresh_state(config, compiled=compiled, mesh=mesh)
    state, meta = found
    return state, run_from_meta(config, meta, fingerprint)


def rollback(config: TrainConfig, *, run: Run, loss: float, compiled, mesh, manager,
             logger: MetricsLogger, fingerprint: str):
    """Restore the checkpoint from before a spike at step ``run.step + 1`` and skip batches:
    ``skip_batches`` of them, or up to and including the spike's batch if that is further (the
    newest intact checkpoint at least ``rollback_steps`` back may be far back)."""
    spike_step = run.step + 1
    if run.rollbacks >= config.max_rollbacks:
        raise RuntimeError(f"loss spike at step {spike_step} after {run.rollbacks} rollbacks: giving up")
    manager.wait_until_finished()
    target = checkpoint.rollback_step(manager, spike_step=spike_step, rollback_steps=config.rollback_steps)
    # Restore first: a damaged target means rolling back further (the skip starts there).
    found = None if target is None else restore_state(
        config, compiled=compiled, manager=manager, fingerprint=fingerprint, at_most=target,
        purpose="rolling back to")
    restored = int(found[1]["step"]) if found else 0
    # The skip must reach the spike's own batch, also when a damaged target (or few checkpoints)
    # put the restored step more than skip_batches before the spike.
    batches = max(config.skip_batches, spike_step - restored)
    skip = schedules.skip_for_spike(restored_step=restored, batches=batches,
                                    schedule=config.batch_schedule, skips=run.skips,
                                    spike_step=spike_step, spike_loss=loss,
                                    median_loss=run.detector.median())
    # Order matters for crash safety: drop the abandoned checkpoints, then record the skip.
    checkpoint.delete_after(manager, restored)
    checkpoint.write_skips(config.workdir, run.skips + (skip,))
    if found:
        state, new_run = found[0], run_from_meta(config, found[1], fingerprint)
    else:
        state, new_run = fresh_state(config, compiled=compiled, mesh=mesh)
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
        part, parts = step.process_data_slice(mesh)
        batches = data.StepBatches(examples, schedule=config.batch_schedule, skips=run.skips,
                                   first_step=run.step + 1, last_step=config.steps,
                                   process_index=part, process_count=parts,
                                   allow_repeat=config.allow_repeat)
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
                        "tokens_per_sec": tok_s, "mfu": mfu(tok_s, flops_tok, peak_total)})
            if run.step % config.checkpoint_every == 0 or run.step == config.steps:
                checkpoint.save(manager, run.step, state, checkpoint_meta(config, run, fingerprint))
    return state, run


def nothing_to_do_message(config: TrainConfig, at: int) -> str:
    return (f"{config.workdir} already at step {at} >= --steps {config.steps}: nothing to do; "
            f"pass a larger --steps to continue")


def main(config: TrainConfig) -> dict:
    """Train to ``config.steps`` (resuming from ``workdir`` when it has checkpoints).

    Returns ``step``, ``skips``, ``rollbacks`` (this run), ``state``, ``model_config``,
    ``flops_per_token``, ``trained`` and ``message``: when the newest intact checkpoint is already
    at or past ``config.steps``, nothing is trained or written, ``trained`` is False and
    ``message`` says so in one line (the CLI prints it and exits 0)."""
    n_dev = jax.device_count()
    config.validate(device_count=n_dev)
    spec = data.read_spec(config.data, verify_checksums=config.verify_checksums)
    model_cfg = model_config(config, spec)
    # Before compiling: too little data for --steps is a one-line error, not a Grain traceback.
    data.check_enough_examples(spec, steps=config.steps, schedule=config.batch_schedule,
                               skips=checkpoint.read_skips(config.workdir),
                               allow_repeat=config.allow_repeat)
    check_mesh_divides(model_cfg, *config.mesh_shape(n_dev))
    mesh = step.make_mesh(*config.mesh_shape(n_dev))
    compiled = step.build(model_cfg, optim_config(config), mesh)
    os.makedirs(config.workdir, exist_ok=True)
    manager = checkpoint.make_manager(config.workdir, keep=config.keep_checkpoints,
                                      async_save=config.async_checkpoints)
    fingerprint = data_fingerprint(spec)
    flops_tok = flops_per_token(model_cfg, n_params=count_params(model_cfg))
    try:
        state, run = load_state(config, compiled=compiled, mesh=mesh, manager=manager,
                                fingerprint=fingerprint)
    except BaseException:
        manager.close()
        raise
    if run.step and run.step >= config.steps:
        manager.close()
        message = nothing_to_do_message(config, run.step)  # the caller prints it (the CLI once)
        return {"step": run.step, "skips": run.skips, "rollbacks": 0, "state": state,
                "model_config": model_cfg, "flops_per_token": flops_tok, "trained": False,
                "message": message}
    dev = jax.devices()[0]
    try:
        peak_total = peak_flops_per_device(dev.device_kind, dev.platform, config.peak_flops) * n_dev
    except ValueError as e:  # an unlisted accelerator: train anyway, MFU unknown
        log.warning("%s; MFU will be NaN", e)
        peak_total = float("nan")
    # One writer of W/metrics.jsonl and tensorboard/: process 0 (the loss is replicated, so every
    # process sees the same numbers); the others only log messages.
    logger = MetricsLogger(config.workdir, first_step=run.step + 1, last_step=config.steps,
                           progress=config.progress) if jax.process_index() == 0 else QuietLogger()
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
            "model_config": model_cfg, "flops_per_token": flops_tok, "trained": True,
            "message": None}
