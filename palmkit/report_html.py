"""`palmkit stats --html`: one self-contained HTML report (inline SVG and CSS, no scripts).

The report itself is the ``palmkit.report`` package (a list of sections; its docstring says
how to add one). This module is the entry point the CLI and the demo call, kept so that
``report_html.render(stats)`` stays the one call.

Hand-written SVG rather than a plotting library: a handful of bar charts do not justify a
50 MB dependency, and the file must open offline in any browser.
"""

from __future__ import annotations

from typing import Any, Sequence

from palmkit.report import render_stats
from palmkit.report.page import esc
from palmkit.report.svg import COLORS, hbars

__all__ = ["COLORS", "bar_chart", "render"]


def bar_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], *,
              fmt: str = "{:,.0f}") -> str:
    """A titled horizontal grouped bar chart (one group per label, one bar per series)."""
    return f"<h2>{esc(title)}</h2>" + hbars(labels, series, fmt=fmt)


def render(stats: dict[str, Any]) -> str:
    """The report of ``palmkit.stats.collect``'s result, as one HTML page."""
    return render_stats(stats)
