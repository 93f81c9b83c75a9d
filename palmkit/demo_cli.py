"""`palmkit demo`: the whole flow on the bundled sample (what `make demo` runs)."""

from __future__ import annotations

import argparse
import logging


def configure(p: argparse.ArgumentParser) -> None:
    from palmkit.demo import DemoConfig

    d = DemoConfig()
    p.description = ("Run palmkit corpus -> vocab train -> pack -> train -> stats --html on the "
                     "bundled sample (data/sample) and print a summary. ~2-5 minutes on 2 cores.")
    p.add_argument("--output", default=d.output, help="folder for every output (replaced)")
    p.add_argument("--sources", default=d.sources, help="sources YAML (default: the sample)")
    p.add_argument("--vocab-size", type=int, default=d.vocab_size,
                   help="vocabulary size the sample supports (256k needs ~200 MB of text)")
    p.add_argument("--seq-len", type=int, default=d.seq_len,
                   help="example length (PaLM: 2048; shorter trains faster on a CPU)")
    p.add_argument("--preset", default=d.preset, help="model preset (see `palmkit model info`)")
    p.add_argument("--steps", type=int, default=d.steps, help="training steps")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="sequences per step")
    p.add_argument("--quality-alpha", type=float, default=d.quality_alpha,
                   help="web quality sampling alpha (GPT-3: 9; the sample is too small for it)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of every stage (sampling, vocabulary, model init)")


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from palmkit.demo import DemoConfig, main

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s",
                        force=True)
    main(DemoConfig(output=args.output, sources=args.sources, vocab_size=args.vocab_size,
                    seq_len=args.seq_len, preset=args.preset, steps=args.steps,
                    batch_size=args.batch_size, quality_alpha=args.quality_alpha, seed=args.seed))
    return 0
