"""The corpus manifest from what the pipeline reported: outcome counts per component and
reason (``assemble_counts``, checking read = kept + rejected), collapse warnings when a stage
removed (nearly) all of a component, and the atomic manifest write. Order-independent pure
functions, run in the job's last step (``pipelines.corpus.build``)."""

from __future__ import annotations

import logging
from typing import Any, Iterable

from apache_beam.metrics import Metrics

from palmkit.manifest import MANIFEST_NAME, Manifest, join, library_versions
from palmkit.records import Document, Reject
from pipelines import io
from pipelines.stage import merge_stats

logger = logging.getLogger("pipelines.corpus")

VERSIONED = ("apache-beam", "pyarrow", "pyyaml", "tensorflow-datasets", "zstandard")


def kept_outcome(doc: Document) -> tuple:
    Metrics.counter("corpus", f"{doc.component}.kept").inc()
    return ("kept", doc.component), (1, doc.nbytes)


def reject_outcome(rej: Reject) -> tuple:
    Metrics.counter("corpus", f"{rej.component}.{rej.reason}").inc()
    return ("rejected", rej.component, rej.reason), (1, 0)


def sum_pairs(pairs: Iterable[tuple[int, int]]) -> tuple[int, int]:
    n = b = 0
    for x, y in pairs:
        n, b = n + x, b + y
    return n, b


def assemble_counts(entries: Iterable[tuple], components: Iterable[str]) -> dict[str, Any]:
    """Per-component ``{read, kept, kept_bytes, rejected: {reason: n}}`` from count entries;
    raises if a component's records are not all accounted for."""
    counts = {c: {"read": 0, "kept": 0, "kept_bytes": 0, "rejected": {}} for c in components}
    for _, key, value in entries:
        kind, comp = key[0], key[1]
        if kind == "read":
            counts[comp]["read"] += value
        elif kind == "kept":
            counts[comp]["kept"] += value[0]
            counts[comp]["kept_bytes"] += value[1]
        else:
            rejected = counts[comp]["rejected"]
            rejected[key[2]] = rejected.get(key[2], 0) + value[0]
    for comp, c in counts.items():
        c["rejected"] = dict(sorted(c["rejected"].items()))
        if c["read"] != c["kept"] + sum(c["rejected"].values()):
            raise RuntimeError(f"corpus accounting broken for component {comp}: read "
                               f"{c['read']} != kept {c['kept']} + rejected {c['rejected']}; "
                               f"a stage dropped or duplicated records")
    return counts


#: A stage that leaves less than this fraction of a component's documents gets a warning.
COLLAPSE_FRACTION = 0.01

#: Reject reason -> (what removed them, the option that changes it) for collapse warnings.
_REMEDIES: dict[str, tuple[str, str]] = {
    "quality": ("quality sampling", "try --quality-alpha 1 (or --quality-model PATH)"),
    "language": ("language ID", "lower --langid-threshold or widen the component's languages "
                                "in the mixture"),
    "duplicate": ("exact dedup", "set cleaning: {exact_dedup: false} in the mixture"),
    "near_duplicate": ("near dedup", "raise --near-dedup-threshold"),
    "license": ("the code license filter", "pass --allow-unknown-license"),
}


def collapse_warnings(counts: dict[str, Any], config: dict) -> list[str]:
    """One line per component of which < 1% of the documents survived: which reason removed
    them and which option changes it (``--quality-alpha 9 kept 0 of 128 web pages ...``)."""
    out = []
    for comp, c in sorted(counts.items()):
        if not c["read"] or (c["kept"] and c["kept"] >= COLLAPSE_FRACTION * c["read"]):
            continue
        reason, n = max(c["rejected"].items(), key=lambda kv: (kv[1], kv[0]))
        what, fix = _REMEDIES.get(reason, (f"'{reason}' rejects", "see the rejects' detail "
                                                                  "column for why"))
        if reason == "quality":
            alpha = (config.get("quality") or {}).get("alpha")
            what = f"quality sampling at --quality-alpha {alpha:g}"
            fix = ("pages score low against the reference text, as on a small sample — " + fix)
        elif reason.startswith("heuristic_"):
            what, fix = "the heuristic filters", ("relax its --heuristics-* threshold or set "
                                                  "cleaning: {heuristics: false}")
        out.append(f"component {comp}: {what} kept {c['kept']} of {c['read']} documents "
                   f"({n} rejected as {reason}); {fix}")
    return out


def build_manifest(entries: list[tuple], *, config: dict, inputs: dict,
                   components: list[str]) -> Manifest:
    """The corpus manifest from everything the pipeline reported (order-independent)."""
    files = {rel: entry for kind, rel, entry in entries if kind == "file"}
    stats: dict[str, Any] = {}
    for kind, key, value in entries:
        if kind == "stats":
            stats[key] = merge_stats(stats.get(key, {}), value, key=key)
    counts = assemble_counts([e for e in entries if e[0] == "count"], components)
    warnings = collapse_warnings(counts, config)
    return Manifest(
        stage="corpus",
        config=config,
        outputs=dict(sorted(files.items())),
        counts=counts,
        inputs=inputs,
        extra={"stages": dict(sorted(stats.items())),
               **({"warnings": warnings} if warnings else {})},  # collapse_warnings
        versions=library_versions(VERSIONED),
    )


def write_manifest(entries: list[tuple], *, output: str, config: dict, inputs: dict,
                   components: list[str]) -> str:
    manifest = build_manifest(entries, config=config, inputs=inputs, components=components)
    for line in manifest.extra.get("warnings", ()):
        logger.warning("corpus: %s", line)
    path = join(output, MANIFEST_NAME)
    io.write_text_atomic(path, manifest.to_json())
    logger.info("corpus: wrote %s (%d files)", path, len(manifest.outputs))
    return path
