"""`palmkit model ...`: only parses flags into a job config (see model_stub.info).

The flags are ``InfoConfig``'s fields; the preset choices come from ``model_stub.palm.PRESETS``,
so `palmkit model info --help` imports JAX (a second or two), `palmkit --help` does not."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    from model_stub.info import InfoConfig
    from palmkit import flags

    sub = parser.add_subparsers(dest="model_command", metavar="SUBCOMMAND")
    sub.required = True
    info = sub.add_parser("info", help="parameters by kind, FLOPs per token and memory of a preset")
    flags.add_flags(info, InfoConfig)


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from model_stub import info
    from palmkit import flags

    info.main(flags.from_args(info.InfoConfig, args))
    return 0
