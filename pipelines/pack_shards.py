"""One pack shard, as a file: its Parquet or ArrayRecord bytes and its component sidecar
(``records.COMPONENTS_SCHEMA``), written and described for the manifest (``pack_shard``), and
the resume bookkeeping of finished shards (``run_fingerprint``, ``resumed_shards``;
``pipelines.resume``). Pure functions of their arguments, used by the pack
job's ``PackAndWriteShard`` step (``pipelines.pack``)."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from palmkit.contracts import packed_shard_name
from palmkit.manifest import FileEntry, Manifest
from palmkit.paths import join
from palmkit.records import (TOKEN_ARROW_TYPE, components_name, components_table, example_record,
                             packed_schema)
from pipelines import io as outputs
from pipelines import packing, resume

if TYPE_CHECKING:
    from pipelines.pack import PackConfig
    from pipelines.pack_checks import VocabInfo

ROWS_PER_GROUP = 1024  # rows per Parquet row group: 8 MiB at seq_len 2048


def shard_table(examples: np.ndarray, seq_len: int, *, eod_id: int | None = None) -> pa.Table:
    """One shard's examples as a ``packed_schema`` table; with ``eod_id``, also its
    ``segment_ids`` and ``positions`` (``packing.segment_ids``)."""
    arrays = [examples]
    if eod_id is not None:
        arrays += [packing.segment_ids(examples, eod_id), packing.segment_positions(examples, eod_id)]
    columns = [pa.FixedSizeListArray.from_arrays(pa.array(a.reshape(-1), type=TOKEN_ARROW_TYPE),
                                                 seq_len) for a in arrays]
    return pa.Table.from_arrays(columns, schema=packed_schema(seq_len,
                                                              segment_ids=eod_id is not None))


def array_record_bytes(examples: np.ndarray, *, eod_id: int | None = None) -> bytes:
    """One shard as ArrayRecord bytes (``records.example_record`` per example; with ``eod_id``
    the segment columns too). ``group_size:1``: any example is read alone (Grain's advice for
    random access). Written to a local temporary file (the writer is C++ file I/O), then
    copied by the caller through Beam's filesystems, so gs:// outputs work too."""
    import os
    import tempfile

    from array_record.python.array_record_module import ArrayRecordWriter

    columns = [examples]
    if eod_id is not None:
        columns += [packing.segment_ids(examples, eod_id), packing.segment_positions(examples, eod_id)]
    fd, path = tempfile.mkstemp(suffix=".array_record")
    os.close(fd)
    try:
        writer = ArrayRecordWriter(path, "group_size:1")
        for i in range(len(examples)):
            writer.write(example_record([c[i] for c in columns]))
        writer.close()
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def write_shard(output: str, name: str, examples: np.ndarray, *, seq_len: int, eod_id: int,
                segment_ids: bool, fmt: str) -> FileEntry:
    """Write one shard in ``fmt``; its manifest entry."""
    seg_eod = eod_id if segment_ids else None
    if fmt == "parquet":
        return outputs.write_shard(output, name, shard_table(examples, seq_len, eod_id=seg_eod),
                                   row_group_size=ROWS_PER_GROUP)
    data = array_record_bytes(examples, eod_id=seg_eod)
    outputs.write_bytes(join(output, name), data)
    return FileEntry(rows=len(examples), bytes=len(data), sha256=hashlib.sha256(data).hexdigest())


def write_components(output: str, shard_name: str, copies, components: tuple[str, ...], *,
                     seq_len: int) -> FileEntry:
    """The shard's component sidecar (``records.components_name``): each document's component
    as its index in ``components`` (one small int per document), laid out per row by
    ``packing.row_components``."""
    index = {c: i for i, c in enumerate(components)}
    rows = packing.row_components([len(c[4]) for c in copies], [index[c[1]] for c in copies],
                                  seq_len=seq_len)
    return outputs.write_shard(output, components_name(shard_name), components_table(rows),
                               row_group_size=ROWS_PER_GROUP)


def pack_shard(item, *, output: str, seq_len: int, eod_id: int, num_shards: int,
               segment_ids: bool = False, fmt: str = "parquet", cache: str | None = None,
               run: str | None = None, components: tuple[str, ...] = ()) -> dict:
    """Sort a shard's copies by order key, pack them, write the shard file and (with
    ``components``, the manifest's ordered names) its component sidecar, describe them."""
    index, copies = item
    copies = sorted((c for c in copies if c is not None), key=lambda c: c[:4])
    examples, dropped = packing.pack([c[4] for c in copies], seq_len=seq_len, eod_id=eod_id)
    name = packed_shard_name(index, num_shards, fmt)
    entry = write_shard(output, name, examples, seq_len=seq_len, eod_id=eod_id,
                        segment_ids=segment_ids, fmt=fmt)
    sidecar = write_components(output, name, copies, components, seq_len=seq_len) \
        if components else None
    per_component: dict[str, int] = {}
    for _, component, _, _, toks in copies:
        per_component[component] = per_component.get(component, 0) + len(toks)
    result = {
        "index": index,
        "name": name,
        "entry": entry,
        "documents": len(copies),
        "dropped_tokens": dropped,
        "tokens_per_component": per_component,
        **({"components_entry": sidecar} if sidecar is not None else {}),
    }
    if cache is not None:  # this shard is done: a rerun of the same run skips it
        resume.WorkCache(cache).mark("shards", name, {"run": run, "result": {
            **result, "entry": dataclasses.asdict(entry),
            **({"components_entry": dataclasses.asdict(sidecar)} if sidecar is not None else {})}})
    return result


def run_fingerprint(config: PackConfig, corpus_manifest: Manifest, vocab: VocabInfo,
                    mixture) -> str:
    """Everything a pack shard's bytes depend on: the corpus files, the vocabulary, the
    mixture's shares and every option that changes shards (not --output, not --resume)."""
    return resume.fingerprint({
        "v": resume.CACHE_VERSION, "sidecars": "components-1",  # packs before them: repacked
        "corpus": {rel: e.sha256 for rel, e in sorted(corpus_manifest.outputs.items())},
        "vocab": vocab.sha256, "shares": mixture.shares,
        "options": [config.total_tokens, config.seq_len, config.num_shards, config.seed,
                    config.segment_ids, config.format]})


def resumed_shards(run_dir: str, run: str) -> dict[int, dict]:
    """Shards an interrupted run of the same ``run`` fingerprint wrote completely: index ->
    ``pack_shard``'s result. A marker of another run, or whose file (or component sidecar) is
    missing or of another size, does not count (the shard is packed again)."""
    cache = resume.WorkCache(resume.cache_root(run_dir))
    done: dict[int, dict] = {}
    for key in cache.keys("shards"):
        meta = cache.meta("shards", key)
        if not meta or meta.get("run") != run:
            continue
        result = dict(meta["result"], entry=FileEntry(**meta["result"]["entry"]))
        files = [(result["name"], result["entry"])]
        if "components_entry" in result:
            result["components_entry"] = FileEntry(**result["components_entry"])
            files.append((components_name(result["name"]), result["components_entry"]))
        if all(_has_size(join(run_dir, name), entry.bytes) for name, entry in files):
            done[result["index"]] = result
    return done


def _has_size(path: str, size: int) -> bool:
    return FileSystems.exists(path) and \
        FileSystems.match([path])[0].metadata_list[0].size_in_bytes == size
