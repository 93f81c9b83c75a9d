"""Statistics users inspect: `palmkit stats DIR` on a `palmkit corpus` or `palmkit pack` output.

Everything comes from the manifests plus one streaming pass over the clean Parquet columns that
are needed (``language``, ``programming_language``, ``metadata``, byte length of ``text``); texts
are never loaded whole. pyarrow only: no Beam, no JAX.

``collect(path[, other])`` takes a corpus output, a pack output, or both (either order). Per
component: manifest counts, documents and bytes per language (``language_documents``,
``language_bytes``), programming languages of code, length histograms over powers of two with
every bucket from the smallest to the largest (bytes; tokens estimated from the pack's bytes per
token when a pack is given), and the manifests' ``extra.stages`` and ``extra.timings``. The HTML
report (``palmkit.report``) draws all of it.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from palmkit.contracts import PACK_STAGE, PackedDataSpec
from palmkit.corpus_files import clean_files
from palmkit.errors import UserError
from palmkit.manifest import MANIFEST_NAME, Manifest
from palmkit.paths import join
from palmkit.safe_text import clean_text
from palmkit.tables import format_rows

PERCENTILES = (5, 25, 50, 75, 95, 99)
TOP_LANGUAGES = 10
#: The kept metadata field whose values ``palmkit stats`` counts documents by.
DUMP_KEY = "dump"


def _component_counts(manifest: Manifest) -> dict[str, dict]:
    counts = manifest.counts
    return counts.get("components", counts) if isinstance(counts, dict) else {}


def _document_stats(corpus: str, manifest: Manifest, *,
                    bytes_per_token: dict[str, float] | None = None) -> dict[str, dict]:
    """Per component: documents, bytes, languages (documents and bytes) and length
    distribution of the clean files. With ``bytes_per_token`` (a pack's tokens over the
    corpus's kept bytes) also an estimated length histogram in tokens: stats reads no
    vocabulary (``palmkit`` core may not import the tokenizer), and one pass with it would
    cost more than the rest of `palmkit stats` together."""
    out = {}
    for component, rels in clean_files(manifest).items():
        lengths, langs, lang_bytes, dumps, prog = [], Counter(), Counter(), Counter(), Counter()
        for rel in rels:  # one record batch at a time: texts are never held whole
            reader = pq.ParquetFile(join(corpus, rel))
            names = reader.schema_arrow.names
            has_metadata = "metadata" in names  # older outputs lack it
            has_prog = "programming_language" in names
            columns = (["text", "language"] + (["metadata"] if has_metadata else [])
                       + (["programming_language"] if has_prog else []))
            for batch in reader.iter_batches(batch_size=4096, columns=columns):
                text = batch.column("text")
                sizes = pc.binary_length(pc.cast(text, "binary")).to_numpy(False)
                lengths.append(sizes)
                batch_langs = [x if x is not None else "none"
                               for x in batch.column("language").to_pylist()]
                langs.update(batch_langs)
                for lang, n in zip(batch_langs, sizes.tolist()):
                    lang_bytes[lang] += n
                if has_prog:
                    prog.update(x for x in batch.column("programming_language").to_pylist()
                                if x is not None)
                if has_metadata:
                    dumps.update(_dumps(batch.column("metadata")))
        sizes = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        bpt = (bytes_per_token or {}).get(component)
        out[component] = {
            "documents": int(len(sizes)),
            "bytes": int(sizes.sum()),
            "length_percentiles": {
                f"p{q}": int(np.percentile(sizes, q)) if len(sizes) else 0 for q in PERCENTILES
            },
            "length_histogram": _log_histogram(sizes),
            **({"token_length_histogram": _log_histogram(np.round(sizes / bpt))}
               if bpt else {}),
            "languages": dict(langs.most_common(TOP_LANGUAGES)),
            "language_documents": dict(sorted(langs.items())),
            "language_bytes": dict(sorted(lang_bytes.items())),
            **({"programming_languages": dict(prog.most_common())} if prog else {}),
            **({"dumps": dict(sorted(dumps.items()))} if dumps else {}),
        }
    return out


def _dumps(metadata) -> list[str]:
    """The ``dump`` values kept in ``Document.metadata`` (e.g. Common Crawl's
    ``CC-MAIN-2024-10``, sources ``keep: [dump]``); documents without one are not counted."""
    values = pc.map_lookup(metadata, pa.scalar(DUMP_KEY), "first").to_pylist()
    return [v for v in values if v is not None]


def _log_histogram(sizes: np.ndarray) -> dict[str, int]:
    """Document sizes over powers of two (bucket label: lower bound), every bucket from the
    smallest to the largest size present, empty ones included: a histogram that skips empty
    buckets draws a gap as nothing and misleads about the shape."""
    if not len(sizes):
        return {}
    exps = np.floor(np.log2(np.maximum(sizes, 1))).astype(int)
    counts = np.bincount(exps - exps.min())
    return {str(1 << int(exps.min() + i)): int(c) for i, c in enumerate(counts)}


def _cluster_sizes(manifest: Manifest) -> dict[str, int]:
    """Near-dedup cluster-size histogram from the stage stats: keys ``cluster_size.<LABEL>``
    (e.g. ``cluster_size.<=2``, ``cluster_size.>1000``), in order of their bound."""
    found: dict[str, int] = {}
    for stage in (manifest.extra.get("stages") or {}).values():
        if not isinstance(stage, dict):
            continue
        for key, n in stage.items():
            if key.startswith("cluster_size.") and isinstance(n, int):
                label = key.split(".", 1)[1]
                found[label] = found.get(label, 0) + n

    def bound(label: str) -> tuple[float, str]:
        digits = "".join(ch for ch in label if ch.isdigit())
        return (float(digits) if digits else 0.0) + (0.5 if label.startswith(">") else 0), label

    return {label: found[label] for label in sorted(found, key=bound)}


def corpus_stats(corpus: str, *, bytes_per_token: dict[str, float] | None = None
                 ) -> dict[str, Any]:
    manifest = Manifest.read(corpus, stage="corpus")
    counts = _component_counts(manifest)
    docs = _document_stats(corpus, manifest, bytes_per_token=bytes_per_token)
    components = {}
    for c in sorted(set(counts) | set(docs)):
        entry = dict(counts.get(c, {}))
        entry.update(docs.get(c, {}))
        components[c] = entry
    return {
        "kind": "corpus",
        "path": corpus,
        "mixture": manifest.config.get("mixture"),
        "components": components,
        "cluster_sizes": _cluster_sizes(manifest),
        "stages": manifest.extra.get("stages", {}),
        "warnings": manifest.extra.get("warnings", []),
        **({"timings": manifest.extra["timings"]} if "timings" in manifest.extra else {}),
    }


def _bytes_per_token(corpus: str, pack_components: dict[str, dict]) -> dict[str, float]:
    """Kept bytes (corpus manifest) over tokens available (pack manifest), per component."""
    counts = _component_counts(Manifest.read(corpus, stage="corpus"))
    return {c: counts[c]["kept_bytes"] / e["tokens_available"]
            for c, e in pack_components.items()
            if isinstance(counts.get(c), dict) and counts[c].get("kept_bytes")
            and e.get("tokens_available")}


def pack_stats(shards: str, *, corpus: str | None = None) -> dict[str, Any]:
    """Stats of a pack output, with its corpus's (``corpus``, else the folder the pack
    manifest names, when it still exists)."""
    manifest = Manifest.read(shards, stage=PACK_STAGE)
    spec = PackedDataSpec.from_manifest(manifest, origin=join(shards, MANIFEST_NAME))
    components = {c: dict(v) for c, v in manifest.counts["components"].items()}
    corpus = corpus or manifest.config.get("corpus")
    corpus_part = None
    if corpus and os.path.exists(os.path.join(corpus, MANIFEST_NAME)):
        corpus_part = corpus_stats(corpus, bytes_per_token=_bytes_per_token(corpus, components))
        for c, entry in components.items():
            cs = corpus_part["components"].get(c, {})
            entry.update({k: cs[k] for k in ("read", "kept", "kept_bytes", "rejected",
                                            "languages", "language_documents",
                                            "language_bytes", "programming_languages",
                                            "length_percentiles", "length_histogram",
                                            "token_length_histogram", "documents", "bytes")
                          if k in cs})
            if cs.get("bytes") and entry.get("tokens_available"):
                entry["bytes_per_token"] = cs["bytes"] / entry["tokens_available"]
    else:
        corpus = None
    return {
        "kind": "pack",
        "path": shards,
        "mixture": manifest.config.get("mixture"),
        "seq_len": spec.seq_len,
        "examples": spec.num_examples,
        "tokens_packed": manifest.counts["tokens_packed"],
        "dropped_tokens": manifest.counts["dropped_tokens"],
        "documents_packed": manifest.counts.get("documents_packed"),
        "components": components,
        "cluster_sizes": corpus_part["cluster_sizes"] if corpus_part else {},
        "corpus": corpus,
        **({"stages": corpus_part["stages"], "warnings": corpus_part["warnings"]}
           if corpus_part else {}),
        **({"corpus_timings": corpus_part["timings"]}
           if corpus_part and "timings" in corpus_part else {}),
        **({"timings": manifest.extra["timings"]} if "timings" in manifest.extra else {}),
    }


def collect(path: str, other: str | None = None) -> dict[str, Any]:
    """Stats of a corpus or pack output, whichever ``path`` holds; ``other`` is the second
    of the two (the corpus a pack was made from, or the pack made from a corpus), in either
    order."""
    stages = {path: Manifest.read(path).stage}
    if other is not None:
        stages[other] = Manifest.read(other).stage
    for p, stage in stages.items():
        if stage not in ("corpus", PACK_STAGE):
            raise UserError(f"{p}: `palmkit stats` reads corpus or pack outputs, not '{stage}'")
    if other is not None and sorted(stages.values()) != ["corpus", PACK_STAGE]:
        raise UserError(f"{path}, {other}: give one corpus output and one pack output, "
                        f"not two '{stages[path]}' outputs")
    by_stage = {stage: p for p, stage in stages.items()}
    if PACK_STAGE in by_stage:
        return pack_stats(by_stage[PACK_STAGE], corpus=by_stage.get("corpus"))
    return corpus_stats(path)


def add_analyses(stats: dict[str, Any], *, contamination: str | None = None,
                 memorization: str | None = None) -> dict[str, Any]:
    """``stats`` with the summary of a `palmkit contamination` output (its manifest's
    ``extra.summary``) and a `palmkit memorization` result (its JSON), when given."""
    if contamination is not None:
        stats["contamination"] = Manifest.read(contamination, stage="contamination") \
            .extra.get("summary", {})
    if memorization is not None:
        try:
            with open(memorization, encoding="utf-8") as f:
                result = json.load(f)
        except ValueError as e:
            raise UserError(f"{memorization}: not JSON written by `palmkit memorization` "
                            f"({e})") from None
        if not isinstance(result, dict) or "overall" not in result:
            raise UserError(f"{memorization}: not a `palmkit memorization` result")
        stats["memorization"] = result
    return stats


def format_table(stats: dict[str, Any]) -> str:
    """A fixed-width table per component for the terminal (control characters and lone
    surrogates shown as escapes: ``palmkit.safe_text``)."""
    lines = [f"{stats['kind']} output {stats['path']} (mixture {stats.get('mixture')})"]
    if stats["kind"] == "pack":
        lines.append(f"{stats['examples']} examples x {stats['seq_len']} tokens = "
                     f"{stats['tokens_packed']} tokens; {stats['dropped_tokens']} dropped")
    head = (f"{'component':<12}{'read':>9}{'kept':>9}{'rejected':>9}{'MB':>9}{'tokens':>12}"
            f"{'target':>8}{'actual':>8}{'epochs':>7}{'B/tok':>6}{'p50 B':>8}  top languages")
    lines += [head, "-" * len(head)]
    for c, e in stats["components"].items():
        rejected = sum((e.get("rejected") or {}).values())
        langs = ", ".join(f"{k} {v}" for k, v in list((e.get("languages") or {}).items())[:4])
        lines.append(
            f"{c:<12}{e.get('read', ''):>9}{e.get('kept', e.get('documents', '')):>9}"
            f"{rejected:>9}{e.get('bytes', 0) / 1e6:>9.2f}"
            f"{e.get('tokens_sampled', ''):>12}"
            f"{_pct(e.get('target_share')):>8}{_pct(e.get('actual_share')):>8}"
            f"{_num(e.get('rate')):>7}{_num(e.get('bytes_per_token')):>6}"
            f"{(e.get('length_percentiles') or {}).get('p50', ''):>8}  {langs}"
        )
    reasons = Counter()
    for e in stats["components"].values():
        reasons.update(e.get("rejected") or {})
    if reasons:
        lines.append("rejected by reason: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    for c, e in stats["components"].items():
        if e.get("dumps"):
            lines.append(f"{c} documents per dump: "
                         + ", ".join(f"{k} {v}" for k, v in e["dumps"].items()))
    lines += quality_lines((stats.get("stages") or {}).get("quality"))
    for name, key in (("corpus", "corpus_timings"), (stats["kind"], "timings")):
        lines += timing_lines(name, stats.get(key))
    lines += [f"WARNING: {w}" for w in stats.get("warnings") or ()]
    if stats.get("contamination"):
        from palmkit.report.contamination import summary_table

        lines += ["", summary_table(stats["contamination"])]
    if stats.get("memorization"):
        from palmkit.report.memorization import summary_lines

        lines += [""] + summary_lines(stats["memorization"])
    return clean_text("\n".join(lines))  # a manifest's text must not drive the terminal


def timing_lines(name: str, t: dict | None) -> list[str]:
    """Wall and CPU time of a job and a table of its stages (``manifest.extra["timings"]``,
    written by ``pipelines.timings``)."""
    if not isinstance(t, dict):
        return []
    rows = [[st.get("stage", ""), _num(st.get("cpu_s")), st.get("records", ""),
             f"{st.get('bytes', 0) / 1e6:.2f}" if isinstance(st.get("bytes"), (int, float))
             else "", rate(st.get("mb_per_s_per_core"))]
            for st in t.get("stages") or () if isinstance(st, dict)]
    lines = [f"{name} time: wall {_num(t.get('wall_s'))} s, CPU {_num(t.get('cpu_s'))} s"]
    if rows:
        table = format_rows(["stage", "CPU s", "records", "MB", "MB/s/core"], rows)
        lines += ["  " + line for line in table.splitlines()]
    return lines


def rate(x) -> str:
    """MB/s with about three significant digits, never in exponent notation."""
    if not isinstance(x, (int, float)):
        return ""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}" if abs(x) >= 1 else f"{x:.3f}"


def quality_lines(q: dict | None) -> list[str]:
    """Web quality sampling: classifier accuracy, and kept vs expected fraction per decile."""
    if not isinstance(q, dict) or not q.get("scored_docs"):
        return []
    info = q.get("classifier") or {}
    acc = info.get("heldout_accuracy")
    lines = [f"quality: alpha {q.get('alpha')}, kept {q.get('kept_docs')} of {q['scored_docs']} "
             f"scored pages ({_pct(q.get('kept_fraction'))}); classifier "
             f"{info.get('source')}, {info.get('folds', 1)} fold(s), held-out accuracy "
             f"{acc if acc is not None else 'n/a'}",
             f"  {'scores':<12}{'docs':>7}{'kept':>7}{'kept %':>8}{'mean s':>8}{'expected %':>11}"]
    if q.get("score_histogram"):
        lines.insert(1, "  score histogram (0.05 buckets from 0): "
                     + " ".join(str(n) for n in q["score_histogram"].values()))
    for row in q.get("deciles") or ():
        if row.get("docs"):
            lines.append(f"  {row['scores']:<12}{row['docs']:>7}{row['kept']:>7}"
                         f"{_pct(row['kept_fraction']):>8}{_num(row.get('mean_score')):>8}"
                         f"{_pct(row['expected_fraction']):>11}")
    return lines


def _pct(x) -> str:
    return f"{x:.1%}" if isinstance(x, (int, float)) else ""


def _num(x) -> str:
    return f"{x:.2f}" if isinstance(x, (int, float)) else ""
