"""Hand-written inline SVG charts for the report: grouped bars, histograms, a funnel, bars
against a curve.

A plotting library would add tens of MB for five chart shapes, and its output would need
scripts or fonts; these are plain ``<svg>`` with ``<title>`` tooltips, so the report opens
offline in any browser. Every label goes through ``page.esc``.
"""

from __future__ import annotations

from typing import Sequence

from palmkit.report.page import esc

COLORS = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#9D755D")
FONT = 'font-family="system-ui,sans-serif" font-size="11"'


def _svg(width: float, height: float, parts: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" {FONT}>' + "".join(parts) + "</svg>")


def _legend(names: Sequence[str], x0: float, y: float) -> list[str]:
    out = []
    for j, name in enumerate(names):
        x = x0 + j * 150
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" '
                   f'fill="{COLORS[j % len(COLORS)]}"/><text x="{x + 14}" y="{y}">{esc(name)}'
                   "</text>")
    return out


def hbars(labels: Sequence[str], series: dict[str, Sequence[float]], *,
          fmt: str = "{:,.0f}", left: int = 150, width: int = 420) -> str:
    """Horizontal grouped bars: one group per label, one bar per series; the longest bar
    spans ``width``."""
    if not labels:
        return '<p class="note">(nothing to show)</p>'
    bar_h, gap = 14, 8
    vmax = max((float(v) for vals in series.values() for v in vals), default=0) or 1
    group_h = bar_h * len(series) + gap
    height = group_h * len(labels) + (24 if len(series) > 1 else 4)
    parts = []
    for i, label in enumerate(labels):
        y0 = i * group_h
        parts.append(f'<text x="{left - 6}" y="{y0 + bar_h * len(series) / 2 + 4}" '
                     f'text-anchor="end">{esc(label)}</text>')
        for j, (name, vals) in enumerate(series.items()):
            v = float(vals[i])
            w = max(v / vmax * width, 0.5 if v else 0)
            y = y0 + j * bar_h
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                         f'fill="{COLORS[j % len(COLORS)]}"><title>{esc(label)}, {esc(name)}: '
                         f"{esc(fmt.format(v))}</title></rect>")
            if v:  # a zero bar has no length: its "0" would only clutter the chart
                parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 4}">'
                             f"{esc(fmt.format(v))}</text>")
    if len(series) > 1:
        parts += _legend(list(series), left, height - 6)
    return _svg(left + width + 90, height, parts)


def columns(labels: Sequence[str], values: Sequence[float], *, xlabel: str = "",
            ylabel: str = "documents", color: str = COLORS[0], width: int = 360,
            height: int = 150) -> str:
    """A vertical histogram with every bucket drawn, empty ones as a gap on the axis (a
    bucket missing from ``labels`` would make the shape lie)."""
    if not labels:
        return '<p class="note">(nothing to show)</p>'
    left, top, bottom = 42, 10, 48
    n = len(labels)
    step = width / n
    vmax = max(values) or 1
    parts = [f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" '
             'stroke="#999"/>',
             f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{esc(f"{vmax:,.0f}")}</text>',
             f'<text x="{left - 4}" y="{top + height}" text-anchor="end">0</text>',
             f'<text x="12" y="{top + height / 2}" text-anchor="middle" '
             f'transform="rotate(-90 12 {top + height / 2})">{esc(ylabel)}</text>']
    every = max(1, n // 12)  # at most ~12 axis labels; every bar keeps its tooltip
    for i, (label, v) in enumerate(zip(labels, values)):
        h = v / vmax * height
        x = left + i * step
        parts.append(f'<rect x="{x + 1:.1f}" y="{top + height - h:.1f}" '
                     f'width="{max(step - 2, 1):.1f}" height="{h:.1f}" fill="{color}">'
                     f"<title>{esc(label)}: {esc(f'{v:,.0f}')}</title></rect>")
        if i % every == 0:
            cx = x + step / 2
            parts.append(f'<text x="{cx:.1f}" y="{top + height + 12}" text-anchor="end" '
                         f'transform="rotate(-40 {cx:.1f} {top + height + 12})">{esc(label)}'
                         "</text>")
    if xlabel:
        parts.append(f'<text x="{left + width / 2}" y="{top + height + bottom - 2}" '
                     f'text-anchor="middle">{esc(xlabel)}</text>')
    return _svg(left + width + 10, top + height + bottom, parts)


def funnel(rows: Sequence[tuple[str, float, str]], *, width: int = 300, left: int = 150) -> str:
    """One bar per step (label, documents, text beside the bar), scaled to the first step:
    where the documents of a component went, stage by stage."""
    bar_h = 18
    vmax = max((r[1] for r in rows), default=0) or 1
    parts = []
    for i, (label, v, note) in enumerate(rows):
        y = i * (bar_h + 4)
        w = max(v / vmax * width, 0.5 if v else 0)
        x = left + (width - w) / 2
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{esc(label)}</text>')
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="2" '
                     f'fill="{COLORS[0] if i else "#8aa6c8"}"><title>{esc(label)}: '
                     f"{esc(note)}</title></rect>")
        parts.append(f'<text x="{left + width + 6}" y="{y + 13}">{esc(note)}</text>')
    return _svg(left + width + 95, len(rows) * (bar_h + 4), parts)


def bars_and_curve(labels: Sequence[str], bars: Sequence[float | None],
                   curve: Sequence[float], *, bar_name: str, curve_name: str,
                   width: int = 420, height: int = 160) -> str:
    """Fractions in [0, 1]: one bar per label (None: no data, drawn as a hatched gap) and a
    curve of expected values over them (kept fraction per score decile against the Pareto
    rule)."""
    left, top, bottom = 40, 10, 60
    n = len(labels) or 1
    step = width / n
    parts = [f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" '
             'stroke="#999"/>']
    for frac in (0, 0.5, 1):
        y = top + height * (1 - frac)
        parts.append(f'<line x1="{left}" y1="{y}" x2="{left + width}" y2="{y}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{y + 4}" text-anchor="end">{frac:.0%}</text>')
    points, marks = [], []
    for i, label in enumerate(labels):
        x = left + i * step
        b = bars[i]
        if b is None:
            parts.append(f'<rect x="{x + 2:.1f}" y="{top}" width="{step - 4:.1f}" '
                         f'height="{height}" fill="#f4f4f4"><title>{esc(label)}: no documents'
                         "</title></rect>")
        else:
            h = b * height
            parts.append(f'<rect x="{x + 2:.1f}" y="{top + height - h:.1f}" '
                         f'width="{step - 4:.1f}" height="{h:.1f}" fill="{COLORS[0]}">'
                         f"<title>{esc(label)}: {esc(bar_name)} {b:.1%}</title></rect>")
        cy = top + height * (1 - curve[i])
        points.append(f"{x + step / 2:.1f},{cy:.1f}")
        marks.append(f'<circle cx="{x + step / 2:.1f}" cy="{cy:.1f}" r="3" fill="{COLORS[1]}">'
                     f"<title>{esc(label)}: {esc(curve_name)} {curve[i]:.1%}</title></circle>")
        cx = x + step / 2
        parts.append(f'<text x="{cx:.1f}" y="{top + height + 12}" text-anchor="end" '
                     f'transform="rotate(-40 {cx:.1f} {top + height + 12})">{esc(label)}</text>')
    parts.append(f'<polyline points="{" ".join(points)}" fill="none" '
                 f'stroke="{COLORS[1]}" stroke-width="2"/>')
    parts += marks
    parts += _legend([bar_name, curve_name], left, top + height + bottom - 4)
    return _svg(left + width + 10, top + height + bottom, parts)
