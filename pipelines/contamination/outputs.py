"""What the contamination job writes: per-set results, ``summary.json``, the manifests.

Layout of ``--output DIR`` (names defined here, once)::

    DIR/sets/<set>.parquet      one row per example: id, source, record, units, ngram_len,
                                ngrams, hits, overlap, contaminated (sorted by id)
    DIR/sets/<set>.json         {"clean": [ids...], "contaminated": [ids...]} (sorted)
    DIR/rejects/part-00000-of-00001.parquet   evaluation records that could not be used
    DIR/summary.json            the rule and one row per set (the paper's table), scan numbers
    DIR/manifest.json           stage "contamination": every file with rows, bytes, SHA-256
    DIR/corpus/                 with --remove: a corpus output (clean/, rejects/, manifest.json
                                of stage "corpus") without the contaminated documents

Every file is a pure function of the inputs and options (rows sorted, no timestamps), so
equal inputs give equal bytes whatever the number of workers.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

import pyarrow as pa

from palmkit.manifest import MANIFEST_NAME, FileEntry, Manifest, library_versions
from palmkit.paths import join
from pipelines import io

STAGE = "contamination"
SETS_DIR, SUMMARY_NAME, CORPUS_DIR = "sets", "summary.json", "corpus"
PREVIOUS_OUTPUT = (MANIFEST_NAME, SUMMARY_NAME, SETS_DIR, io.REJECTS, CORPUS_DIR)

RESULT_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("record", pa.int64(), nullable=False),
    pa.field("units", pa.int64(), nullable=False),
    pa.field("ngram_len", pa.int64(), nullable=False),
    pa.field("ngrams", pa.int64(), nullable=False),
    pa.field("hits", pa.int64(), nullable=False),
    pa.field("overlap", pa.float64(), nullable=False),
    pa.field("contaminated", pa.bool_(), nullable=False),
])


def _entry(data: bytes, rows: int) -> FileEntry:
    return FileEntry(rows=rows, bytes=len(data), sha256=hashlib.sha256(data).hexdigest())


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def write_set(element, *, output: str, n: int) -> tuple:
    """``(set, [row | None, ...])`` -> its two files; ``("set", name, row of the summary,
    {rel: FileEntry})``. ``None`` is the marker that makes a set without examples written."""
    name, rows = element
    rows = sorted((r for r in rows if r is not None), key=lambda r: r["id"])
    table = pa.Table.from_pylist(rows, schema=RESULT_SCHEMA)
    data = io.parquet_bytes(table)
    ids = {"clean": [r["id"] for r in rows if not r["contaminated"]],
           "contaminated": [r["id"] for r in rows if r["contaminated"]]}
    lists = _json_bytes(ids)
    rel_parquet, rel_json = f"{SETS_DIR}/{name}.parquet", f"{SETS_DIR}/{name}.json"
    io.write_bytes(join(output, rel_parquet), data)
    io.write_bytes(join(output, rel_json), lists)
    bad = len(ids["contaminated"])
    row = {"examples": len(rows), "contaminated": bad, "clean": len(rows) - bad,
           "contaminated_percent": round(100 * bad / len(rows), 2) if rows else 0.0,
           "shorter_than_n": sum(r["units"] < n for r in rows)}
    return ("set", name, row, {rel_parquet: _entry(data, len(rows)),
                               rel_json: _entry(lists, len(rows))})


def summarise(entries: Iterable[tuple], *, rule: dict, set_names: list[str]) -> dict:
    """The summary: the rule, one row per set (rejected records included) and scan numbers.

    ``scan``: corpus documents and bytes read, and distinct (document, n-gram) hits emitted:
    the corpus side's whole output, ``hits * BYTES_PER_HIT`` bytes of shuffle."""
    sets = {name: {"examples": 0, "contaminated": 0, "clean": 0, "contaminated_percent": 0.0,
                   "shorter_than_n": 0, "rejected": {}} for name in set_names}
    docs = nbytes = hits = 0
    index = {}
    for e in entries:
        if e[0] == "set":
            sets[e[1]].update(e[2])
        elif e[0] == "eval_reject":
            rej = sets[e[1]]["rejected"]
            rej[e[2]] = rej.get(e[2], 0) + e[3]
        elif e[0] == "scan":
            docs, nbytes, hits = docs + e[1][0], nbytes + e[1][1], hits + e[1][2]
        elif e[0] == "index":
            index[e[1]] = e[2]
    for row in sets.values():
        row["rejected"] = dict(sorted(row["rejected"].items()))
    return {"rule": rule, "sets": sets,
            "scan": {"documents": docs, "bytes": nbytes, "hits": hits,
                     "hit_bytes": hits * BYTES_PER_HIT,
                     "hits_per_gb": round(hits / nbytes * 1e9, 1) if nbytes else 0.0},
            "index": index}


#: What one corpus hit costs in the shuffle: an 8-byte hash + an 8-byte count, plus the
#: runner's key/value framing (~8 bytes): ~24 bytes (docs/scale.md).
BYTES_PER_HIT = 24


def write_reports(entries: list[tuple], *, output: str, config: dict, rule: dict,
                  set_names: list[str], inputs: dict,
                  corpus_config: dict | None = None, components: list[str] = ()) -> str:
    """``summary.json``, then with ``--remove`` the corpus's manifest, then ``manifest.json``
    last (a folder with a manifest is complete). Returns the manifest's JSON."""
    summary = summarise(entries, rule=rule, set_names=set_names)
    outputs: dict[str, FileEntry] = {}
    for e in entries:
        if e[0] == "set":
            outputs.update(e[3])
        elif e[0] == "eval_file":
            outputs[e[1]] = e[2]
    data = _json_bytes(summary)
    io.write_bytes(join(output, SUMMARY_NAME), data)
    outputs[SUMMARY_NAME] = _entry(data, len(set_names))
    extra: dict[str, Any] = {"summary": summary}
    if corpus_config is not None:
        corpus_entries = [e[1] for e in entries if e[0] == "corpus"]
        outputs.update({f"{CORPUS_DIR}/{e[1]}": e[2] for e in corpus_entries if e[0] == "file"})
        counts, entry = write_corpus_manifest(
            corpus_entries, output=join(output, CORPUS_DIR), config=corpus_config,
            inputs=inputs, components=list(components))
        outputs[f"{CORPUS_DIR}/{MANIFEST_NAME}"] = entry
        extra["decontaminated"] = counts
    manifest = Manifest(
        stage=STAGE, config=config, outputs=dict(sorted(outputs.items())),
        counts={name: {k: row[k] for k in ("examples", "contaminated", "clean", "rejected")}
                for name, row in summary["sets"].items()},
        inputs=inputs, extra=extra,
        versions=library_versions(["apache-beam", "numpy", "pyarrow"]))
    text = manifest.to_json()
    io.write_text_atomic(join(output, MANIFEST_NAME), text)
    return text


def write_corpus_manifest(entries: list[tuple], *, output: str, config: dict, inputs: dict,
                          components: list[str]) -> tuple[dict, FileEntry]:
    """The decontaminated corpus's ``manifest.json`` (stage "corpus", written the way the
    corpus job writes its own, so ``palmkit pack`` reads it like any corpus); returns its
    counts per component (read = kept + rejected, checked by ``assemble_counts``) and the
    file's entry."""
    from pipelines.corpus import build_manifest

    manifest = build_manifest(entries, config=config, inputs=inputs, components=components)
    text = manifest.to_json()
    io.write_text_atomic(join(output, MANIFEST_NAME), text)
    return manifest.counts, _entry(text.encode("utf-8"), len(manifest.outputs))
