"""`palmkit aot`: parses flags into an ``AotConfig`` and prints the compile report.

Sets libtpu's environment before JAX starts (quiet start-up, CPU stays the default backend);
``trainer.aot`` and ``trainer.cli`` import no JAX, so the flags can be built first."""

from __future__ import annotations

import argparse
import os

# libtpu looks for TPU metadata and prints warnings without these; none of them attach a TPU.
LIBTPU_ENV = {"TPU_ACCELERATOR_TYPE": "v4-8", "TPU_WORKER_HOSTNAMES": "localhost",
              "TPU_WORKER_ID": "0", "TPU_SKIP_MDS_QUERY": "1", "JAX_PLATFORMS": "cpu",
              # only compiling, no chip is opened: several aot runs may share the machine
              "ALLOW_MULTIPLE_LIBTPU_LOAD": "1"}


def configure(p: argparse.ArgumentParser) -> None:
    from palmkit import flags
    from trainer.aot import AotConfig
    from trainer.cli import add_mesh_flag

    flags.add_flags(p, AotConfig)
    add_mesh_flag(p, AotConfig)


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from palmkit import flags
    from trainer.cli import mesh_fields

    config_fields = mesh_fields(args.mesh)  # a bad --mesh: one line, before JAX starts
    for key, value in LIBTPU_ENV.items():
        os.environ.setdefault(key, value)
    from trainer.aot import TABLE_HEADER, AotConfig, TpuExtraMissing, compile_report

    config = flags.from_args(AotConfig, args, **config_fields)
    try:
        report = compile_report(config)
    except TpuExtraMissing as e:
        print(f"error: {e}")
        return 2
    print(TABLE_HEADER)
    print(report.table_row())
    return 0 if report.fits else 1
