"""`palmkit vocab train|encode|decode|inspect|check|export`: parse flags into configs, call the jobs.

Every action's flags come from its config (``tokenizer.train.TrainConfig``, the configs in
``tokenizer.tools``); the vocabulary to use is ``--vocab`` everywhere (``--model`` still works)."""

from __future__ import annotations

import argparse
import json

from palmkit import flags

TRAIN_HELP = """\
Train PaLM's lossless SentencePiece vocabulary from a `palmkit corpus` folder.

Size: 256,000 pieces need about 200 MB of text (SentencePiece refuses 256k on too little: 21 MB
capped it at 47,555 pieces); a sample that is clearly too small is refused before training, and
SentencePiece's own refusal is reported with the text size it needs. 32k pieces need ~13 MB.
Measured on 230 MB, 2 cores: BPE 256k 37 s and 2.8 GiB peak; unigram 256k 5.6 min and 4.5 GiB.
Memory grows with --sample-bytes (about 12x for BPE, 20x for unigram). See docs/benchmarks.md.
"""

# action -> (help, "module:Config"); configs are imported only for the action used.
ACTIONS = {
    "train": ("train a vocabulary", "tokenizer.train:TrainConfig"),
    "encode": ("text -> ids (one line of ids per input line, or per file with --whole-file)",
               "tokenizer.tools:EncodeConfig"),
    "decode": ("ids -> text (one line of space-separated ids per document)",
               "tokenizer.tools:DecodeConfig"),
    "inspect": ("piece counts and settings of a model", "tokenizer.tools:InspectConfig"),
    "check": ("round-trip, digit and whitespace checks over files or a corpus",
              "tokenizer.tools:CheckConfig"),
    "export": ("write the vocabulary for another library: --hf OUT/tokenizer.json (Hugging Face "
               "tokenizers, same ids; needs the hf extra)", "tokenizer.hf_export:ExportConfig"),
}


def _config_class(action: str) -> type:
    import importlib

    module, name = ACTIONS[action][1].split(":")
    return getattr(importlib.import_module(module), name)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="vocab_command", metavar="ACTION")
    sub.required = True
    for action, (what, _) in ACTIONS.items():
        if action == "train":
            p = sub.add_parser(action, help=what, description=TRAIN_HELP,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        else:
            p = sub.add_parser(action, help=what, description=what)
        flags.add_flags(p, _config_class(action))


def run(args: argparse.Namespace, extra: list[str]) -> int:
    action = args.vocab_command
    config = flags.from_args(_config_class(action), args)
    if action == "train":
        from tokenizer import train

        result = train.main(config)  # errors: palmkit.cli
        print(json.dumps({k: result[k] for k in ("model", "vocab_size", "sha256", "pieces")},
                         indent=2, ensure_ascii=False))
        return 0
    from tokenizer import tools

    if action == "encode":
        tools.encode(config)
        return 0
    if action == "decode":
        tools.decode(config)
        return 0
    if action == "export":
        from tokenizer import hf_export

        print(hf_export.main_json(config))
        return 0
    if action == "inspect":
        print(json.dumps(tools.inspect(config), indent=2, ensure_ascii=False))
        return 0
    result = tools.check(config)
    print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    return 0 if result.ok else 1
