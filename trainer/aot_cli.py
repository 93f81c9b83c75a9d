"""`palmkit aot`: parses flags into an ``AotConfig`` and prints the compile report.

Sets libtpu's environment before JAX starts (quiet start-up, CPU stays the default backend)."""

from __future__ import annotations

import argparse
import os

# libtpu looks for TPU metadata and prints warnings without these; none of them attach a TPU.
LIBTPU_ENV = {"TPU_ACCELERATOR_TYPE": "v4-8", "TPU_WORKER_HOSTNAMES": "localhost",
              "TPU_WORKER_ID": "0", "TPU_SKIP_MDS_QUERY": "1", "JAX_PLATFORMS": "cpu",
              # only compiling, no chip is opened: several aot runs may share the machine
              "ALLOW_MULTIPLE_LIBTPU_LOAD": "1"}


def configure(p: argparse.ArgumentParser) -> None:
    from trainer.cli import _mesh

    p.add_argument("--preset", required=True, help="e.g. palm-8b, palm-62b, palm-540b")
    p.add_argument("--topology", required=True, help="TPU v4 slice, e.g. v4-128 (64 chips)")
    p.add_argument("--mesh", type=_mesh, default={}, help="data=N,model=M (default model=1)")
    p.add_argument("--batch", type=int, help="global batch in sequences (default 2 per data shard)")
    p.add_argument("--seq-len", type=int, help="sequence length (default: the preset's, 2048)")
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"],
                   help="matmul dtype on the TPU")
    p.add_argument("--no-remat", action="store_true", help="keep activations (more memory)")
    p.add_argument("--unroll", action="store_true",
                   help="unrolled layers: compiler FLOPs for the whole step (slower compile)")


def run(args: argparse.Namespace, extra: list[str]) -> int:
    for key, value in LIBTPU_ENV.items():
        os.environ.setdefault(key, value)
    from trainer.aot import TABLE_HEADER, AotConfig, TpuExtraMissing, compile_report

    config = AotConfig(preset=args.preset, topology=args.topology,
                       mesh_data=args.mesh.get("data"), mesh_model=args.mesh.get("model", 1),
                       batch=args.batch, dtype=args.dtype, remat=not args.no_remat,
                       seq_len=args.seq_len, unroll=args.unroll)
    try:
        report = compile_report(config)
    except TpuExtraMissing as e:
        print(f"error: {e}")
        return 2
    print(TABLE_HEADER)
    print(report.table_row())
    return 0 if report.fits else 1
