"""Report sections on sizes and time: lengths, the pack, stage timings, and the raw JSON."""

from __future__ import annotations

import json
from typing import Any

from palmkit.report import svg
from palmkit.report.context import Context
from palmkit.report.page import esc, num, pct, table
from palmkit.stats import rate


def _bucket_label(lower: int) -> str:
    for unit, size in (("Mi", 1 << 20), ("Ki", 1 << 10)):
        if lower >= size:
            return f"{lower // size}{unit}"
    return str(lower)


def aligned_buckets(histograms: list[dict[str, int]]) -> list[int]:
    """Every power-of-two lower bound from the smallest to the largest bucket of any of
    ``histograms``: one x axis for all components, empty buckets included."""
    bounds = [int(k) for h in histograms for k in h]
    if not bounds:
        return []
    lo, hi = min(bounds).bit_length() - 1, max(bounds).bit_length() - 1
    return [1 << e for e in range(lo, hi + 1)]


def _histograms(comps: dict[str, dict], key: str, unit: str) -> str:
    hists = {c: {str(k): v for k, v in (e.get(key) or {}).items()} for c, e in comps.items()}
    axis = aligned_buckets(list(hists.values()))
    if not axis:
        return ""
    cells = []
    for j, (c, h) in enumerate(hists.items()):
        if not h:
            continue
        chart = svg.columns([_bucket_label(b) for b in axis],
                            [float(h.get(str(b), 0)) for b in axis],
                            xlabel=f"{unit} per document (≥ lower bound, powers of two)",
                            color=svg.COLORS[j % len(svg.COLORS)], width=300, height=110)
        cells.append(f"<div><h3>{esc(c)}</h3>{chart}</div>")
    return '<div class="grid">' + "".join(cells) + "</div>"


def section_lengths(ctx: Context) -> str | None:
    comps = ctx.components
    if not any(e.get("length_histogram") for e in comps.values()):
        return None
    tokens = _histograms(comps, "token_length_histogram", "tokens")
    pcts = [[esc(c)] + [num((e.get("length_percentiles") or {}).get(f"p{q}"))
                        for q in (5, 25, 50, 75, 95, 99)] for c, e in comps.items()]
    return ("<h3>Bytes per document</h3>" + _histograms(comps, "length_histogram", "bytes")
            + table(["component (bytes)", "p5", "p25", "p50", "p75", "p95", "p99"], pcts)
            + "<h3>Tokens per document</h3>"
            + (('<p class="note">Estimated: bytes divided by the component\'s bytes per token '
                "(kept bytes over the pack's tokens).</p>" + tokens) if tokens else
               '<p class="note">Not known: give the pack output too '
               "(<code>palmkit stats CORPUS PACK --html FILE</code>).</p>"))


def section_pack(ctx: Context) -> str | None:
    s = ctx.stats
    if s.get("kind") != "pack":
        return None
    comps = s.get("components") or {}
    rows = [[esc(c), num(e.get("tokens_available")), num(e.get("target_tokens")),
             num(e.get("tokens_sampled")), num(e.get("rate"), "{:.3f}"), num(e.get("epochs")),
             pct(e.get("target_share"), 2), pct(e.get("actual_share"), 2),
             num(e.get("bytes_per_token"), "{:.2f}")] for c, e in comps.items()]
    labels = list(comps)
    chart = svg.hbars(labels, {
        "target": [100 * float(comps[c].get("target_share") or 0) for c in labels],
        "actual": [100 * float(comps[c].get("actual_share") or 0) for c in labels]},
        fmt="{:.2f}", left=90, width=300)
    tokens = svg.hbars(labels, {"tokens sampled": [float(comps[c].get("tokens_sampled") or 0)
                                                   for c in labels]}, left=90, width=300)
    return (f"<p>{num(s.get('examples'))} examples × {num(s.get('seq_len'))} tokens = "
            f"{num(s.get('tokens_packed'))} tokens packed from {num(s.get('documents_packed'))} "
            f"documents; {num(s.get('dropped_tokens'))} tokens dropped at the pack's end.</p>"
            + table(["component", "tokens available", "target tokens", "tokens sampled",
                     "epochs (rate)", "whole epochs", "target share", "actual share",
                     "bytes/token"], rows)
            + '<div class="grid"><div><h3>Mixture: target vs actual share of tokens (%)</h3>'
            + f"{chart}</div><div><h3>Tokens per component</h3>{tokens}</div></div>")


def _timing_table(t: dict[str, Any]) -> str:
    """Wall and CPU time of one job and a row per stage (``pipelines.timings``: CPU seconds
    measured by the stage's thread clock or Beam's state sampler, ``cpu_source``)."""
    stages = [st for st in t.get("stages") or () if isinstance(st, dict)]
    optional = [k for k in ("wall_s", "cpu_source") if any(k in st for st in stages)]
    rows = [[esc(st.get("stage", "")), num(st.get("cpu_s"), "{:,.2f}")]
            + ([num(st.get("wall_s"), "{:,.2f}")] if "wall_s" in optional else [])
            + [num(st.get("records")), num(st.get("bytes")),
               esc(rate(st.get("mb_per_s_per_core")) if st.get("bytes") else "—")]
            + ([esc(st.get("cpu_source", ""))] if "cpu_source" in optional else [])
            for st in stages]
    cpu = [float(st.get("cpu_s") or 0) if isinstance(st.get("cpu_s"), (int, float)) else 0.0
           for st in stages]
    slowest = ""
    if sum(cpu) > 0:
        i = max(range(len(cpu)), key=cpu.__getitem__)
        slowest = (f"; slowest stage {esc(stages[i].get('stage', ''))}: "
                   f"{cpu[i] / sum(cpu):.0%} of the stages' CPU")
    head = (f"<p>wall {num(t.get('wall_s'), '{:,.1f}')} s, CPU {num(t.get('cpu_s'), '{:,.1f}')}"
            f" s{slowest}</p>")
    chart = svg.hbars([str(st.get("stage", "")) for st in stages], {"CPU s": cpu},
                      fmt="{:,.2f}", left=90, width=200) if stages else ""
    columns = (["stage", "CPU s"] + (["thread s"] if "wall_s" in optional else [])
               + ["records", "bytes", "MB/s per core"]
               + (["CPU from"] if "cpu_source" in optional else []))
    return head + f'<div class="grid"><div>{table(columns, rows)}</div><div>{chart}</div></div>'


def section_timings(ctx: Context) -> str | None:
    found = ctx.timings()
    if not found:
        return '<p class="note">Stage timings: not recorded.</p>'
    parts = []
    for name, t in found.items():
        parts.append(f"<h3>{esc(name)}</h3>")
        parts.append(_timing_table(t) if t else
                     f'<p class="note">not recorded (this {esc(name)} manifest has no '
                     "<code>extra.timings</code>; palmkit versions before stage timings)</p>")
    return "".join(parts)


def section_raw(ctx: Context) -> str | None:
    text = json.dumps(ctx.stats, indent=1, sort_keys=True, default=str, ensure_ascii=False)
    return (f"<details><summary>Raw statistics (JSON, {text.count(chr(10)) + 1:,} lines; "
            "<code>palmkit stats --json</code> prints the same)</summary>"
            f"<pre>{esc(text)}</pre></details>")
