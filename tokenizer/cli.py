"""`palmkit vocab train|encode|decode|inspect|check`: parse flags into configs, call the jobs."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from tokenizer import train as train_job

TRAIN_HELP = """\
Train PaLM's lossless SentencePiece vocabulary from a `palmkit corpus` folder.

Size: 256,000 pieces need about 200 MB of text (SentencePiece refuses 256k on too little: 21 MB
capped it at 47,555 pieces); a sample that is clearly too small is refused before training, and
SentencePiece's own refusal is reported with the text size it needs. 32k pieces need ~13 MB.
Measured on 230 MB, 2 cores: BPE 256k 37 s and 2.8 GiB peak; unigram 256k 5.6 min and 4.5 GiB.
Memory grows with --sample-bytes (about 12x for BPE, 20x for unigram). See docs/benchmarks.md.
"""

MODEL_TYPE_HELP = (
    "bpe (default): 2%% fewer tokens than unigram on held-out text at 256k, 9x faster training, "
    "same pieces whatever --num-threads; encodes 4x slower (5 vs 21 MB/s per core). unigram: "
    "pick it when encode speed matters more than compression (docs/benchmarks.md, "
    "'Choosing the model type')"
)


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a vocabulary", description=TRAIN_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    d = train_job.TrainConfig(corpus="", output="")
    p.add_argument("--corpus", required=True, help="folder written by `palmkit corpus`")
    p.add_argument("--output", required=True, help="prefix: writes PREFIX.model and PREFIX.json")
    p.add_argument("--vocab-size", type=int, default=d.vocab_size, help="pieces (default %(default)s)")
    p.add_argument("--model-type", choices=train_job.MODEL_TYPES, default=d.model_type,
                   help=MODEL_TYPE_HELP)
    p.add_argument("--sample-bytes", type=float, default=d.sample_bytes,
                   help="UTF-8 bytes of text to train on, drawn by mixture share (default %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="sample and SentencePiece seed")
    p.add_argument("--mixture", default=None, help="mixture name or YAML (default: the corpus's)")
    p.add_argument("--language-temperature", type=float, default=d.language_temperature,
                   help="language share in a component ~ bytes**(1/T); >1 flattens (default 1)")
    p.add_argument("--heldout-bytes", type=float, default=d.heldout_bytes,
                   help="held-out text for the compression report (default %(default)s)")
    p.add_argument("--chunk-bytes", type=int, default=d.chunk_bytes,
                   help="documents are fed as multi-line sentences of at most this many bytes")
    p.add_argument("--character-coverage", type=float, default=d.character_coverage,
                   help="share of characters that get their own piece; the rarest rest fall back "
                        "to UTF-8 byte tokens (default %(default)s)")
    p.add_argument("--digits", choices=("all", "ascii"), default=d.digits,
                   help="all: every Unicode decimal digit is one piece (650 extra pieces); "
                        "ascii: only 0-9 are split")
    p.add_argument("--max-sentencepiece-length", type=int, default=d.max_sentencepiece_length,
                   help="longest piece in characters")
    p.add_argument("--num-threads", type=int, default=d.num_threads,
                   help="SentencePiece threads (default: this machine's cores); recorded in the "
                        "model, and unigram pieces depend on it: reuse it to reproduce a model")
    p.add_argument("--skip-size-check", action="store_true",
                   help="train even when the sample looks too small for --vocab-size")
    p.add_argument("--no-verify-checksums", dest="verify_checksums", action="store_false",
                   help="check file sizes only, not SHA-256, of the corpus")


def _add_io(sub) -> None:
    for name, what in (("encode", "text -> ids (one line of ids per input line, or per file with --whole-file)"),
                       ("decode", "ids -> text (one line of space-separated ids per document)")):
        p = sub.add_parser(name, help=what, description=what)
        p.add_argument("--model", required=True, help="PREFIX.model")
        p.add_argument("input", nargs="?", help="file (default: stdin)")
        if name == "encode":
            p.add_argument("--whole-file", action="store_true",
                           help="encode the input as one document (default: line by line, "
                                "each line's newline included)")
            p.add_argument("--pieces", action="store_true", help="print pieces, not ids")
    p = sub.add_parser("inspect", help="piece counts and settings of a model")
    p.add_argument("--model", required=True, help="PREFIX.model")
    p.add_argument("--show", type=int, default=0, help="also print the first N normal pieces")


def _add_check(sub) -> None:
    p = sub.add_parser("check", help="round-trip, digit and whitespace checks over files or a corpus")
    p.add_argument("--model", required=True, help="PREFIX.model")
    p.add_argument("paths", nargs="*", help="text files (UTF-8)")
    p.add_argument("--corpus", help="a `palmkit corpus` folder: check its documents")
    p.add_argument("--max-docs", type=int, default=0, help="stop after N documents (0: all)")
    p.add_argument("--show", type=int, default=5, help="print up to N failures")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="vocab_command", metavar="ACTION")
    sub.required = True
    _add_train(sub)
    _add_io(sub)
    _add_check(sub)


def run(args: argparse.Namespace, extra: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    action = args.vocab_command
    if action == "train":
        fields = {f: getattr(args, f) for f in train_job.TrainConfig.__dataclass_fields__}
        fields["sample_bytes"] = int(fields["sample_bytes"])
        fields["heldout_bytes"] = int(fields["heldout_bytes"])
        result = train_job.main(train_job.TrainConfig(**fields))  # errors: palmkit.cli
        print(json.dumps({k: result[k] for k in ("model", "vocab_size", "sha256", "pieces")},
                         indent=2, ensure_ascii=False))
        return 0
    from tokenizer import tools

    return tools.run(action, args)
