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

``W/skips.json`` is rewritten (temp file + rename) at every rollback, *after* the abandoned
checkpoints are deleted, so after any crash it lists a superset of the skips in the latest
checkpoint, and a resume replays exactly the recorded data order.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Sequence

import jax
import orbax.checkpoint as ocp

from trainer.schedules import Skip

SKIPS_NAME = "skips.json"


def make_manager(workdir: str, *, keep: int, async_save: bool = True) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True,
                                           enable_async_checkpointing=async_save)
    return ocp.CheckpointManager(os.path.abspath(os.path.join(workdir, "checkpoints")),
                                 options=options, item_names=("state", "meta"))


def save(manager: ocp.CheckpointManager, step: int, state: Any, meta: dict) -> None:
    manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                               meta=ocp.args.JsonSave(meta)), force=True)


def abstract_state(state_shapes: Any, shardings: Any) -> Any:
    """ShapeDtypeStructs carrying the target shardings, so Orbax restores each shard in place."""
    return jax.tree.map(lambda s, sh: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sh),
                        state_shapes, shardings)


def restore(manager: ocp.CheckpointManager, step: int, target: Any) -> tuple[Any, dict]:
    out = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target),
                                                        meta=ocp.args.JsonRestore()))
    return out["state"], out["meta"]


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
    path = os.path.join(workdir, SKIPS_NAME)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"skips": skips_to_json(skips)}, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return path


def read_skips(workdir: str) -> tuple[Skip, ...]:
    path = os.path.join(workdir, SKIPS_NAME)
    if not os.path.exists(path):
        return ()
    with open(path, encoding="utf-8") as f:
        return skips_from_json(json.load(f)["skips"])


def merge_skips(from_checkpoint: Sequence[Skip], from_file: Sequence[Skip]) -> tuple[Skip, ...]:
    """The checkpoint's skips must be a prefix of ``skips.json`` (which may hold one more rollback
    made after that checkpoint was written); anything else means the workdir was edited."""
    ckpt, file = tuple(from_checkpoint), tuple(from_file)
    if file[: len(ckpt)] != ckpt:
        raise ValueError(f"{SKIPS_NAME} does not extend the skips saved in the checkpoint "
                         f"({len(file)} vs {len(ckpt)} entries): was the workdir edited?")
    return file
