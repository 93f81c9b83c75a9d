"""Checkpoints (Orbax CheckpointManager) and the skip record.

``W/checkpoints/<step>/`` holds two items: ``state`` (params, optimizer state, step; every array
saved from its shards, restored straight into the shardings of the current mesh) and ``meta``
(JSON: the skip list, the recent-loss window of the spike detector, the data position, the batch
schedule and seed it was computed with). Together they are everything a resumed run needs to
continue bitwise-identically: the data position is recomputed from (step, schedule, skips) and
checked against the saved one, and there is no random state besides the seed (no dropout in
pretraining: the model's ``dropout_rate`` is 0).

Crash safety: Orbax writes a checkpoint into ``<step>.orbax-checkpoint-tmp-*`` and renames it to
``<step>`` only when every file is written (and, with several hosts, every host has finished), so a
crash mid-save leaves at most a tmp folder, which ``CheckpointManager`` ignores when listing steps
(``tests/test_trainer_resume.py`` plants one). Saving is asynchronous by default: arrays are copied
to host memory and written by a background thread while training continues (~0.1 s of blocking per
save for palm-tiny).

Damaged checkpoints (``restore_intact``): a step folder that does not restore (a truncated or
deleted array file, a zstd chunk with flipped bits, a missing or unparsable ``meta``, an empty
folder) is *reported by step* and skipped: the newest step that restores wins, a warning names every
bad step, its error (root cause, one line) and the step the run resumes from, and the bad folders
are moved to ``W/checkpoints-corrupt/<step>`` (kept for inspection, out of Orbax's sight, so the
run can save that step again). When no step restores, nothing is moved and the run stops with a
``CheckpointError`` (a ``UserError``: one line naming the checkpoint folder and each bad step).
A checkpoint written for other data, seed or batch schedule is not "damaged": that is a
``UserError`` at once, with no fallback. Bit flips in an uncompressed byte would restore silently;
Orbax compresses every chunk with zstd, whose frame checks catch the flips we have tried.

``W/skips.json`` is rewritten (temp file + rename) at every rollback, *after* the abandoned
checkpoints are deleted, so after any crash it lists a superset of the skips in the latest
checkpoint, and a resume replays exactly the recorded data order.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from typing import Any, Sequence

import jax
import orbax.checkpoint as ocp

from palmkit.errors import UserError
from trainer.schedules import Skip

log = logging.getLogger(__name__)

SKIPS_NAME = "skips.json"
CHECKPOINTS_NAME = "checkpoints"
QUARANTINE_NAME = "checkpoints-corrupt"
#: Keys every checkpoint's ``meta`` carries (``trainer.train.checkpoint_meta``).
META_KEYS = ("step", "skips", "loss_history", "examples_consumed", "batch_schedule", "seed",
             "data_fingerprint")


class CheckpointError(UserError):
    """The checkpoint folder cannot be used: unreadable, no intact step, or edited by hand."""


class DamagedCheckpoint(Exception):
    """One step folder does not restore; ``str()`` is one line naming the step and the cause."""

    def __init__(self, step: int, error: BaseException | str):
        self.step = step
        self.reason = error if isinstance(error, str) else one_line(error)
        super().__init__(f"step {step}: {self.reason}")


def one_line(error: BaseException, limit: int = 240) -> str:
    """``Class: first line of the message`` of the root cause along ``raise ... from`` links
    (Orbax wraps TensorStore's precise ``OUT_OF_RANGE``/``Data corruption`` error in a generic
    multi-line one), at most ``limit`` characters."""
    root, seen = error, {id(error)}
    while root.__cause__ is not None and id(root.__cause__) not in seen:
        root = root.__cause__
        seen.add(id(root))
    text = str(root).strip().splitlines()[0] if str(root).strip() else ""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(root).__name__}: {text}" if text else type(root).__name__


def checkpoint_dir(workdir: str) -> str:
    return os.path.abspath(os.path.join(workdir, CHECKPOINTS_NAME))


def make_manager(workdir: str, *, keep: int, async_save: bool = True) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True,
                                           enable_async_checkpointing=async_save)
    directory = checkpoint_dir(workdir)
    try:
        return ocp.CheckpointManager(directory, options=options, item_names=("state", "meta"))
    except Exception as e:  # e.g. W/checkpoints is a file, or unreadable
        raise CheckpointError(f"{directory}: cannot open the checkpoint folder ({one_line(e)}); "
                              f"fix it or use a new --workdir") from e


def save(manager: ocp.CheckpointManager, step: int, state: Any, meta: dict) -> None:
    manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                               meta=ocp.args.JsonSave(meta)), force=True)


def abstract_state(state_shapes: Any, shardings: Any) -> Any:
    """ShapeDtypeStructs carrying the target shardings, so Orbax restores each shard in place."""
    return jax.tree.map(lambda s, sh: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sh),
                        state_shapes, shardings)


def restore(manager: ocp.CheckpointManager, step: int, target: Any) -> tuple[Any, dict]:
    """State and meta of ``step``; ``DamagedCheckpoint`` when the folder does not restore (any
    exception from Orbax/TensorStore, or a ``meta`` that is not what ``save`` writes)."""
    try:
        out = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target),
                                                            meta=ocp.args.JsonRestore()))
        state, meta = out["state"], out["meta"]
    except Exception as e:  # noqa: BLE001 -- whatever the damage, it is reported by step
        raise DamagedCheckpoint(step, e) from e
    if not isinstance(meta, dict) or any(k not in meta for k in META_KEYS):
        have = sorted(meta) if isinstance(meta, dict) else type(meta).__name__
        raise DamagedCheckpoint(step, f"meta lacks {[k for k in META_KEYS if k not in (meta or {})]} "
                                      f"(has {have})")
    if meta["step"] != step:
        raise DamagedCheckpoint(step, f"meta says step {meta['step']}")
    return state, meta


def restore_intact(manager: ocp.CheckpointManager, target: Any, *, at_most: int | None = None,
                   purpose: str = "resuming from") -> tuple[int, Any, dict] | None:
    """``(step, state, meta)`` of the newest step ``<= at_most`` that restores; None if there are
    no such steps. Damaged newer steps are warned about (one line each, naming the step restored
    instead) and moved to ``W/checkpoints-corrupt``; if every candidate is damaged, nothing is
    moved and ``CheckpointError`` names the folder and each step's error."""
    manager.wait_until_finished()
    steps = sorted((s for s in manager.all_steps() if at_most is None or s <= at_most), reverse=True)
    damaged: list[DamagedCheckpoint] = []
    for s in steps:
        try:
            state, meta = restore(manager, s, target)
        except DamagedCheckpoint as e:
            damaged.append(e)
            continue
        moved = quarantine(manager, [d.step for d in damaged]) if damaged else {}
        for d in damaged:
            log.warning("checkpoint step %d in %s is damaged (%s); moved to %s; %s step %d",
                        d.step, manager.directory, d.reason, moved[d.step], purpose, s)
        return s, state, meta
    if damaged:
        raise CheckpointError(
            f"no intact checkpoint in {manager.directory}: "
            + "; ".join(str(d) for d in damaged)
            + " -- delete or move the damaged step folders to start over, or use a new --workdir")
    return None


def quarantine_dir(manager: ocp.CheckpointManager) -> str:
    return os.path.join(os.path.dirname(str(manager.directory)), QUARANTINE_NAME)


def quarantine(manager: ocp.CheckpointManager, steps: Sequence[int]) -> dict[int, str]:
    """Move damaged step folders to ``W/checkpoints-corrupt/<step>`` (``<step>.1`` ... if taken),
    out of the manager's sight; process 0 moves, all processes wait. Returns step -> new path."""
    dest_root, moved = quarantine_dir(manager), {}
    for s in steps:
        dest, n = os.path.join(dest_root, str(s)), 1
        while os.path.exists(dest):
            dest, n = os.path.join(dest_root, f"{s}.{n}"), n + 1
        moved[s] = dest
        if jax.process_index() == 0:
            os.makedirs(dest_root, exist_ok=True)
            os.replace(os.path.join(str(manager.directory), str(s)), dest)
    if jax.process_count() > 1:
        ocp.multihost.sync_global_processes("palmkit_quarantine_checkpoints")
    manager.reload()
    return moved


def rollback_step(manager: ocp.CheckpointManager, *, spike_step: int, rollback_steps: int) -> int | None:
    """The latest checkpoint at least ``rollback_steps`` before the spike (None: start over)."""
    ok = [s for s in manager.all_steps() if s <= spike_step - rollback_steps]
    return max(ok) if ok else None


def delete_after(manager: ocp.CheckpointManager, step: int) -> list[int]:
    """Delete the checkpoints of an abandoned trajectory (steps after ``step``)."""
    manager.wait_until_finished()
    gone = [s for s in manager.all_steps() if s > step]
    for s in gone:
        manager.delete(s)
    return gone


def skips_to_json(skips: Sequence[Skip]) -> list[dict]:
    return [dataclasses.asdict(s) for s in skips]


def skips_from_json(rows: Sequence[dict]) -> tuple[Skip, ...]:
    return tuple(Skip(**r) for r in rows)


def write_skips(workdir: str, skips: Sequence[Skip]) -> str:
    """Rewrite ``W/skips.json``; with several processes process 0 writes and all wait for it
    (every process decides the same skip: the loss is replicated)."""
    path = os.path.join(workdir, SKIPS_NAME)
    if jax.process_index() == 0:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"skips": skips_to_json(skips)}, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    if jax.process_count() > 1:
        ocp.multihost.sync_global_processes("palmkit_write_skips")
    return path


def read_skips(workdir: str) -> tuple[Skip, ...]:
    path = os.path.join(workdir, SKIPS_NAME)
    if not os.path.exists(path):
        return ()
    try:
        with open(path, encoding="utf-8") as f:
            return skips_from_json(json.load(f)["skips"])
    except (ValueError, KeyError, TypeError) as e:  # JSONDecodeError is a ValueError
        raise CheckpointError(f"{path}: not a skip record written by `palmkit train` "
                              f"({one_line(e)}); restore it or use a new --workdir") from e


def merge_skips(from_checkpoint: Sequence[Skip], from_file: Sequence[Skip]) -> tuple[Skip, ...]:
    """The checkpoint's skips must be a prefix of ``skips.json`` (which may hold one more rollback
    made after that checkpoint was written); anything else means the workdir was edited."""
    ckpt, file = tuple(from_checkpoint), tuple(from_file)
    if file[: len(ckpt)] != ckpt:
        raise CheckpointError(f"{SKIPS_NAME} does not extend the skips saved in the checkpoint "
                              f"({len(file)} vs {len(ckpt)} entries): was the workdir edited?")
    return file
