"""Plain-text tables for the terminal. Pure standard library (no Beam, no pyarrow).

``count_table`` prints a corpus manifest's ``counts`` (``pipelines.corpus.assemble_counts``:
``{component: {read, kept, kept_bytes, rejected: {reason: n}}}``) as one row per component,
columns read, kept, rejected and one per reject reason that occurs, and a total row::

    component   read  kept  rejected  binary  too_large
    web        1,200   990       210     200         10
    books         40    40         0       0          0
    total      1,240 1,030       210     200         10
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

TOTAL = "total"


def count_table(counts: Mapping[str, Mapping[str, Any]]) -> str:
    """``counts`` (component -> read/kept/rejected-by-reason) as an aligned table with a total
    row; numbers with thousands separators, components in the order given."""
    reasons = sorted({r for c in counts.values() for r in (c.get("rejected") or {})})
    header = ["component", "read", "kept", "rejected", *reasons]
    rows = []
    for comp, c in counts.items():
        rejected = c.get("rejected") or {}
        rows.append([comp, c.get("read", 0), c.get("kept", 0), sum(rejected.values()),
                     *(rejected.get(r, 0) for r in reasons)])
    total = [TOTAL, *(sum(row[i] for row in rows) for i in range(1, len(header)))]
    return format_rows(header, [*rows, total])


def format_rows(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned: the first left, the others (numbers: ``1,234``) right."""
    cells = [list(header)] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for r in cells:
        first = r[0].ljust(widths[0])
        rest = [v.rjust(w) for v, w in zip(r[1:], widths[1:])]
        lines.append("  ".join([first, *rest]).rstrip())
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return f"{value:,d}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
