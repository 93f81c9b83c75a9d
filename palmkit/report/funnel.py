"""Where the documents went: the funnel per component and the rejects (matrix, examples).

The corpus manifest counts rejects per component and reason, and records the cleaning stages
in pipeline order (``config.stages``); every reason belongs to one step (``STAGE_REASONS``),
so the documents left after each step are ``read`` minus the rejects of that step and of all
earlier ones. Nothing is re-read to draw the funnel. A reason no known step emits (a user's
``--stages`` class) is counted in an "other stages" step just before ``kept``, so the last
row always equals the manifest's ``kept``.
"""

from __future__ import annotations

from typing import Any

from palmkit.records import Reason
from palmkit.report import svg
from palmkit.report.context import Context
from palmkit.report.page import esc, num, table

#: Reasons of the stages in ``pipelines/clean`` by stage module (the ``module`` of the
#: ``module:Class`` names in ``config.stages``). A prefix ending in ``_`` matches a family.
STAGE_REASONS: dict[str, tuple[str, ...]] = {
    "langid": (Reason.LANGUAGE,),
    "heuristics": ("heuristic_",),
    "code_filter": (Reason.LICENSE, Reason.PROGRAMMING_LANGUAGE),
    "exact_dedup": (Reason.DUPLICATE,),
    "near_dedup": (Reason.NEAR_DUPLICATE,),
    "quality": (Reason.QUALITY,),
}
#: Rejects of reading and validation (before any cleaning stage), and of the unique-id step.
UNIQUE_ID_REASONS = (Reason.DUPLICATE_ID,)
_STAGE_REASON_SET = {r for rs in STAGE_REASONS.values() for r in rs} | set(UNIQUE_ID_REASONS)
READ_REASONS = tuple(r for r in Reason.ALL
                     if r not in _STAGE_REASON_SET and not r.startswith("heuristic_"))


def stage_module(name: str) -> str:
    """``pipelines.clean.langid:LanguageId`` -> ``langid``."""
    return name.split(":", 1)[0].rsplit(".", 1)[-1]


def _matches(reason: str, patterns: tuple[str, ...]) -> bool:
    return any(reason == p or (p.endswith("_") and reason.startswith(p)) for p in patterns)


def funnel_steps(stage_names: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """(step label, the reasons it rejects) in pipeline order, from ``config.stages``."""
    steps = [("after validation", READ_REASONS), ("after unique ids", UNIQUE_ID_REASONS)]
    for name in stage_names:
        module = stage_module(name)
        steps.append((f"after {module}", STAGE_REASONS.get(module, ())))
    return steps


def funnel_rows(counts: dict[str, Any], stage_names: list[str], *,
                pack: dict[str, Any] | None = None,
                packed_fraction: float | None = None) -> list[dict[str, Any]]:
    """The funnel of one component: ``[{"step", "documents", "bytes", "tokens", "removed":
    {reason: n}, "note"}]`` from read to kept (corpus manifest counts), then sampled and
    packed (tokens, from the pack manifest when given). ``packed_fraction`` is packed tokens
    over sampled tokens of the whole pack (the pack drops its tail tokens for the whole
    pack, not per component), so per-component packed tokens are an estimate."""
    rejected = {str(k): v for k, v in (counts.get("rejected") or {}).items()
                if isinstance(v, (int, float))}
    left = counts.get("read", 0)
    rows = [{"step": "read", "documents": left, "bytes": None, "tokens": None, "removed": {}}]
    seen: set[str] = set()
    for label, reasons in funnel_steps(stage_names):
        removed = {r: n for r, n in rejected.items() if r not in seen and _matches(r, reasons)}
        seen |= set(removed)
        left -= sum(removed.values())
        rows.append({"step": label, "documents": left, "bytes": None, "tokens": None,
                     "removed": removed})
    other = {r: n for r, n in rejected.items() if r not in seen}
    if other:
        left -= sum(other.values())
        rows.append({"step": "after other stages", "documents": left, "bytes": None,
                     "tokens": None, "removed": other})
    rows.append({"step": "kept", "documents": counts.get("kept", left),
                 "bytes": counts.get("kept_bytes"),
                 "tokens": (pack or {}).get("tokens_available"), "removed": {}})
    if pack:
        sampled = pack.get("tokens_sampled")
        rate = pack.get("rate")
        rows.append({"step": "sampled into the mixture", "documents": None, "bytes": None,
                     "tokens": sampled, "removed": {},
                     "note": f"{rate:.3f} epochs" if isinstance(rate, (int, float)) else ""})
        if isinstance(sampled, (int, float)) and packed_fraction is not None:
            rows.append({"step": "packed", "documents": None, "bytes": None,
                         "tokens": round(sampled * packed_fraction), "removed": {},
                         "note": "≈", "estimate": True})
    return rows


def _packed_fraction(stats: dict[str, Any]) -> float | None:
    sampled = sum(e.get("tokens_sampled") or 0 for e in (stats.get("components") or {}).values())
    packed = stats.get("tokens_packed")
    return packed / sampled if sampled and isinstance(packed, (int, float)) else None


def _removed_text(removed: dict[str, int]) -> str:
    return ", ".join(f"{r} {n:,}" for r, n in sorted(removed.items(), key=lambda kv: -kv[1]))


def section_funnel(ctx: Context) -> str | None:
    counts = ctx.corpus_counts
    if not counts:
        return None
    pack = ctx.stats.get("components") if ctx.stats.get("kind") == "pack" else None
    fraction = _packed_fraction(ctx.stats) if pack else None
    comps = sorted(counts)
    funnels = {c: funnel_rows(counts[c], ctx.stage_names, pack=(pack or {}).get(c),
                              packed_fraction=fraction) for c in comps}
    charts = []
    for c in comps:
        rows = funnels[c]
        read = rows[0]["documents"] or 0
        bars = [(r["step"], r["documents"],
                 f"{r['documents']:,}" + (f" ({r['documents'] / read:.0%})" if read else ""))
                for r in rows if r["documents"] is not None]
        charts.append(f"<div><h3>{esc(c)}</h3>{svg.funnel(bars, width=150, left=105)}</div>")
    # Every component has the same steps but for "after other stages" (only where a user's
    # stage rejected some) and the pack rows; a component without a step gets an empty cell.
    present = {r["step"] for c in comps for r in funnels[c]}
    steps = (["read"] + [label for label, _ in funnel_steps(ctx.stage_names)]
             + [s for s in ("after other stages", "kept", "sampled into the mixture", "packed")
                if s in present])
    by_step = {c: {r["step"]: r for r in funnels[c]} for c in comps}
    body = [[esc(step)] + [_funnel_cell(by_step[c].get(step)) for c in comps]
            for step in steps]
    return ('<p class="note">Documents left after each step in pipeline order (the corpus '
            "manifest's stage list), then tokens sampled into the mixture and packed where a "
            "pack is given; what each step removed is shown under its count. Bytes and tokens "
            "where the manifests record them.</p>"
            + '<div class="scroll">' + table(["step"] + [esc(c) for c in comps], body,
                                             cls="funnel") + "</div>"
            + ('<p class="note">≈ packed tokens: the pack drops its tail tokens for the whole '
               "pack, not per component; shown in proportion to tokens sampled.</p>"
               if fraction is not None else "")
            + f'<div class="grid">{"".join(charts)}</div>')


def _funnel_cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return ""
    lines = []
    if r["documents"] is not None:
        lines.append(f"{r['documents']:,} docs")
    if r["bytes"] is not None:
        lines.append(f"{r['bytes'] / 1e6:,.2f} MB")
    if r["tokens"] is not None:
        lines.append(("≈ " if r.get("estimate") else "") + f"{r['tokens']:,} tok")
    extra = _removed_text(r["removed"])
    extra = f"−{extra}" if extra else ("" if r.get("estimate") else r.get("note", ""))
    return "<br>".join(lines) + (f'<br><span class="note">{esc(extra)}</span>' if extra else "")


def _shade(n: int, vmax: int) -> str:
    if not n:
        return ""
    alpha = 0.12 + 0.6 * n / (vmax or 1)
    return f' style="background:rgba(228,87,86,{alpha:.2f})"'


def section_rejects(ctx: Context) -> str | None:
    counts = ctx.corpus_counts
    if not counts:
        return None
    matrix = {c: {str(r): n for r, n in (e.get("rejected") or {}).items()}
              for c, e in counts.items()}
    reasons = sorted({r for row in matrix.values() for r in row},
                     key=lambda r: (-sum(row.get(r, 0) for row in matrix.values()), r))
    if not reasons:
        return "<p>No document was rejected.</p>"
    vmax = max(n for row in matrix.values() for n in row.values())
    head = "<tr><th>component</th>" + "".join(f"<th>{esc(r)}</th>" for r in reasons) + \
        "<th>rejected</th><th>read</th></tr>"
    body = []
    for c in sorted(matrix):
        row = matrix[c]
        cells = "".join(f"<td{_shade(row.get(r, 0), vmax)}>{row.get(r, 0) or ''}</td>"
                        for r in reasons)
        body.append(f"<tr><td>{esc(c)}</td>{cells}<td>{sum(row.values()):,}</td>"
                    f"<td>{num(counts[c].get('read'))}</td></tr>")
    parts = [f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>",
             "<h3>Example rejects per reason</h3>",
             '<p class="note">The first few rejects of each reason as the rejects files hold '
             "them (file and record, the rule's detail, the first 300 characters), so a person "
             "can judge whether a rule is right.</p>"]
    for reason in reasons:
        examples = ctx.reject_examples(reason)
        total = sum(row.get(reason, 0) for row in matrix.values())
        missing = ("(none of them in the rejects files)" if ctx.has_rejects else
                   "(the rejects files are not at hand)")
        inner = "".join(_example(e) for e in examples) or f'<p class="note">{missing}</p>'
        parts.append(f"<details><summary>{esc(reason)}: {total:,} rejected, "
                     f"{len(examples)} shown</summary>{inner}</details>")
    return "".join(parts)


def _example(r: dict) -> str:
    where = f"{r.get('source', '')}:{r.get('record', '')}"
    text = r.get("text")
    if text is None:
        shown = '<p class="note">(no text could be decoded)</p>'
    elif not text.strip():
        shown = f'<p class="note">(whitespace only: {esc(repr(text[:40]))})</p>'
    else:
        shown = f'<pre class="sample">{esc(text)}</pre>'

    return (f'<div class="ex"><div class="meta">{esc(r.get("component", ""))} · '
            f"<code>{esc(where)}</code><br>{esc(r.get('detail', ''))}</div>{shown}</div>")
