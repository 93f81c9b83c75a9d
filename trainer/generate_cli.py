"""`palmkit generate`: parses flags into a ``GenerateConfig`` and prints the continuation.

Only parsing happens here (``trainer.generate`` holds the job); JAX is imported when it runs."""

from __future__ import annotations

import argparse


def configure(p: argparse.ArgumentParser) -> None:
    from palmkit import flags
    from trainer.generate import GenerateConfig

    p.description = ("Greedy continuation of --prompt by the newest intact checkpoint of a "
                     "`palmkit train` workdir (KV-cache decode), decoded losslessly; stops at [eod].")
    flags.add_flags(p, GenerateConfig)


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from palmkit import flags
    from trainer.generate import GenerateConfig, main

    result = main(flags.from_args(GenerateConfig, args))
    print(args.prompt + result["text"])
    return 0
