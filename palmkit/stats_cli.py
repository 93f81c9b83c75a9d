"""`palmkit stats DIR`: what a corpus or pack output contains, as a table, JSON or HTML."""

from __future__ import annotations

import argparse
import json


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Per component: documents read / kept / rejected by reason, bytes, tokens, target vs "
        "actual share, epochs, top languages, bytes per token, document length percentiles. "
        "Works on `palmkit corpus` and `palmkit pack` outputs."
    )
    p.add_argument("path", help="a folder written by `palmkit corpus` or `palmkit pack`")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead")
    p.add_argument("--html", metavar="FILE", default=None,
                   help="also write a self-contained HTML report with plots (opens offline)")


def run(args: argparse.Namespace, extra: list[str]) -> int:
    from palmkit import stats

    result = stats.collect(args.path)
    if args.html:
        from palmkit import report_html

        with open(args.html, "w", encoding="utf-8") as f:
            f.write(report_html.render(result))
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        print(stats.format_table(result))
        if args.html:
            print(f"HTML report: {args.html}")
    return 0
