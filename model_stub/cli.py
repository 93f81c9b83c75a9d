"""`palmkit model ...`: only parses flags into a job config (see model_stub.info)."""

from __future__ import annotations

import argparse

# Preset names are repeated here (not imported) so `palmkit model --help` does not import JAX.
_PRESETS = ("palm-8b", "palm-62b", "palm-540b", "palm-1b", "palm-tiny", "palm-small")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="model_command", metavar="SUBCOMMAND")
    sub.required = True
    info = sub.add_parser(
        "info",
        help="parameters by kind, FLOPs per token and memory of a preset",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    info.add_argument("--preset", required=True, choices=_PRESETS, help="model preset")
    info.add_argument("--vocab-size", type=int, default=None, help="override the preset's vocabulary")
    info.add_argument("--seq-len", type=int, default=None, help="override the preset's sequence length")
    info.add_argument("--json", dest="as_json", action="store_true", help="print JSON")


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from model_stub import info

    info.main(
        info.InfoConfig(
            preset=args.preset, vocab_size=args.vocab_size, seq_len=args.seq_len, as_json=args.as_json
        )
    )
    return 0
