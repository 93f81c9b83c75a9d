"""`palmkit corpus`: flags generated from ``CorpusConfig``, then ``pipelines.corpus.main``.

Unknown flags are Beam pipeline options and pass through unchanged, e.g.
``--runner=DataflowRunner --project=P --region=R --temp_location=gs://B/tmp
--extra_package=dist/palmkit-0.1.0.tar.gz --requirements_file=requirements-workers.lock``
(``make worker-package`` builds the tarball; docs/dataflow.md)
or ``--direct_num_workers=2 --direct_running_mode=multi_processing``.
"""

from __future__ import annotations

import argparse

ACCEPTS_EXTRA = True

DESCRIPTION = ("Read, validate and clean sources into a Parquet corpus (Beam). Flags not listed "
               "here are Beam pipeline options (--runner=DataflowRunner ...).")


def configure(parser: argparse.ArgumentParser) -> None:
    from palmkit import flags
    from pipelines.corpus import CorpusConfig  # imports Beam and the stages: their options

    parser.description = DESCRIPTION
    flags.add_flags(parser, CorpusConfig)


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from palmkit import flags
    from palmkit.tables import count_table
    from pipelines.corpus import CorpusConfig, main

    config = flags.from_args(CorpusConfig, args)
    manifest = main(config, extra, progress=not getattr(args, "quiet", False))
    if manifest is not None:
        print(count_table(manifest.counts))
        if "timings" in manifest.extra:  # pipelines/timings.py
            from pipelines.timings import timing_table

            print(timing_table(manifest.extra["timings"]))
        print(f"wrote {len(manifest.outputs)} files and manifest.json to {config.output}")
    return 0
