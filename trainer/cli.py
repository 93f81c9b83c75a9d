"""`palmkit train`: parses flags into a ``TrainConfig`` and calls ``trainer.train.main``.

Only parsing happens here; the flags, their defaults and help are ``TrainConfig``'s fields
(``palmkit.flags``). ``--batch-schedule`` and ``--mesh`` are converted after argparse (not by
it, which would print its usage block first), so a value that does not parse is a
``UserError`` naming the flag; a value out of range is a ``UserError`` from
``TrainConfig.validate``, so ``main(config)`` called from Python gets the same checks. Either way
`palmkit train` exits 2 with one line. A workdir already at or past ``--steps`` prints one line
and exits 0 (a resume loop that re-runs the same command ends cleanly). ``--quiet`` (palmkit's,
``--no-progress`` its old spelling) turns the progress bar off.

``--mesh`` is shared with `palmkit aot` (``add_mesh_flag``, ``mesh_fields``). JAX is imported
by the config module (``trainer.train``) but started only by ``run``. ``--distributed`` (with
``--coordinator-address``, ``--num-processes``, ``--process-id`` where JAX cannot find them
itself) calls ``jax.distributed.initialize`` first: docs/interop.md, tests/test_multiprocess.py."""

from __future__ import annotations

import argparse
import dataclasses

from palmkit import flags
from palmkit.errors import UserError


@dataclasses.dataclass(frozen=True)
class ModelFlags:
    """Flags that force a ``PaLMConfig`` field (``TrainConfig.model_overrides``); ``None`` and
    ``False`` leave the preset's value, with the manifest's vocabulary, length and [eod]."""

    seq_len: int | None = flags.option(None, help="force the model's sequence length (default: the manifest's)")
    vocab_size: int | None = flags.option(None, help="force the model's vocabulary (default: the manifest's)")
    eod_id: int | None = flags.option(None, help="force the model's [eod] id (default: the manifest's)")
    dtype: str | None = flags.option(None, choices=("float32", "bfloat16"),
                                     help="matmul dtype (bfloat16 on GPU/TPU; default: the preset's)")
    remat: bool = flags.option(False, help="recompute activations in the backward pass")


@dataclasses.dataclass(frozen=True)
class DistributedFlags:
    """``jax.distributed.initialize``'s arguments (with ``--distributed``). On TPU pods and
    SLURM/Open MPI GPU clusters JAX finds all three itself; elsewhere (several processes on one
    machine, as in tests/test_multiprocess.py, or hosts without a cluster manager) pass them.
    CPU processes exchange collectives through Gloo (JAX's default ``jax_cpu_collectives_implementation``)."""

    coordinator_address: str | None = flags.option(
        None, help="HOST:PORT of process 0's coordinator (default: found by JAX on TPU/SLURM)")
    num_processes: int | None = flags.option(None, help="number of processes (default: found by JAX)")
    process_id: int | None = flags.option(None, help="this process's index, 0..N-1 (default: found by JAX)")
    initialization_timeout: int = flags.option(
        300, help="seconds to wait for every process to join before failing")


def add_mesh_flag(p: argparse.ArgumentParser, config_cls: type) -> None:
    """``--mesh data=N,model=M``, setting ``config_cls``'s ``mesh_data`` and ``mesh_model``."""
    model = next(f.default for f in dataclasses.fields(config_cls) if f.name == "mesh_model")
    p.add_argument("--mesh", default=None, metavar="data=N,model=M",
                   help=f"devices on each mesh axis; a part left out: model={model}, data = all "
                        f"devices / model")


def mesh_fields(text: str | None) -> dict[str, int]:
    """``"data=4,model=2"`` -> ``{"mesh_data": 4, "mesh_model": 2}``, only the parts given
    (the config's defaults fill the rest); ``UserError`` naming ``--mesh`` if it does not parse."""
    out: dict[str, int] = {}
    for part in text.split(",") if text else ():
        key, _, value = part.partition("=")
        if key not in ("data", "model") or not value.isdigit():
            raise UserError(f"--mesh {text!r}: expected data=N,model=M")
        out[f"mesh_{key}"] = int(value)
    return out


def configure(p: argparse.ArgumentParser) -> None:
    from trainer.train import TrainConfig

    flags.add_flags(p, TrainConfig)
    add_mesh_flag(p, TrainConfig)
    flags.add_flags(p.add_argument_group("model: forced over the preset and the manifest"),
                    ModelFlags)
    p.add_argument("--distributed", action="store_true",
                   help="call jax.distributed.initialize() first (multi-host TPU/GPU, or CPU "
                        "processes with the flags below)")
    flags.add_flags(p.add_argument_group("distributed: with --distributed"), DistributedFlags)


def distributed_kwargs(args: argparse.Namespace) -> dict:
    """``jax.distributed.initialize`` keyword arguments of the parsed flags (unset ones left to
    JAX's auto-detection); ``UserError`` for a process id outside ``0..N-1``."""
    given = dataclasses.asdict(flags.from_args(DistributedFlags, args))
    n, i = given["num_processes"], given["process_id"]
    if n is not None and n < 1:
        raise UserError(f"--num-processes {n}: must be >= 1")
    if i is not None and (i < 0 or (n is not None and i >= n)):
        raise UserError(f"--process-id {i}: must be in 0..{(n or 1) - 1}")
    return {k: v for k, v in given.items() if v is not None}


def build_config(args: argparse.Namespace):
    """The ``TrainConfig`` of parsed flags (``UserError`` for a value out of range)."""
    from trainer.train import TrainConfig

    model = dataclasses.asdict(flags.from_args(ModelFlags, args))
    overrides = {k: v for k, v in model.items() if v is not None and v is not False}
    return flags.from_args(TrainConfig, args, model_overrides=overrides,
                           progress=not getattr(args, "quiet", False), **mesh_fields(args.mesh))


def run(args: argparse.Namespace, extra: list[str]) -> int:
    config = build_config(args)  # checked before any JAX start-up
    if args.distributed:
        import jax

        jax.distributed.initialize(**distributed_kwargs(args))
    from trainer.train import main

    result = main(config)
    if not result["trained"]:
        print(result["message"])
        return 0
    print(f"trained to step {result['step']} in {config.workdir} "
          f"({len(result['skips'])} skipped ranges, {result['rollbacks']} rollbacks this run)")
    return 0
