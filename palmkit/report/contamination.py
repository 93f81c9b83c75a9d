"""The contamination summary for people: table rows, the terminal table, an HTML section.

``summary`` is ``summary.json`` (``pipelines.contamination.outputs.summarise``). The rows are
the paper's table of tasks (section 8): examples, contaminated count and percent, per set.
Standard library only (``palmkit.tables``): `palmkit contamination` prints it, `palmkit stats
--contamination DIR` adds it to the table and to the HTML report (``section_contamination``).
"""

from __future__ import annotations

import html
from typing import Any, Mapping

from palmkit.tables import format_rows

COLUMNS = ("set", "examples", "contaminated", "contaminated_percent", "clean", "rejected")


def summary_rows(summary: Mapping[str, Any]) -> list[dict]:
    """One dict per evaluation set, in name order, with ``COLUMNS`` (rejected: a total)."""
    rows = []
    for name, s in sorted(summary.get("sets", {}).items()):
        rows.append({"set": name, "examples": s["examples"], "contaminated": s["contaminated"],
                     "contaminated_percent": s["contaminated_percent"], "clean": s["clean"],
                     "rejected": sum(s.get("rejected", {}).values())})
    return rows


def rule_text(summary: Mapping[str, Any]) -> str:
    rule = summary.get("rule", {})
    return (f"contaminated: >= {rule.get('fraction', 0.7):.0%} of an example's "
            f"{rule.get('n', 8)}-grams of {rule.get('unit', 'words')} occur in the corpus")


def summary_table(summary: Mapping[str, Any]) -> str:
    """The rule line, then an aligned table with a total row."""
    rows = summary_rows(summary)
    body = [[r["set"], r["examples"], r["contaminated"], f"{r['contaminated_percent']:.1f}%",
             r["clean"], r["rejected"]] for r in rows]
    examples = sum(r["examples"] for r in rows)
    bad = sum(r["contaminated"] for r in rows)
    body.append(["total", examples, bad, f"{100 * bad / examples if examples else 0:.1f}%",
                 sum(r["clean"] for r in rows), sum(r["rejected"] for r in rows)])
    header = ["set", "examples", "contaminated", "%", "clean", "rejected"]
    return rule_text(summary) + "\n" + format_rows(header, body)


def html_section(summary: Mapping[str, Any]) -> str:
    """A self-contained ``<section>``: escaped text, inline styles, no scripts."""
    return "<section><h2>Evaluation-set contamination</h2>" + html_body(summary) + "</section>"


def section_contamination(ctx) -> str | None:
    """The report's section (``palmkit.report.SECTIONS``): when stats carry a summary."""
    summary = ctx.stats.get("contamination")
    return html_body(summary) if summary else None


def html_body(summary: Mapping[str, Any]) -> str:
    """The rule and the table, escaped."""
    cells = "".join(
        "<tr>" + "".join(f"<td style=\"padding:2px 8px;text-align:{'left' if i == 0 else 'right'}\">"
                         f"{html.escape(str(v))}</td>"
                         for i, v in enumerate((r["set"], r["examples"], r["contaminated"],
                                                f"{r['contaminated_percent']:.1f}%", r["clean"],
                                                r["rejected"]))) + "</tr>"
        for r in summary_rows(summary))
    head = "".join(f"<th style=\"padding:2px 8px\">{html.escape(h)}</th>"
                   for h in ("set", "examples", "contaminated", "%", "clean", "rejected"))
    return (f"<p>{html.escape(rule_text(summary))}</p>"
            f"<table style=\"border-collapse:collapse\"><tr>{head}</tr>{cells}</table>")
