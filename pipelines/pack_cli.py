"""`palmkit pack`: parse flags into a PackConfig and run the pack job (Beam flags pass through).

Also ``python -m pipelines.pack ...``, through the same parser (``main_from_argv``)."""

from __future__ import annotations

import argparse
import sys

ACCEPTS_EXTRA = True  # Beam pipeline options (--runner, --direct_num_workers, ...) pass through


def configure(p: argparse.ArgumentParser) -> None:
    from palmkit import flags
    from pipelines.pack import PackConfig

    p.description = (
        "Tokenize a cleaned corpus, sample each component to its mixture share, shuffle "
        "deterministically and pack into exactly SEQ_LEN-token examples joined by [eod] (no "
        "padding), written as Parquet shards plus a manifest the trainer checks. Unknown flags "
        "are Beam pipeline options, e.g. --runner=DataflowRunner --project=P --region=R "
        "--temp_location=gs://B/tmp --extra_package=dist/palmkit-0.1.0.tar.gz "
        "--requirements_file=requirements-workers.lock (make worker-package; docs/dataflow.md), "
        "or --direct_num_workers=2."
    )
    flags.add_flags(p, PackConfig)


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from palmkit import flags
    from palmkit.contracts import PackedDataSpec
    from pipelines.pack import PackConfig, main

    config = flags.from_args(PackConfig, args)
    manifest = main(config, extra, progress=not getattr(args, "quiet", False))
    counts = manifest.counts
    print(f"packed {PackedDataSpec.from_manifest(manifest).num_examples} examples of {config.seq_len} tokens "
          f"({counts['tokens_packed']} tokens, {counts['dropped_tokens']} dropped) into "
          f"{config.output}")
    for c, info in counts["components"].items():
        print(f"  {c:<12} target {info['target_share']:6.2%}  actual {info['actual_share']:6.2%}"
              f"  epochs {info['rate']:.3f}")
    if "timings" in manifest.extra:  # pipelines/timings.py
        from pipelines.timings import timing_table

        print(timing_table(manifest.extra["timings"]))
    return 0


def main_from_argv(argv: list[str]) -> int:
    """``python -m pipelines.pack ...``: same flags as ``palmkit pack``."""
    from palmkit import cli

    return cli.main(["pack", *argv])  # the same parsing, checks and one-line errors


if __name__ == "__main__":
    sys.exit(main_from_argv(sys.argv[1:]))
