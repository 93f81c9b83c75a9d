"""`palmkit contamination`: parse flags into a ContaminationConfig and run the job (Beam flags
pass through). Prints the summary table (examples, contaminated count and %, per set)."""

from __future__ import annotations

import argparse

ACCEPTS_EXTRA = True  # Beam pipeline options (--runner, --direct_num_workers, ...) pass through


def configure(p: argparse.ArgumentParser) -> None:
    from palmkit import flags
    from pipelines.contamination.job import ContaminationConfig

    p.description = (
        "Check evaluation sets against a corpus (PaLM section 8): an example is contaminated "
        "when at least --fraction of its --n-grams occur in the corpus. Writes per-set results "
        "(Parquet, JSON id lists), summary.json and a manifest; --remove also writes the corpus "
        "without the documents sharing a --remove-ngram n-gram with an example. Unknown flags "
        "are Beam pipeline options, e.g. --direct_num_workers=2.")
    flags.add_flags(p, ContaminationConfig)


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from palmkit import flags
    from palmkit.report import contamination as report
    from pipelines.contamination.job import ContaminationConfig, main

    config = flags.from_args(ContaminationConfig, args)
    manifest = main(config, extra)
    print(report.summary_table(manifest.extra["summary"]))
    if config.remove:
        print(f"decontaminated corpus: {config.output}/corpus")
    return 0
