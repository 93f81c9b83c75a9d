"""The memorization result as text lines and as an HTML section (escaped, no scripts).

``html_section(result)`` returns one ``<section>`` (``section_memorization``: the section of
`palmkit stats --memorization FILE --html`): the overall
rate with its 95% interval beside the paper's 8B/540B rates, the table by occurrence bucket
beside the paper's seen-once / 500+ figures, and the table by mixture component (or the one-line
reason it is not available: a pack without component sidecars). Pure standard library: the
report renderer imports it without JAX.
"""

from __future__ import annotations

import html


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _interval(row: dict) -> str:
    lo, hi = row["ci95"]
    return f"{_pct(lo)} to {_pct(hi)}"


def summary_lines(result: dict) -> list[str]:
    o, p = result["overall"], result["paper"]
    lines = [f"memorization: {o['memorized']} of {o['spans']} spans reproduced exactly = "
             f"{_pct(o['rate'])} (95% CI {_interval(o)}); {result['preset'] or 'model'} at step "
             f"{result['step']}; paper: 8B {_pct(p['palm_8b_rate'])}, 540B {_pct(p['palm_540b_rate'])}",
             f"  mean tokens matched before the first miss: {result['mean_tokens_matched']:.2f} of "
             f"{result['options']['span_tokens'] - result['options']['prompt_tokens']}"]
    for row in result["by_occurrences"] or ():
        lines.append(f"  seen {row['occurrences']:>6} times: {row['memorized']:>5} / {row['spans']:<5} "
                     f"{_pct(row['rate']):>7}  (95% CI {_interval(row)})")
    if result["by_occurrences"] is None:
        lines.append("  occurrences not counted (--no-count-occurrences)")
    if result.get("by_component"):
        lines.append("  by component of the span's document:")
    for row in result.get("by_component") or ():
        lines.append(f"    {row['component']:>14}: {row['memorized']:>5} / {row['spans']:<5} "
                     f"{_pct(row['rate']):>7}  (95% CI {_interval(row)})")
        if row.get("by_occurrences") and row["spans"]:
            lines.append(f"    {'':>14}  by times seen: {_split(row)}")
    if not result.get("by_component"):
        lines.append(f"  by component: not available ({result.get('component_note')})")
    return lines


def _split(row: dict) -> str:
    """A component's spans by occurrence bucket, ``seen 1: 0/3, 2-10: 1/40, ...``."""
    return ", ".join(f"{b['occurrences']}: {b['memorized']}/{b['spans']}"
                     for b in row.get("by_occurrences") or ())


def html_section(result: dict) -> str:
    """One self-contained ``<section>`` (inline styles only, every value escaped)."""
    return ('<section id="memorization">\n<h2>Memorization (PaLM section 7)</h2>\n'
            + html_body(result) + "\n</section>")


def section_memorization(ctx) -> str | None:
    """The report's section (``palmkit.report.SECTIONS``): when stats carry a result."""
    result = ctx.stats.get("memorization")
    return html_body(result) if result else None


def html_body(result: dict) -> str:
    e = lambda v: html.escape(str(v))  # noqa: E731
    o, p = result["overall"], result["paper"]
    opts = result["options"]
    parts = [
        f"<p>{e(opts['num_spans'])} spans of {e(opts['span_tokens'])} tokens requested from the "
        f"{e(result['fed']['examples'])} training examples the schedule fed "
        f"(of {e(result['fed']['of_examples'])}); prompt {e(opts['prompt_tokens'])} tokens, "
        f"greedy-decode the rest, exact match. Model {e(result['preset'] or 'unnamed')} at step "
        f"{e(result['step'])}, seed {e(opts['seed'])}.</p>",
        '<table style="border-collapse:collapse">',
        "<tr><th></th><th>spans</th><th>memorized</th><th>rate</th><th>95% CI</th></tr>",
        _tr("this model", o),
        f"<tr><td>PaLM 8B (paper)</td><td></td><td></td><td>{e(_pct(p['palm_8b_rate']))}</td><td></td></tr>",
        f"<tr><td>PaLM 540B (paper)</td><td></td><td></td><td>{e(_pct(p['palm_540b_rate']))}</td>"
        "<td></td></tr>",
        "</table>",
    ]
    if result["by_occurrences"]:
        parts += ["<h3>By occurrences of the span in the fed training data</h3>",
                  '<table style="border-collapse:collapse">',
                  "<tr><th>seen</th><th>spans</th><th>memorized</th><th>rate</th><th>95% CI</th></tr>"]
        parts += [_tr(f"{row['occurrences']} times", row) for row in result["by_occurrences"]]
        parts += ["</table>",
                  f"<p>Paper (540B): spans seen once {e(_pct(p['seen_once_rate_540b']))}, seen 500+ "
                  f"times {e(p['seen_500_plus_rate_540b'])}.</p>"]
    if result.get("by_component"):
        parts += ["<h3>By component of the span's document</h3>",
                  '<table style="border-collapse:collapse">',
                  "<tr><th>component</th><th>spans</th><th>memorized</th><th>rate</th>"
                  "<th>95% CI</th><th>memorized / spans by times seen</th></tr>"]
        parts += [_tr(row["component"], row, extra=_split(row)) for row in result["by_component"]]
        parts += ["</table>", f"<p>Paper: {e(p.get('by_component', ''))}.</p>"]
    else:
        parts += [f"<p>By component: not available; {e(result.get('component_note'))}.</p>"]
    return "\n".join(parts)


def html_page(result: dict) -> str:
    """``html_section`` as a standalone page (`palmkit memorization --html FILE`)."""
    return ("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>palmkit memorization"
            "</title></head>\n<body style=\"font-family:sans-serif\">\n" + html_section(result)
            + "\n</body></html>\n")


def _tr(label: str, row: dict, extra: str | None = None) -> str:
    cells = [label, row["spans"], row["memorized"], _pct(row["rate"]), _interval(row)]
    if extra is not None:
        cells.append(extra)
    return "<tr>" + "".join(f'<td style="padding:2px 8px">{html.escape(str(c))}</td>'
                            for c in cells) + "</tr>"
