"""One self-contained HTML report (inline SVG, no scripts, no server) from `palmkit.stats`.

Hand-written SVG rather than a plotting library: five bar charts do not justify a 50 MB
dependency, and the file must open offline in any browser.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from typing import Any, Sequence

from palmkit.stats import format_table

COLORS = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2")


def bar_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], *,
              fmt: str = "{:,.0f}") -> str:
    """Horizontal grouped bars: one group per label, one bar per series."""
    if not labels:
        return f"<h2>{html.escape(title)}</h2><p>(nothing to show)</p>"
    bar_h, gap, left, width = 14, 8, 150, 420
    vmax = max((v for vals in series.values() for v in vals), default=0) or 1
    group_h = bar_h * len(series) + gap
    height = group_h * len(labels) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 110}" '
             f'height="{height}" font-family="sans-serif" font-size="11">']
    for i, label in enumerate(labels):
        y0 = i * group_h
        parts.append(f'<text x="{left - 6}" y="{y0 + group_h / 2}" text-anchor="end">'
                     f"{html.escape(str(label))}</text>")
        for j, (name, vals) in enumerate(series.items()):
            v = float(vals[i])
            w = max(v / vmax * width, 0.5 if v else 0)
            y = y0 + j * bar_h
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                         f'fill="{COLORS[j % len(COLORS)]}"><title>{html.escape(name)}: '
                         f"{fmt.format(v)}</title></rect>")
            parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 4}">{fmt.format(v)}</text>')
    legend_y = height - 10
    for j, name in enumerate(series):
        x = left + j * 140
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" '
                     f'fill="{COLORS[j % len(COLORS)]}"/><text x="{x + 14}" y="{legend_y}">'
                     f"{html.escape(name)}</text>")
    parts.append("</svg>")
    return f"<h2>{html.escape(title)}</h2>" + "".join(parts)


def _mixture_chart(stats: dict[str, Any]) -> str:
    comps = stats["components"]
    if stats["kind"] == "pack":
        labels = list(comps)
        return bar_chart("Mixture: target vs actual share of tokens (%)", labels, {
            "target": [100 * comps[c].get("target_share", 0) for c in labels],
            "actual": [100 * comps[c].get("actual_share", 0) for c in labels],
        }, fmt="{:.2f}")
    labels = list(comps)
    return bar_chart("Documents per component", labels, {
        "read": [comps[c].get("read", 0) for c in labels],
        "kept": [comps[c].get("kept", comps[c].get("documents", 0)) for c in labels],
    })


def _language_chart(stats: dict[str, Any]) -> str:
    langs = Counter()
    for e in stats["components"].values():
        langs.update(e.get("languages") or {})
    top = langs.most_common(15)
    return bar_chart("Languages (kept documents, top 15)", [k for k, _ in top],
                     {"documents": [v for _, v in top]})


def _length_charts(stats: dict[str, Any]) -> str:
    out = ["<h2>Document length (bytes, power-of-two buckets)</h2><div class='grid'>"]
    for c, e in stats["components"].items():
        hist = e.get("length_histogram") or {}
        labels = [f"≥{int(k):,}" for k in hist]
        out.append("<div>" + bar_chart(c, labels, {"documents": list(hist.values())}) + "</div>")
    out.append("</div>")
    return "".join(out)


def _reject_chart(stats: dict[str, Any]) -> str:
    reasons = Counter()
    for e in stats["components"].values():
        reasons.update(e.get("rejected") or {})
    top = reasons.most_common()
    return bar_chart("Rejected documents by reason", [k for k, _ in top],
                     {"documents": [v for _, v in top]})


def _cluster_chart(stats: dict[str, Any]) -> str:
    sizes = stats.get("cluster_sizes") or {}
    return bar_chart("Near-duplicate cluster sizes (files per cluster)", list(sizes),
                     {"clusters": list(sizes.values())})


def render(stats: dict[str, Any]) -> str:
    body = "".join([
        _mixture_chart(stats), _language_chart(stats), _reject_chart(stats),
        _cluster_chart(stats), _length_charts(stats),
    ])
    title = f"palmkit {stats['kind']} report: {stats['path']}"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}pre{{background:#f6f6f6;
padding:1em;overflow-x:auto}}.grid{{display:flex;flex-wrap:wrap;gap:1em}}h2{{font-size:1.05em}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<pre>{html.escape(format_table(stats))}</pre>
{body}
<h2>Raw statistics (JSON)</h2>
<pre>{html.escape(json.dumps(stats, indent=1, sort_keys=True, default=str))}</pre>
</body></html>
"""
