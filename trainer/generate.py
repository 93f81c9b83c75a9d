"""`palmkit generate`: greedy text from a trained workdir, and loading a workdir for inference.

    palmkit generate --workdir out/demo/train --prompt "def main(" --max-new-tokens 64

What a workdir holds and what it does not (``trainer.train``, ``trainer.checkpoint``): checkpoints
``W/checkpoints/<step>/{state,meta}`` whose ``meta`` has the step, skips, batch schedule, seed and
a *fingerprint* of the shards (SHA-256 over their SHA-256s), but neither the preset nor the path
of the shards or of the vocabulary. So ``load_workdir``

* restores the newest intact checkpoint *read-only* (a damaged newer step is skipped with a
  warning but, unlike a training resume, not moved: inference never changes a workdir), every
  array whole on one device whatever mesh saved it (``_single_device_target``), and keeps only
  the params;
* reads the architecture back from the parameter shapes (``decode.config_from_params``) and names
  the preset it matches;
* finds the training data: ``--data`` if given, else a ``train_config.json`` in the workdir with a
  ``data`` key (should the trainer write one; it does not today), else the sibling folders of the
  workdir that are pack outputs (the demo's ``out/demo/{shards,train}`` layout). A candidate counts
  only when its fingerprint is the checkpoint's, so a wrong folder is never used silently;
* finds the vocabulary: ``--vocab``, else the ``inputs.vocab`` path the pack manifest records
  (as given to `palmkit pack`; tried as is, relative to the pack folder and its parent, and by
  its file name beside the pack folder),
  checked against the manifest's ``vocab_sha256``.

The prompt is encoded after one ``[eod]``, as every training row starts
(``trainer.step.shift_right``), so the model sees a document start; the continuation is cut
before the first ``[eod]`` and decoded losslessly.

The vocabulary is ``tokenizer.vocab.Vocabulary`` (``tokenizer`` imports neither Beam nor JAX,
so the trainer may use it): encode and decode are the lossless ones every stage uses.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import logging
import os
from typing import Any

from palmkit import flags
from palmkit.errors import UserError
from palmkit.manifest import MANIFEST_NAME, Manifest, ManifestError

log = logging.getLogger(__name__)

#: Optional record a trainer may write in the workdir (``{"data": PACK_DIR, ...}``): used when present.
TRAIN_RECORD = "train_config.json"


@dataclasses.dataclass
class TrainedModel:
    """A restored workdir: parameters, architecture, and what it was trained on."""

    workdir: str
    step: int
    params: Any
    config: Any  # model_stub.palm.PaLMConfig
    preset: str | None  # the model_stub preset with this architecture, if any
    meta: dict  # the checkpoint's meta (trainer.checkpoint.META_KEYS)
    spec: Any = None  # trainer.data.DataSpec of the training data, when found
    vocab: Any = None  # tokenizer.vocab.Vocabulary, when found


def restore_newest(workdir: str) -> tuple[int, Any, dict]:
    """``(step, params, meta)`` of the newest checkpoint that restores. One-line ``UserError`` for
    a workdir that does not exist, holds no checkpoint, or none intact."""
    import orbax.checkpoint as ocp

    from trainer import checkpoint

    if not os.path.isdir(workdir):
        what = "is not a folder" if os.path.exists(workdir) else "does not exist"
        raise UserError(f"--workdir {workdir} {what}: pass the --workdir of a `palmkit train` run")
    ckpt_dir = checkpoint.checkpoint_dir(workdir)
    if not os.path.isdir(ckpt_dir):
        raise UserError(f"--workdir {workdir} has no {checkpoint.CHECKPOINTS_NAME}/ folder: it was "
                        f"not trained yet (run `palmkit train --workdir {workdir} ...`)")
    options = ocp.CheckpointManagerOptions(create=False)  # restores only: nothing written
    try:
        manager = ocp.CheckpointManager(ckpt_dir, options=options, item_names=("state", "meta"))
    except Exception as e:  # noqa: BLE001 -- any unreadable folder is one line
        raise checkpoint.CheckpointError(f"{ckpt_dir}: cannot open ({checkpoint.one_line(e)})") from e
    try:
        steps = sorted(manager.all_steps(), reverse=True)
        if not steps:
            raise UserError(f"--workdir {workdir}: no checkpoint in {ckpt_dir}; train at least "
                            f"--checkpoint-every steps first")
        damaged = []
        for s in steps:
            try:
                target = _single_device_target(os.path.join(ckpt_dir, str(s), "state"))
                out = manager.restore(s, args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(target), meta=ocp.args.JsonRestore()))
                meta, params = out["meta"], out["state"]["params"]
                missing = [k for k in checkpoint.META_KEYS if k not in (meta or {})]
                if missing:
                    raise ValueError(f"meta lacks {missing}")
            except Exception as e:  # noqa: BLE001 -- reported by step, the next one is tried
                damaged.append(f"step {s}: {checkpoint.one_line(e)}")
                continue
            for d in damaged:
                log.warning("checkpoint %s in %s is damaged; using step %d", d, ckpt_dir, s)
            return s, params, meta
    finally:
        manager.close()
    raise checkpoint.CheckpointError(f"no intact checkpoint in {ckpt_dir}: " + "; ".join(damaged))


def _single_device_target(item_dir: str):
    """Shapes and dtypes of a saved state, each placed on this process's first device.

    The checkpoint's own shardings name the devices it was saved from (a TPU slice, 8 CPU
    devices), and Orbax refuses to restore them onto others; inference wants the whole arrays on
    one device, so the target is built from the saved metadata instead."""
    import jax
    import orbax.checkpoint as ocp
    from etils import epath

    tree = ocp.StandardCheckpointHandler().metadata(epath.Path(item_dir)).tree
    one = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    return jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=one)
                        if hasattr(m, "shape") and hasattr(m, "dtype") else m, tree)


def _fingerprint(directory: str) -> str | None:
    """The trainer's data fingerprint of a pack output, or None if it is not one."""
    import hashlib

    from palmkit.contracts import PACK_STAGE, PackedDataSpec

    try:
        manifest = Manifest.read(directory, stage=PACK_STAGE)
        names = PackedDataSpec.from_manifest(manifest).shards  # token shards, not the sidecars
    except (ManifestError, OSError):
        return None
    # trainer.train.data_fingerprint, from the manifest only
    return hashlib.sha256("".join(manifest.outputs[s].sha256 for s in names).encode()).hexdigest()


def data_candidates(workdir: str) -> list[str]:
    """Where a workdir's training data may be, in the order tried (module docstring)."""
    out = []
    record = os.path.join(workdir, TRAIN_RECORD)
    if os.path.exists(record):
        try:
            with open(record, encoding="utf-8") as f:
                data = json.load(f).get("data")
            if isinstance(data, str):
                out.append(data if os.path.isabs(data) else os.path.join(workdir, data))
        except (OSError, ValueError, AttributeError):
            log.warning("%s is not JSON with a data path; ignored", record)
    parent = os.path.dirname(os.path.abspath(workdir))
    for path in sorted(glob.glob(os.path.join(parent, "*", MANIFEST_NAME))):
        folder = os.path.dirname(path)
        if os.path.abspath(folder) != os.path.abspath(workdir):
            out.append(folder)
    return out


def find_data(workdir: str, fingerprint: str, data: str | None, *, verify_checksums: bool = True):
    """The ``DataSpec`` of the shards the checkpoint was trained on, or None if not found (and
    ``data`` not given). ``UserError`` when ``data`` is given but is other data."""
    from trainer import data as train_data

    if data is not None:
        spec = train_data.read_spec(data, verify_checksums=verify_checksums)
        if _fingerprint(data) != fingerprint:
            raise UserError(f"--data {data} is not the data {workdir} was trained on (the shards' "
                            f"checksums differ from the checkpoint's data fingerprint)")
        return spec
    for folder in data_candidates(workdir):
        if _fingerprint(folder) == fingerprint:
            log.info("training data of %s: %s", workdir, folder)
            return train_data.read_spec(folder, verify_checksums=verify_checksums)
    return None


def _load_vocab(path: str):
    """The lossless ``tokenizer.vocab.Vocabulary`` (one-line ``UserError`` when it is not one)."""
    import tokenizer

    return tokenizer.load(path)


def find_vocab(spec, vocab: str | None):
    """The ``Vocabulary``: ``vocab`` if given, else the one the pack manifest records; checked
    against the manifest's SHA-256 when ``spec`` is known. None if neither is available."""
    load = _load_vocab
    if vocab is not None:
        voc = load(vocab)
        if spec is not None and voc.sha256 != spec.vocab_sha256:
            raise UserError(f"--vocab {vocab} is not the vocabulary the training data was encoded "
                            f"with (SHA-256 {voc.sha256[:12]}, the pack manifest says "
                            f"{spec.vocab_sha256[:12]})")
        return voc
    if spec is None:
        return None
    recorded = Manifest.read(spec.directory).inputs.get("vocab")
    if not isinstance(recorded, str):
        return None
    parent = os.path.dirname(os.path.abspath(spec.directory))
    for path in (recorded, os.path.join(spec.directory, recorded), os.path.join(parent, recorded),
                 os.path.join(parent, os.path.basename(recorded))):
        if os.path.exists(path):
            voc = load(path)
            if voc.sha256 == spec.vocab_sha256:
                return voc
    return None


def matching_preset(config) -> str | None:
    from model_stub.palm import PRESETS

    arch = ("vocab_size", "n_layers", "n_heads", "d_model", "d_ff", "head_dim")
    for name, preset in PRESETS.items():
        if all(getattr(preset, a) == getattr(config, a) for a in arch[1:]):
            return name
    return None


def load_workdir(workdir: str, *, data: str | None = None, vocab: str | None = None,
                 need_data: bool = False, need_vocab: bool = False,
                 verify_checksums: bool = True) -> TrainedModel:
    """Restore ``workdir`` for inference (module docstring); ``need_*``: a one-line
    ``UserError`` naming the flag when the data or the vocabulary cannot be found."""
    from model_stub.decode import config_from_params

    step, params, meta = restore_newest(workdir)
    spec = find_data(workdir, meta["data_fingerprint"], data, verify_checksums=verify_checksums)
    if spec is None and need_data:
        raise UserError(f"cannot find the shards {workdir} was trained on (no {TRAIN_RECORD} and no "
                        f"sibling pack output with its data fingerprint): pass --data PACK_DIR")
    voc = find_vocab(spec, vocab)
    if voc is None and need_vocab:
        where = "" if spec is None else f" ({spec.directory}'s manifest names none that exists)"
        raise UserError(f"cannot find the vocabulary of {workdir}{where}: pass --vocab VOCAB.model"
                        + ("" if spec is not None else " (or --data PACK_DIR)"))
    eod = spec.eod_id if spec is not None else (voc.eod_id if voc is not None else None)
    config = config_from_params(params, seq_len=spec.seq_len if spec is not None else 2048, eod_id=eod)
    if voc is not None and voc.vocab_size > config.vocab_size:
        raise UserError(f"vocabulary of {voc.vocab_size} ids but the model embeds {config.vocab_size}")
    return TrainedModel(workdir=workdir, step=step, params=params, config=config,
                        preset=matching_preset(config), meta=meta, spec=spec, vocab=voc)


@dataclasses.dataclass
class GenerateConfig:
    """`palmkit generate`'s options."""

    workdir: str = flags.option(help="--workdir of a `palmkit train` run (newest intact checkpoint)")
    prompt: str = flags.option(help="text to continue (encoded losslessly)")
    max_new_tokens: int = flags.option(64, help="tokens generated at most (stops earlier at [eod])")
    data: str | None = flags.option(None, help="pack output it trained on (default: found beside "
                                               "the workdir by its data fingerprint)")
    vocab: str | None = flags.option(None, help="SentencePiece .model (default: the one the pack "
                                                "manifest records)")
    document_start: bool = flags.option(True, negate="--no-document-start",
                                        help="do not put [eod] before the prompt")

    def __post_init__(self) -> None:
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise UserError(f"--max-new-tokens {self.max_new_tokens!r}: must be an integer >= 1")
        if not self.prompt and not self.document_start:
            raise UserError("--prompt is empty and --no-document-start leaves nothing to continue")


def main(config: GenerateConfig) -> dict:
    """Generate; returns ``text`` (the continuation), ``tokens`` (its ids), ``stopped_at_eod``,
    ``prompt_tokens``, ``step`` and ``preset``."""
    import jax.numpy as jnp
    import numpy as np

    from model_stub import decode

    model = load_workdir(config.workdir, data=config.data, vocab=config.vocab, need_vocab=True)
    ids = model.vocab.encode(config.prompt)
    if config.document_start:
        ids = [model.vocab.eod_id] + ids
    if len(ids) + config.max_new_tokens > model.config.seq_len:
        log.warning("prompt + --max-new-tokens = %d tokens, longer than the %d the model trained on",
                    len(ids) + config.max_new_tokens, model.config.seq_len)
    out = decode.greedy(model.params, model.config, jnp.asarray([ids], jnp.int32),
                        config.max_new_tokens)
    row = np.asarray(out)[0]
    kept = decode.cut_at(row, model.vocab.eod_id)
    return {"text": model.vocab.decode(kept), "tokens": kept, "stopped_at_eod": len(kept) < len(row),
            "prompt_tokens": ids, "step": model.step, "preset": model.preset}
