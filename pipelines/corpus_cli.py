"""`palmkit corpus`: parse flags into a CorpusConfig and run ``pipelines.corpus.main``.

Unknown flags are Beam pipeline options and pass through unchanged, e.g.
``--runner=DataflowRunner --project=P --region=R --temp_location=gs://B/tmp --setup_file=./setup.py``
or ``--direct_num_workers=2 --direct_running_mode=multi_processing``.
"""

from __future__ import annotations

import argparse
import logging
import sys

ACCEPTS_EXTRA = True


def configure(parser: argparse.ArgumentParser) -> None:
    from pipelines.validate import DEFAULT_MAX_DOC_BYTES  # light: no Beam import

    parser.add_argument("--sources", required=True, help="sources YAML file (see pipelines/sources.py)")
    parser.add_argument("--output", required=True, help="output folder or URL (gs://...)")
    parser.add_argument("--mixture", default="palm", help="built-in mixture name or YAML file")
    parser.add_argument("--max-doc-bytes", type=int, default=DEFAULT_MAX_DOC_BYTES,
                        help="documents above this many UTF-8 bytes are rejected as too_large")
    parser.add_argument("--num-shards", type=int, default=None,
                        help="Parquet shards per component and for rejects (default: sized per "
                             "component from the input at launch, ~256 MB of text per shard; one "
                             "shard is sorted in one worker's memory, keep it under ~1 GB)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing corpus in --output")
    parser.add_argument("--quiet", action="store_true", help="no per-file progress lines")
    parser.add_argument("--stages", default=None,
                        help="comma-separated cleaning stages as module:Class (default: language "
                             "ID, code license filter, exact dedup, code near-dedup, web quality "
                             "sampling); 'none' for read + validate only")
    g = parser.add_argument_group("cleaning stages")
    g.add_argument("--seed", type=int, default=0, help="seed of quality sampling and training")
    g.add_argument("--langid-model", default=None,
                   help="fastText LID model (default: bundled lid.176.ftz; lid.176.bin is more "
                        "accurate)")
    g.add_argument("--langid-threshold", type=float, default=None,
                   help="confidence below which the language is 'und' (default 0.5)")
    g.add_argument("--quality-model", default=None,
                   help="fastText quality classifier (label __label__curated); default: train "
                        "one on this corpus (mixture's quality_reference vs web)")
    g.add_argument("--quality-alpha", type=float, default=None,
                   help="keep a page iff pareto(alpha) > 1 - score (GPT-3: alpha 9, the default)")
    g.add_argument("--quality-train-docs", type=int, default=None,
                   help="documents per class to train the quality classifier (default 10000)")
    g.add_argument("--exact-dedup-normalisation", choices=["none", "strip", "nfc_lower"],
                   default=None, help="text normalisation before exact dedup (default none)")
    g.add_argument("--exact-dedup-scope", choices=["corpus", "component"], default=None,
                   help="de-duplicate across components or within each (default corpus)")
    g.add_argument("--allow-unknown-license", action="store_true", default=None,
                   help="keep code whose repository license is unknown (default: reject)")
    g.add_argument("--near-dedup-threshold", type=float, default=None,
                   help="normalized Levenshtein similarity at or above which code files are "
                        "near-duplicates (default: see docs/benchmarks.md)")


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from pipelines.corpus import CorpusConfig, main

    # force: importing Beam installs a root handler, which would make basicConfig a no-op.
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", force=True)
    logging.getLogger("apache_beam").setLevel(logging.WARNING)  # keep progress lines readable
    from palmkit.errors import UserError

    if (args.num_shards is not None and args.num_shards < 1) or args.max_doc_bytes < 1:
        raise UserError("--num-shards and --max-doc-bytes must be >= 1")
    from pipelines.corpus import DEFAULT_STAGES

    if args.stages is None:
        stages = DEFAULT_STAGES
    else:
        stages = tuple(s for s in args.stages.split(",") if s and s != "none")
    config = CorpusConfig(
        sources=args.sources,
        output=args.output,
        mixture=args.mixture,
        max_doc_bytes=args.max_doc_bytes,
        num_shards=args.num_shards,
        overwrite=args.overwrite,
        stages=stages,
        seed=args.seed,
        langid_model=args.langid_model,
        langid_threshold=args.langid_threshold,
        quality_model=args.quality_model,
        quality_alpha=args.quality_alpha,
        quality_train_docs=args.quality_train_docs,
        exact_dedup_normalisation=args.exact_dedup_normalisation,
        exact_dedup_scope=args.exact_dedup_scope,
        allow_unknown_license=args.allow_unknown_license,
        near_dedup_threshold=args.near_dedup_threshold,
    )
    manifest = main(config, extra)
    if manifest is not None:
        for comp, c in manifest.counts.items():
            rejected = sum(c["rejected"].values())
            print(f"{comp:12s} read {c['read']:>9,d}  kept {c['kept']:>9,d}  "
                  f"rejected {rejected:>9,d}  {c['rejected']}")
        print(f"wrote {len(manifest.outputs)} files and manifest.json to {args.output}")
    return 0


def main_from_argv(argv: list[str]) -> int:
    """``python -m pipelines.corpus ...``: same flags as ``palmkit corpus``."""
    from palmkit import cli

    return cli.main(["corpus", *argv])  # the same parsing, checks and one-line errors


if __name__ == "__main__":
    sys.exit(main_from_argv(sys.argv[1:]))
