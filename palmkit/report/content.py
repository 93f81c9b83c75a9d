"""Report sections on what the cleaning stages decided: quality, languages, near-dedup."""

from __future__ import annotations

from typing import Any

from palmkit.report import svg
from palmkit.report.context import Context
from palmkit.report.page import esc, num, pct, table
from palmkit.report.page import facts as page_facts

#: PaLM appendix D: share of (non-code) training tokens per language, in percent; the
#: eight largest rows (the table goes on with a long tail). /work/shared/PALM_FACTS.md.
PALM_LANGUAGE_SHARES = {"en": 77.98, "de": 3.50, "fr": 3.25, "es": 2.11, "und": 1.63,
                        "pl": 1.45, "it": 1.31, "nl": 1.04}
#: The language ID stage labels code components ``code``: not a language, never plotted.
CODE_LANGUAGE = "code"
LANGUAGES_SHOWN = 12


def section_quality(ctx: Context) -> str | None:
    q = ctx.stage_stats.get("quality")
    if not isinstance(q, dict):
        return None
    if not q.get("scored_docs"):
        return '<p>No page was scored (no component has quality sampling).</p>'
    info = q.get("classifier") if isinstance(q.get("classifier"), dict) else {}
    train = info.get("train_docs") if isinstance(info.get("train_docs"), dict) else {}
    facts = page_facts([
        ("classifier", esc(info.get("source", "—"))),
        ("folds (cross-fitted scores)", num(info.get("folds", 1))),
        ("held-out accuracy", num(info.get("heldout_accuracy"), "{:.4f}")),
        ("held-out documents", esc(info.get("heldout_docs", "—"))
         + (f" ({esc(info['heldout'])})" if info.get("heldout") else "")),
        ("training documents", esc(", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
                                             for k, v in train.items()) or "—")),
        ("alpha (Pareto)", esc(q.get("alpha", "—"))),
        ("pages kept", f"{num(q.get('kept_docs'))} of {num(q.get('scored_docs'))} "
                       f"({pct(q.get('kept_fraction'))})"),
    ])
    hist = q.get("score_histogram") if isinstance(q.get("score_histogram"), dict) else {}
    hist_svg = svg.columns(list(hist), [float(v) for v in hist.values()],
                           xlabel="quality score (0.05 buckets, lower bound)", ylabel="pages")
    deciles = [d for d in q.get("deciles") or () if isinstance(d, dict)]
    curve = svg.bars_and_curve(
        [str(d.get("scores", "")) for d in deciles],
        [d.get("kept_fraction") if d.get("docs") else None for d in deciles],
        [float(d.get("expected_fraction") or 0) for d in deciles],
        bar_name="kept fraction", curve_name="expected (Pareto rule)")
    rows = [[esc(d.get("scores", "")), num(d.get("docs")), num(d.get("kept")),
             pct(d.get("kept_fraction")), num(d.get("mean_score"), "{:.3f}"),
             pct(d.get("expected_fraction"))] for d in deciles]
    return ("<p class=\"note\">Web pages are scored by a curated-vs-web classifier and kept "
            "when <code>pareto(alpha) &gt; 1 - score</code> (GPT-3's rule): a page is kept "
            "with the expected probability drawn as the curve.</p>"
            f'<div class="grid"><div>{facts}</div><div><h3>Score distribution</h3>{hist_svg}'
            f"</div></div>"
            f'<div class="grid"><div><h3>Kept fraction per score decile</h3>{curve}</div><div>'
            + table(["scores", "pages", "kept", "kept %", "mean score", "expected %"], rows)
            + "</div></div>")


def _language_table(e: dict[str, Any]) -> list[tuple[str, int, int, float | None]]:
    """(language, documents, bytes, estimated tokens) of one component, by bytes."""
    docs = e.get("language_documents") or e.get("languages") or {}
    lang_bytes = e.get("language_bytes") or {}
    bpt = e.get("bytes_per_token")
    out = []
    for lang in set(docs) | set(lang_bytes):
        b = lang_bytes.get(lang, 0)
        out.append((str(lang), int(docs.get(lang, 0)), int(b),
                    b / bpt if isinstance(bpt, (int, float)) and bpt else None))
    return sorted(out, key=lambda r: (-r[2], -r[1], r[0]))


def mixture_language_shares(components: dict[str, dict]) -> tuple[dict[str, float], str]:
    """Percent of the mixture's (non-code) tokens per language: each component's language
    byte shares weighted by its target share of tokens (pack), else by its kept bytes."""
    weights, how = {}, "the components' target shares of tokens"
    for c, e in components.items():
        if isinstance(e.get("target_share"), (int, float)):
            weights[c] = float(e["target_share"])
    if not weights:
        weights = {c: float(e.get("bytes") or 0) for c, e in components.items()}
        how = "the components' kept bytes (no pack given)"
    shares: dict[str, float] = {}
    for c, e in components.items():
        lang_bytes = {k: v for k, v in (e.get("language_bytes") or {}).items()
                      if k != CODE_LANGUAGE}
        total = sum(lang_bytes.values())
        if not total or not weights.get(c):
            continue
        for lang, b in lang_bytes.items():
            shares[lang] = shares.get(lang, 0.0) + weights[c] * b / total
    norm = sum(shares.values())
    return ({k: 100 * v / norm for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}
            if norm else {}), how


def section_languages(ctx: Context) -> str | None:
    comps = ctx.components
    if not any(e.get("language_documents") or e.get("languages") for e in comps.values()):
        return None  # a pack whose corpus is not at hand
    parts = ['<p class="note">Documents and tokens per language of the kept documents (tokens '
             "estimated from bytes with the component's bytes per token, when a pack is "
             "given). The code component is labelled by programming language, not plotted as "
             "a language.</p>", '<div class="grid">']
    for c, e in comps.items():
        rows = _language_table(e)
        if [r[0] for r in rows] == [CODE_LANGUAGE] or e.get("programming_languages"):
            prog = e.get("programming_languages") or {}
            body = table(["programming language", "documents"],
                         [[esc(k), num(v)] for k, v in list(prog.items())[:LANGUAGES_SHOWN]])
            parts.append(f"<div><h3>{esc(c)} (programming languages)</h3>{body}</div>")
            continue
        shown, rest = rows[:LANGUAGES_SHOWN], rows[LANGUAGES_SHOWN:]
        cells = [[esc(lang), num(d), num(t)] for lang, d, _, t in shown]
        if rest:
            cells.append([f"{len(rest)} others", num(sum(r[1] for r in rest)),
                          num(sum(r[3] or 0 for r in rest) if rest[0][3] is not None else None)])
        parts.append(f"<div><h3>{esc(c)}</h3>"
                     + table(["language", "documents", "tokens (est.)"], cells) + "</div>")
    parts.append("</div>")
    shares, how = mixture_language_shares(comps)
    if shares:
        mixture = ctx.stats.get("mixture")
        labels = list(dict.fromkeys(list(PALM_LANGUAGE_SHARES) + list(shares)[:8]))
        series = {"this mixture": [shares.get(k, 0.0) for k in labels]}
        if mixture == "palm":
            series["PaLM appendix D"] = [PALM_LANGUAGE_SHARES.get(k, 0.0) for k in labels]
        parts.append(f"<h3>Share of the mixture's non-code tokens per language (%)</h3>"
                     f'<p class="note">Weighted by {esc(how)}.'
                     + (" PaLM's appendix D shares beside them (its table leaves out code)."
                        if mixture == "palm" else "") + "</p>"
                     + svg.hbars(labels, series, fmt="{:.2f}"))
    return "".join(parts)


def section_near_dedup(ctx: Context) -> str | None:
    nd = ctx.stage_stats.get("near_dedup")
    sizes = ctx.stats.get("cluster_sizes") or {}
    if not isinstance(nd, dict) and not sizes:
        return None
    nd = nd if isinstance(nd, dict) else {}
    facts = page_facts([(esc(k.replace("_", " ")), num(nd.get(k))) for k in
                        ("components", "candidate_pairs", "verified_pairs", "removed",
                         "chain_guard_extra_survivors", "rounds_to_converge") if k in nd])
    chart = svg.hbars([f"{k} files" for k in sizes], {"clusters": list(sizes.values())},
                      left=110, width=320)
    parts = [f'<div class="grid"><div>{facts}</div><div><h3>Cluster sizes</h3>{chart}</div>'
             "</div>"]
    clusters = ctx.near_duplicate_clusters()
    if clusters:
        parts.append("<h3>Example clusters</h3>")
    for cl in clusters:
        kept = cl["kept"] or {}
        where = (f"{kept['source']}:{kept.get('record', '')}" if kept.get("source")
                 else "(not found among the kept files)")
        rows = [[esc(m["id"]), f"<code>{esc(m['source'])}:{esc(m['record'])}</code>",
                 num(m["similarity"], "{:.3f}")] for m in cl["members"]]
        parts.append(f'<div class="ex"><div class="meta">{esc(cl["component"])} · kept '
                     f"<code>{esc(cl['kept_id'])}</code> at <code>{esc(where)}</code>, "
                     f"{len(cl['members'])} removed</div>"
                     + table(["removed id", "file:record", "similarity to kept"], rows)
                     + "</div>")
    return "".join(parts)
