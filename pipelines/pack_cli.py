"""`palmkit pack`: parse flags into a PackConfig and run the pack job (Beam flags pass through)."""

from __future__ import annotations

import argparse
import logging

ACCEPTS_EXTRA = True  # Beam pipeline options (--runner, --direct_num_workers, ...) pass through


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Tokenize a cleaned corpus, sample each component to its mixture share, shuffle "
        "deterministically and pack into exactly SEQ_LEN-token examples joined by [eod] (no "
        "padding), written as Parquet shards plus a manifest the trainer checks. Unknown flags "
        "are Beam pipeline options, e.g. --runner=DataflowRunner --project=P --region=R "
        "--temp_location=gs://B/tmp --setup_file=./setup.py, or --direct_num_workers=2."
    )
    p.add_argument("--corpus", required=True, help="folder written by `palmkit corpus`")
    p.add_argument("--vocab", required=True, help="SentencePiece .model from `palmkit vocab train`")
    p.add_argument("--output", required=True, help="folder for shards and manifest.json")
    p.add_argument("--mixture", default=None,
                   help="built-in name (palm, palm-refresh) or YAML file; default: the corpus's")
    p.add_argument("--total-tokens", type=int, default=None,
                   help="token budget; default: the largest that repeats no component. With a "
                        "larger budget, short components repeat whole epochs (with a warning)")
    p.add_argument("--seq-len", type=int, default=2048, help="tokens per example (PaLM: 2048)")
    p.add_argument("--num-shards", type=int, default=8,
                   help="output shards; one shard is packed in one worker's memory, so keep "
                        "total tokens / shards below ~100M")
    p.add_argument("--seed", type=int, default=0, help="seed of sampling and shuffling")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a previous pack in --output; it is kept until this run succeeds, "
                        "and none of its shards is left beside the new ones")
    p.add_argument("--no-verify-checksums", dest="verify_checksums", action="store_false",
                   help="skip re-hashing the corpus shards against their manifest (sizes are "
                        "still checked); hashing costs a few seconds per GB")


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from pipelines.pack import PackConfig, main

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = PackConfig(
        corpus=args.corpus, vocab=args.vocab, output=args.output, mixture=args.mixture,
        total_tokens=args.total_tokens, seq_len=args.seq_len, num_shards=args.num_shards,
        seed=args.seed, overwrite=args.overwrite, verify_checksums=args.verify_checksums,
    )
    manifest = main(config, extra)
    counts = manifest.counts
    print(f"packed {sum(manifest.extra['examples_per_shard'])} examples of {config.seq_len} tokens "
          f"({counts['tokens_packed']} tokens, {counts['dropped_tokens']} dropped) into "
          f"{config.output}")
    for c, info in counts["components"].items():
        print(f"  {c:<12} target {info['target_share']:6.2%}  actual {info['actual_share']:6.2%}"
              f"  epochs {info['rate']:.3f}")
    return 0
