"""`palmkit stats DIR`: what a corpus or pack output contains, as a table, JSON or HTML."""

from __future__ import annotations

import argparse
import dataclasses
import json

from palmkit import flags


@dataclasses.dataclass(frozen=True)
class StatsConfig:
    path: str = flags.option(positional=True,
                             help="a folder written by `palmkit corpus` or `palmkit pack`")
    other: str | None = flags.option(
        None, positional=True, metavar="OTHER",
        help="optional second folder: the pack made from PATH's corpus, or the corpus PATH's "
             "pack was made from (default: the corpus the pack manifest names)")
    contamination: str | None = flags.option(
        None, metavar="DIR", help="also show a `palmkit contamination` output's summary (the "
                                  "paper's table: examples, contaminated count and %% per set)")
    memorization: str | None = flags.option(
        None, metavar="FILE", help="also show a `palmkit memorization` result (JSON): exact-match "
                                   "rate overall and by occurrences, beside the paper's")
    json: bool = flags.option(False, help="print machine-readable JSON instead")
    html: str | None = flags.option(
        None, metavar="FILE", help="also write a self-contained HTML report with plots (opens offline)")


def main(config: StatsConfig) -> dict:
    """The statistics of ``config.path`` (``palmkit.stats.collect``); writes the HTML report."""
    from palmkit import stats

    result = stats.add_analyses(stats.collect(config.path, config.other),
                                contamination=config.contamination,
                                memorization=config.memorization)
    if config.html:
        from palmkit import report_html

        with open(config.html, "w", encoding="utf-8") as f:
            f.write(report_html.render(result))
    return result


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Per component: documents read / kept / rejected by reason, bytes, tokens, target vs "
        "actual share, epochs, top languages, bytes per token, document length percentiles. "
        "Works on `palmkit corpus` and `palmkit pack` outputs (one, or both). --html adds the "
        "funnel per component, example rejects per reason, quality, languages against PaLM's "
        "appendix D, near-duplicate clusters, lengths and stage timings."
    )
    flags.add_flags(p, StatsConfig)


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from palmkit import stats

    config = flags.from_args(StatsConfig, args)
    result = main(config)
    if config.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        print(stats.format_table(result))
        if config.html:
            print(f"HTML report: {config.html}")
    return 0
