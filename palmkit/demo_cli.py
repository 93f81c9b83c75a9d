"""`palmkit demo`: the whole flow on the bundled sample (what `make demo` runs)."""

from __future__ import annotations

import argparse

QUIET = True  # the demo prints its own stage lines: log lines only from warnings up


def configure(p: argparse.ArgumentParser) -> None:
    from palmkit import flags
    from palmkit.demo import DemoConfig

    p.description = ("Run palmkit corpus -> vocab train -> pack -> train -> stats --html on the "
                     "bundled sample (data/sample) and print a summary. ~2-5 minutes on 2 cores.")
    flags.add_flags(p, DemoConfig)


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from palmkit import flags
    from palmkit.demo import DemoConfig, main

    main(flags.from_args(DemoConfig, args))
    return 0
