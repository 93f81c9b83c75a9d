"""The `palmkit` command line. It only parses: each subcommand builds its job's typed config and
calls that job's ``main(config)``.

Subcommands are listed in one explicit table (no registration by import side effects). Each
entry names a light module that defines:

* ``configure(parser: argparse.ArgumentParser) -> None``: add the subcommand's options;
* ``run(args: argparse.Namespace, extra: list[str]) -> int``: build the config, call ``main``;
* optionally ``ACCEPTS_EXTRA = True``: unknown flags (Beam pipeline options such as
  ``--runner=DataflowRunner``) are passed through in ``extra`` instead of being an error.

Modules are imported only when their subcommand is used, so ``palmkit --help`` is instant and
does not import Beam or JAX.

Errors: a ``palmkit.errors.UserError`` (and a missing or unreadable path, ``FileNotFoundError``
and friends) ends the command with exit code 2 and one line, ``palmkit COMMAND: error: ...``;
``--debug`` (anywhere on the line) shows the traceback instead. Options are never abbreviated
(``--num-shard`` is an error, not ``--num-shards``), and the extra flags of Beam jobs are checked
against the options Beam knows (``pipelines.beam_options``).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from palmkit.errors import UserError

#: Exceptions that are a person's mistake, not a bug: one line and exit code 2.
USER_ERRORS = (UserError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
               PermissionError, FileExistsError)
DEBUG_FLAG = "--debug"

# name -> (module, one-line help). A capability gets a row only when it exists.
COMMANDS: dict[str, tuple[str, str]] = {
    "corpus": ("pipelines.corpus_cli", "read, validate and clean sources into a Parquet corpus (Beam)"),
    "vocab": ("tokenizer.cli", "train, use and check the lossless SentencePiece vocabulary"),
    "pack": ("pipelines.pack_cli", "Tokenize, sample to the mixture, shuffle and pack shards (Beam)."),
    "demo": ("palmkit.demo_cli", "The whole flow on the bundled sample: corpus to trained model."),
    "stats": ("palmkit.stats_cli", "Statistics of a corpus or pack output (table, JSON, HTML)."),
    "model": ("model_stub.cli", "PaLM model presets: parameter counts, FLOPs per token, memory"),
    "train": ("trainer.cli", "Train PaLM on packed shards (Adafactor recipe, resumable, spike rollback)."),
    "aot": ("trainer.aot_cli", "Compile the train step for a TPU v4 topology on CPU: memory, FLOPs, fit."),
}


def _load(name: str):
    return importlib.import_module(COMMANDS[name][0])


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="palmkit",
        allow_abbrev=False,
        description="Build PaLM-style pretraining data and train on it.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `palmkit COMMAND --help` for a command's options.",
    )
    from palmkit import __version__

    parser.add_argument("--version", action="version", version=f"palmkit {__version__}")
    parser.add_argument(DEBUG_FLAG, action="store_true",
                        help="show the full traceback of an error (may stand anywhere)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
            allow_abbrev=False,
        )
        if name == command:  # only the chosen command's module is imported
            _load(name).configure(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv
    argv = [a for a in argv if a != DEBUG_FLAG]
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in COMMANDS:
        command = None
    parser = build_parser(command)
    args, extra = parser.parse_known_args(argv)
    module = _load(args.command)
    if extra and not getattr(module, "ACCEPTS_EXTRA", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(module.run(args, extra) or 0)
    except USER_ERRORS as e:
        if debug:
            raise
        message = " ".join(str(e).split()) or type(e).__name__  # one line, whatever it held
        print(f"palmkit {args.command}: error: {message} (--debug shows the traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
