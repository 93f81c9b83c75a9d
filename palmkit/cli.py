"""The `palmkit` command line. It only parses: each subcommand builds its job's typed config and
calls that job's ``main(config)``.

Subcommands are listed in one explicit table (no registration by import side effects). Each
entry names a light module that defines:

* ``configure(parser: argparse.ArgumentParser) -> None``: add the subcommand's options;
* ``run(args: argparse.Namespace, extra: list[str]) -> int``: build the config, call ``main``;
* optionally ``ACCEPTS_EXTRA = True``: unknown flags (Beam pipeline options such as
  ``--runner=DataflowRunner``) are passed through in ``extra`` instead of being an error;
* optionally ``QUIET = True``: the command prints its own progress, so log lines are shown
  only from warnings up (``palmkit demo``).

A subcommand's flags come from its job's config dataclass (``palmkit.flags``): each default
and help is written once, on the config field, and ``--help`` shows it once. Modules are
imported only when their subcommand is used, so ``palmkit --help`` is instant and does not
import Beam or JAX (``palmkit pack --help`` imports its job module, Beam included).

Logging is configured here, once, before the subcommand's module is imported (so that what
Beam logs at import goes through palmkit's handler): INFO lines from palmkit's own loggers,
warnings only from Beam, absl and JAX. Every subcommand takes ``--quiet``: warnings and errors
only, no progress bars (`palmkit train`'s old ``--no-progress`` still works, out of the help),
and ``--verbose``: INFO from every library, Beam's SDK workers included. Without
``--verbose``, Beam's noise is dropped (``NOISE``): its import-time "apitools not found"
warning (palmkit uses no BigQuery), and in Beam jobs the SDK harness's INFO lines of
``--direct_running_mode=multi_processing`` workers (``--default_sdk_harness_log_level=WARNING``
is added to the pipeline options unless given; palmkit's own loggers stay at INFO there unless
``--quiet``, see ``harness_log_args``) and the copies of their start-up warnings that
the job service forwards. Each worker process still prints the ~3 lines it writes to stderr
before it has read its options (its own apitools warning among them).

Errors: a ``palmkit.errors.UserError`` (and a missing or unreadable path, ``FileNotFoundError``
and friends) ends the command with exit code 2 and one line, ``palmkit COMMAND: error: ...``;
``--debug`` (anywhere on the line) shows the traceback instead. Options are never abbreviated
(``--num-shard`` is an error, not ``--num-shards``), and the extra flags of Beam jobs are checked
against the options Beam knows (``pipelines.beam_options``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys

from palmkit.errors import UserError

#: Exceptions that are a person's mistake, not a bug: one line and exit code 2.
USER_ERRORS = (UserError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
               PermissionError, FileExistsError)
DEBUG_FLAG = "--debug"
QUIET_FLAG, QUIET_ALIASES = "--quiet", ("--no-progress",)
QUIET_HELP = "only warnings and errors: no INFO log lines, no progress bars"
VERBOSE_FLAG = "--verbose"
VERBOSE_HELP = ("INFO log lines of every library too (Beam, its SDK workers, JAX), and Beam's "
                "import warnings")
#: Log messages (logger name, text in the message) dropped unless --verbose: the warning that
#: importing apache_beam logs through the root logger when the optional apitools is missing
#: (palmkit uses no BigQuery), and the copies that multi-processing runs forward from each SDK
#: worker of two harmless start-up warnings (the args are Beam's own; palmkit checks the
#: user's pipeline options before launch, pipelines.beam_options).
_JOB_SERVICE = "apache_beam.runners.portability.local_job_service"
NOISE = (("root", "apitools not found"),
         (_JOB_SERVICE, "No semi_persistent_directory found"),
         (_JOB_SERVICE, "Discarding unparseable args: ["))
#: Beam pipeline option added to Beam jobs unless --verbose (or the option is given).
HARNESS_LOG_OPTION = "--default_sdk_harness_log_level"
HARNESS_OVERRIDES_OPTION = "--sdk_harness_log_level_overrides"

#: Top-level packages whose loggers are palmkit's own (INFO unless --quiet).
OWN_LOGGERS = ("palmkit", "pipelines", "tokenizer", "trainer", "model_stub", "mixtures")
#: Libraries whose INFO chatter would bury palmkit's lines: warnings only.
CHATTY_LOGGERS = ("apache_beam", "absl", "jax", "orbax")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# name -> (module, one-line help). A capability gets a row only when it exists.
COMMANDS: dict[str, tuple[str, str]] = {
    "corpus": ("pipelines.corpus_cli", "read, validate and clean sources into a Parquet corpus (Beam)"),
    "vocab": ("tokenizer.cli", "train, use and check the lossless SentencePiece vocabulary"),
    "pack": ("pipelines.pack_cli", "Tokenize, sample to the mixture, shuffle and pack shards (Beam)."),
    "contamination": ("pipelines.contamination.cli",
                      "Which evaluation examples occur in a corpus (PaLM section 8; Beam)."),
    "demo": ("palmkit.demo_cli", "The whole flow on the bundled sample: corpus to trained model."),
    "stats": ("palmkit.stats_cli", "Statistics of a corpus or pack output (table, JSON, HTML)."),
    "model": ("model_stub.cli", "PaLM model presets: parameter counts, FLOPs per token, memory"),
    "train": ("trainer.cli", "Train PaLM on packed shards (Adafactor recipe, resumable, spike rollback)."),
    "aot": ("trainer.aot_cli", "Compile the train step for a TPU v4 topology on CPU: memory, FLOPs, fit."),
    "generate": ("trainer.generate_cli", "Greedy text from a trained workdir (KV-cache decode)."),
    "memorization": ("trainer.memorization_cli",
                     "Paper section 7: how much of its training data a trained model reproduces."),
}


#: Top-level modules of optional extras -> the extra that installs them (``pip install palmkit`` alone
#: has the data side; the trainer's JAX stack is the ``train`` extra, see pyproject.toml).
EXTRA_OF_MODULE = {"jax": "train", "jaxlib": "train", "flax": "train", "optax": "train",
                   "orbax": "train", "grain": "train", "tensorboardX": "train", "tqdm": "train",
                   "tokenizers": "hf", "heliport": "lid", "tensorflow": "tensorflow", "libtpu": "tpu"}


def _load(name: str):
    try:
        return importlib.import_module(COMMANDS[name][0])
    except ModuleNotFoundError as e:
        missing_extra(name, e)
        raise


def missing_extra(command: str, error: ModuleNotFoundError) -> None:
    """Raise a one-line ``UserError`` when ``error`` is a module of an optional extra."""
    top = (error.name or "").split(".")[0]
    if top in EXTRA_OF_MODULE:
        extra = EXTRA_OF_MODULE[top]
        raise UserError(f"`palmkit {command}` needs the {extra} extra ({top} is not installed): "
                        f"pip install 'palmkit[{extra}]'") from error


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="palmkit",
        allow_abbrev=False,
        description="Build PaLM-style pretraining data and train on it.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `palmkit COMMAND --help` for a command's options; every command takes "
               f"{QUIET_FLAG} ({QUIET_HELP}) and {VERBOSE_FLAG}.",
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
            allow_abbrev=False,  # defaults are in the help texts (palmkit.flags), once
        )
        if name == command:  # only the chosen command's module is imported
            try:
                _load(name).configure(p)
            except ModuleNotFoundError as e:  # configs that import an optional extra
                missing_extra(name, e)
                raise
            for leaf in _leaves(p):
                _add_quiet(leaf)
                _add_verbose(leaf)
    return parser


def _leaves(parser: argparse.ArgumentParser):
    """``parser`` itself, or the parsers of its actions (``vocab train``, ``model info``)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
    for action in subs:
        for sub in action.choices.values():
            yield from _leaves(sub)


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet`` on every subcommand (unless its config already declares it)."""
    if QUIET_FLAG not in parser._option_string_actions:
        action = parser.add_argument(QUIET_FLAG, *QUIET_ALIASES, dest="quiet",
                                     action="store_true", help=QUIET_HELP)
        action.option_strings = [QUIET_FLAG]  # the old spelling parses but is not shown


def _add_verbose(parser: argparse.ArgumentParser) -> None:
    """``--verbose`` on every subcommand (unless its config already declares it)."""
    if VERBOSE_FLAG not in parser._option_string_actions:
        parser.add_argument(VERBOSE_FLAG, dest="verbose", action="store_true", help=VERBOSE_HELP)


class _NoiseFilter(logging.Filter):
    """Drops the records listed in ``NOISE``."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(record.name == name and text in record.getMessage()
                       for name, text in NOISE)


def harness_log_args(extra: list[str], *, verbose: bool, quiet: bool = False) -> list[str]:
    """Beam pipeline options ``extra`` plus ``--default_sdk_harness_log_level=WARNING`` (the SDK
    workers of multi-processing runs log INFO by default, ~40 lines a worker) unless verbose or
    already given; unless quiet, palmkit's own loggers stay at INFO on the workers (progress
    lines, per worker) through ``--sdk_harness_log_level_overrides``, unless that is given."""
    def given(option: str) -> bool:
        return any(a == option or a.startswith(option + "=") for a in extra)

    out = list(extra)
    if not verbose and not given(HARNESS_LOG_OPTION):
        out.append(f"{HARNESS_LOG_OPTION}=WARNING")
        if not quiet and not given(HARNESS_OVERRIDES_OPTION):
            out.append(HARNESS_OVERRIDES_OPTION + "="
                       + json.dumps({name: "INFO" for name in OWN_LOGGERS}))
    return out


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is at each record (a test's capture may replace it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(*, quiet: bool = False, verbose: bool = False) -> None:
    """One stderr handler on the root logger; palmkit's loggers at INFO (WARNING if ``quiet``),
    everything else at WARNING (INFO, and ``NOISE`` kept, if ``verbose``, which wins).

    Importing Beam logs a warning through ``logging.warning``, which installs a plain root
    ``StreamHandler`` (``basicConfig``) that would make a later ``basicConfig`` a no-op: that
    handler, and ours from an earlier call, are replaced, as ``force=True`` would; handlers of
    other kinds (pytest's log capture) are kept."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler) in (logging.StreamHandler, _StderrHandler):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S"))
    if not verbose:
        handler.addFilter(_NoiseFilter())
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING if quiet and not verbose
                                         else logging.INFO)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv
    argv = [a for a in argv if a != DEBUG_FLAG]
    verbose = VERBOSE_FLAG in argv
    # before any subcommand module (Beam) is imported; again below, once the flags are parsed
    configure_logging(quiet=any(a in (QUIET_FLAG, *QUIET_ALIASES) for a in argv),
                      verbose=verbose)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in COMMANDS:
        command = None
    try:
        parser = build_parser(command)
        args, extra = parser.parse_known_args(argv)
        module = _load(args.command)
    except UserError as e:  # an optional extra is missing
        if debug:
            raise
        print(f"palmkit {command}: error: {e}", file=sys.stderr)
        return 2
    if extra and not getattr(module, "ACCEPTS_EXTRA", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    verbose = getattr(args, "verbose", False)
    quiet = getattr(args, "quiet", False) or getattr(module, "QUIET", False)
    configure_logging(quiet=quiet, verbose=verbose)
    if getattr(module, "ACCEPTS_EXTRA", False):  # a Beam job: extra are pipeline options
        extra = harness_log_args(extra, verbose=verbose, quiet=quiet)
    try:
        try:
            return int(module.run(args, extra) or 0)
        except ModuleNotFoundError as e:  # an extra imported lazily by the job
            missing_extra(args.command, e)
            raise
    except USER_ERRORS as e:
        if debug:
            raise
        message = " ".join(str(e).split()) or type(e).__name__  # one line, whatever it held
        print(f"palmkit {args.command}: error: {message} (--debug shows the traceback)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
