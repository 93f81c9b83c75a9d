"""Statistics users inspect: `palmkit stats DIR` on a `palmkit corpus` or `palmkit pack` output.

Everything comes from the manifests plus one streaming pass over the clean Parquet columns that
are needed (``component``, ``language``, byte length of ``text``); texts are never loaded whole.
pyarrow only: no Beam, no JAX.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from palmkit.contracts import PACK_STAGE, PackedDataSpec
from palmkit.corpus_files import clean_files
from palmkit.manifest import MANIFEST_NAME, Manifest
from palmkit.paths import join

PERCENTILES = (5, 25, 50, 75, 95, 99)
TOP_LANGUAGES = 10
#: The kept metadata field whose values ``palmkit stats`` counts documents by.
DUMP_KEY = "dump"


def _component_counts(manifest: Manifest) -> dict[str, dict]:
    counts = manifest.counts
    return counts.get("components", counts) if isinstance(counts, dict) else {}


def _document_stats(corpus: str, manifest: Manifest) -> dict[str, dict]:
    """Per component: documents, bytes, languages and length distribution of the clean files."""
    out = {}
    for component, rels in clean_files(manifest).items():
        lengths, langs, dumps = [], Counter(), Counter()
        for rel in rels:  # one record batch at a time: texts are never held whole
            reader = pq.ParquetFile(join(corpus, rel))
            has_metadata = "metadata" in reader.schema_arrow.names  # older outputs lack it
            columns = ["text", "language"] + (["metadata"] if has_metadata else [])
            for batch in reader.iter_batches(batch_size=4096, columns=columns):
                text = batch.column("text")
                lengths.append(pc.binary_length(pc.cast(text, "binary")).to_numpy(False))
                langs.update(x if x is not None else "none"
                             for x in batch.column("language").to_pylist())
                if has_metadata:
                    dumps.update(_dumps(batch.column("metadata")))
        sizes = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        out[component] = {
            "documents": int(len(sizes)),
            "bytes": int(sizes.sum()),
            "length_percentiles": {
                f"p{q}": int(np.percentile(sizes, q)) if len(sizes) else 0 for q in PERCENTILES
            },
            "length_histogram": _log_histogram(sizes),
            "languages": dict(langs.most_common(TOP_LANGUAGES)),
            **({"dumps": dict(sorted(dumps.items()))} if dumps else {}),
        }
    return out


def _dumps(metadata) -> list[str]:
    """The ``dump`` values kept in ``Document.metadata`` (e.g. Common Crawl's
    ``CC-MAIN-2024-10``, sources ``keep: [dump]``); documents without one are not counted."""
    values = pc.map_lookup(metadata, pa.scalar(DUMP_KEY), "first").to_pylist()
    return [v for v in values if v is not None]


def _log_histogram(sizes: np.ndarray) -> dict[str, int]:
    """Document sizes in bytes over powers of two (bucket label: lower bound)."""
    if not len(sizes):
        return {}
    exps = np.floor(np.log2(np.maximum(sizes, 1))).astype(int)
    values, counts = np.unique(exps, return_counts=True)
    return {str(1 << int(v)): int(c) for v, c in zip(values, counts)}


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


def corpus_stats(corpus: str) -> dict[str, Any]:
    manifest = Manifest.read(corpus, stage="corpus")
    counts = _component_counts(manifest)
    docs = _document_stats(corpus, manifest)
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
    }


def pack_stats(shards: str) -> dict[str, Any]:
    manifest = Manifest.read(shards, stage=PACK_STAGE)
    spec = PackedDataSpec.from_manifest(manifest, origin=join(shards, MANIFEST_NAME))
    components = {c: dict(v) for c, v in manifest.counts["components"].items()}
    corpus = manifest.config.get("corpus")
    corpus_part = None
    if corpus and os.path.exists(os.path.join(corpus, "manifest.json")):
        corpus_part = corpus_stats(corpus)
        for c, entry in components.items():
            cs = corpus_part["components"].get(c, {})
            entry.update({k: cs[k] for k in ("read", "kept", "rejected", "languages",
                                            "length_percentiles", "length_histogram",
                                            "documents", "bytes") if k in cs})
            if cs.get("bytes") and entry.get("tokens_available"):
                entry["bytes_per_token"] = cs["bytes"] / entry["tokens_available"]
    return {
        "kind": "pack",
        "path": shards,
        "mixture": manifest.config.get("mixture"),
        "seq_len": spec.seq_len,
        "examples": spec.num_examples,
        "tokens_packed": manifest.counts["tokens_packed"],
        "dropped_tokens": manifest.counts["dropped_tokens"],
        "components": components,
        "cluster_sizes": corpus_part["cluster_sizes"] if corpus_part else {},
    }


def collect(path: str) -> dict[str, Any]:
    """Stats of a corpus or pack output, whichever ``path`` holds."""
    stage = Manifest.read(path).stage
    if stage == "corpus":
        return corpus_stats(path)
    if stage == "pack":
        return pack_stats(path)
    raise ValueError(f"{path}: `palmkit stats` reads corpus or pack outputs, not '{stage}'")


def format_table(stats: dict[str, Any]) -> str:
    """A fixed-width table per component for the terminal."""
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
    lines += [f"WARNING: {w}" for w in stats.get("warnings") or ()]
    return "\n".join(lines)


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
