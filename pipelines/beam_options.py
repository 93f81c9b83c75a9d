"""Which extra flags of a Beam job are Beam pipeline options, and which are typos.

Beam itself keeps an unknown flag with a warning and runs with the default (`--quality-alfa 1`
ran the job with alpha 9), and argparse would take `--num-shard 3` as an abbreviation. The jobs
call ``check_pipeline_args`` before anything runs: every flag must be one that a
``PipelineOptions`` class defines (exactly, no abbreviations); otherwise a ``UserError`` names
it and the closest known spelling among the job's own flags and Beam's.
"""

from __future__ import annotations

import argparse
import difflib
from typing import Iterable

from apache_beam.options import pipeline_options
from apache_beam.options.pipeline_options import PipelineOptions

from palmkit.errors import UserError


def _beam_parser() -> argparse.ArgumentParser:
    """A parser with every option of every ``PipelineOptions`` class (as Beam builds its own)."""
    # Beam's own parser class adds add_value_provider_argument, which some options classes use.
    parser_class = getattr(pipeline_options, "_BeamArgumentParser", argparse.ArgumentParser)
    parser = parser_class(allow_abbrev=False, add_help=False)
    classes = {str(c): c for c in PipelineOptions.__subclasses__()}
    for cls in classes.values():
        try:
            cls._add_argparse_args(parser)  # the hook Beam's own get_all_options uses
        except argparse.ArgumentError:  # a flag two classes define: the first one stands
            pass
    return parser


def known_flags(parser: argparse.ArgumentParser) -> list[str]:
    return sorted({o for a in parser._actions for o in a.option_strings if o.startswith("--")})


def config_flags(config) -> list[str]:
    """The CLI spelling of a job config's fields (``num_shards`` -> ``--num-shards``)."""
    import dataclasses

    return ["--" + f.name.replace("_", "-") for f in dataclasses.fields(config)]


def check_pipeline_args(args: Iterable[str], *, job: str, own_flags: Iterable[str] = ()) -> None:
    """Raise ``UserError`` for the first flag in ``args`` that no Beam options class defines."""
    args = list(args)
    if not args:
        return
    parser = _beam_parser()
    _, unknown = parser.parse_known_args(args)
    flags = [u.split("=", 1)[0] for u in unknown if u.startswith("-")]
    if flags:
        flag = flags[0]
        choices = known_flags(parser) + [f for f in own_flags if f.startswith("--")]
        close = difflib.get_close_matches(flag, choices, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise UserError(f"unknown option {flag}: neither a `palmkit {job}` option nor a Beam "
                        f"pipeline option{hint}")
    stray = [u for u in unknown if not u.startswith("-")]
    if stray:
        raise UserError(f"unexpected argument {stray[0]!r} (options take the form --name=value)")
