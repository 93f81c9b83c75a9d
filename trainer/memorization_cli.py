"""`palmkit memorization`: parses flags into a ``MemorizationConfig``, prints the summary.

Only parsing happens here (``trainer.memorization`` holds the job); JAX is imported when it runs."""

from __future__ import annotations

import argparse


def configure(p: argparse.ArgumentParser) -> None:
    from palmkit import flags
    from trainer.memorization import MemorizationConfig

    p.description = (
        "PaLM's memorization probe (section 7): sample spans of the training data the workdir's "
        "schedule fed, prompt with the first 50 tokens, greedy-decode 50, count exact matches; "
        "the rate overall and by how often the span occurs in the data, with the paper's numbers "
        "(8B 1.6%, 540B 2.4%). Writes JSON (--output).")
    flags.add_flags(p, MemorizationConfig)


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from palmkit import flags
    from trainer.memorization import MemorizationConfig, main
    from palmkit.report.memorization import summary_lines

    config = flags.from_args(MemorizationConfig, args)
    for line in summary_lines(main(config)):
        print(line)
    print(f"written: {config.output}")
    return 0
