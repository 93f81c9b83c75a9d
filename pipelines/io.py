"""Deterministic sharded Parquet output and the manifest, over Beam's ``FileSystems``.

Same inputs -> byte-identical files, whatever the runner, worker count or bundle order:

* a record's shard is a hash of its id (``shard_of``), never its arrival order;
* a shard's rows are sorted (documents by ``(id, source, record)``, rejects by
  ``(id, component, source, record, reason)``) before writing;
* pyarrow writes them with a fixed row-group size and codec, and Parquet files carry no
  timestamps (only ``created_by: parquet-cpp-arrow version X``, fixed by the pinned pyarrow);
* every shard of every component is written, empty or not (``part-00003-of-00004.parquet``),
  so a reader can count on the names.

Trade-off: one shard is built in memory by one worker (the GroupByKey hands it over whole), so
a shard should stay under ~1 GB. By default the job sizes each component's shard count from its
input at launch (``plan_shards``: text bytes, as each source format estimates them from sizes
at launch, / ``SHARD_BYTES``), so a 2.5 TB dialogue
component and a 30 GB news component both get ~256 MB shards; ``--num-shards N`` fixes N for all. Row groups of ``ROW_GROUP_ROWS`` rows: 2,000
web pages of ~5 KB is ~10 MB per group, a good unit for downstream readers (the vocabulary job
samples by row group).
"""

from __future__ import annotations

from palmkit.errors import UserError

import hashlib
import os
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from palmkit.manifest import MANIFEST_NAME, FileEntry
from palmkit.paths import is_remote, join
from pipelines.fs import check_usable
from palmkit.records import Document, Reject, documents_to_table, rejects_to_table
from pipelines.fs import read_text, write_bytes, write_text_atomic  # noqa: F401 (callers use io.*)

ROW_GROUP_ROWS = 2_000
PARQUET_COMPRESSION = "zstd"  # ~3.5x on text, decodes at >1 GB/s
CLEAN, REJECTS = "clean", "rejects"


SHARD_BYTES = 256 << 20  # target text per output shard (Parquet/zstd makes it ~3.5x smaller)
MAX_SHARDS = 65_536


def plan_shards(text_bytes: dict[str, int], *, fixed: int | None = None,
                shard_bytes: int = SHARD_BYTES) -> dict[str, int]:
    """Shards per output group (each component, and ``rejects``): ``fixed`` for all, or about
    ``shard_bytes`` of text each (at least 1, at most ``MAX_SHARDS``). Rejects are sized from
    the whole input, since quality sampling alone can reject most of the web."""
    def size(n: int) -> int:
        return max(1, min(MAX_SHARDS, -(-n // shard_bytes)))

    groups = {**text_bytes, REJECTS: sum(text_bytes.values())}
    return {g: fixed if fixed else size(n) for g, n in sorted(groups.items())}


class OutputError(UserError):
    """The output folder already holds a corpus (and --overwrite was not given)."""


def shard_of(record_id: str, num_shards: int) -> int:
    """Shard index of an id: stable across runs, machines and Python processes."""
    digest = hashlib.blake2b(record_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % num_shards


def shard_name(index: int, num_shards: int) -> str:
    return f"part-{index:05d}-of-{num_shards:05d}.parquet"


def shard_path(kind: str, group: str, index: int, num_shards: int) -> str:
    """Path relative to the output folder: ``clean/<component>/part-...`` or ``rejects/part-...``."""
    name = shard_name(index, num_shards)
    return f"{CLEAN}/{group}/{name}" if kind == CLEAN else f"{REJECTS}/{name}"


def document_sort_key(doc: Document) -> tuple:
    return (doc.id, doc.source, doc.record)


def reject_sort_key(rej: Reject) -> tuple:
    return (rej.id, rej.component, rej.source, rej.record, rej.reason, rej.detail)


def parquet_bytes(table: pa.Table, *, row_group_size: int = ROW_GROUP_ROWS) -> bytes:
    """Serialise ``table`` as Parquet, deterministically."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=row_group_size, compression=PARQUET_COMPRESSION)
    return sink.getvalue().to_pybytes()


def shard_table(kind: str, records: Iterable[Any]) -> pa.Table:
    """Sorted table of one shard's records (None entries, the empty-shard markers, dropped)."""
    present = [r for r in records if r is not None]
    if kind == CLEAN:
        return documents_to_table(sorted(present, key=document_sort_key))
    return rejects_to_table(sorted(present, key=reject_sort_key))


def sort_key(kind: str, record: Any) -> tuple:
    """The order of ``record``'s rows within its shard (``shard_table``'s)."""
    return document_sort_key(record) if kind == CLEAN else reject_sort_key(record)


def write_sorted_shard(output: str, rel: str, kind: str,
                       keyed_wires: Iterable[tuple[tuple, bytes] | None], *,
                       row_group_size: int = ROW_GROUP_ROWS) -> FileEntry:
    """``write_shard(output, rel, shard_table(kind, records))`` for records given as
    ``(sort_key, to_wire bytes)`` (None entries dropped), holding one row group's records at a
    time instead of the shard's: only the keys are sorted in memory. Byte-identical to
    ``write_shard`` (a ParquetWriter fed whole row groups writes the same file)."""
    from palmkit.records import DOCUMENT_SCHEMA, REJECT_SCHEMA, from_wire

    keyed = sorted((kw for kw in keyed_wires if kw is not None), key=lambda kw: kw[0])
    to_table = documents_to_table if kind == CLEAN else rejects_to_table
    path = join(output, rel)
    check_usable(path)
    with FileSystems.create(path, compression_type="uncompressed") as f:
        sink = _HashingSink(f)  # streamed: the file is never held whole (nor copied) in memory
        with pq.ParquetWriter(sink, DOCUMENT_SCHEMA if kind == CLEAN else REJECT_SCHEMA,
                              compression=PARQUET_COMPRESSION) as writer:
            for start in range(0, max(len(keyed), 1), row_group_size):
                table = to_table([from_wire(w) for _, w in keyed[start:start + row_group_size]])
                writer.write_table(table, row_group_size=row_group_size)  # records freed
                del table
    return FileEntry(rows=len(keyed), bytes=sink.size, sha256=sink.sha256.hexdigest())


class _HashingSink:
    """A write-only file for pyarrow that passes bytes on to ``f`` and hashes and counts them."""

    def __init__(self, f):
        self._f, self.sha256, self.size, self.closed = f, hashlib.sha256(), 0, False

    def write(self, data) -> int:
        data = bytes(data)
        self.sha256.update(data)
        self._f.write(data)
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def close(self) -> None:  # the caller closes ``f``
        self.closed = True


def write_shard(output: str, rel: str, table: pa.Table, *,
                row_group_size: int = ROW_GROUP_ROWS) -> FileEntry:
    """Write one shard; return its manifest entry (rows, bytes, SHA-256 of what was written)."""
    data = parquet_bytes(table, row_group_size=row_group_size)
    write_bytes(join(output, rel), data)
    return FileEntry(rows=table.num_rows, bytes=len(data), sha256=hashlib.sha256(data).hexdigest())


INCOMING = ".incoming"  # where a run that replaces a previous output writes, until it succeeds


def _entries_present(output: str, names: Iterable[str]) -> list[str]:
    present = []
    for name in names:
        if "*" in name:
            present += sorted(m.path for m in FileSystems.match([join(output, name)])[0].metadata_list)
        elif FileSystems.exists(join(output, name)):
            present.append(join(output, name))
    return present


def prepare_output(output: str, *, overwrite: bool, previous: tuple[str, ...] = (
        MANIFEST_NAME, CLEAN, REJECTS), what: str = "a corpus", resume: bool = False) -> str:
    """Check ``output`` and return the folder this run writes into.

    An output that is an existing file is refused. One that holds a previous run (any of
    ``previous``: names or globs) is refused unless ``overwrite``; then the new run writes into
    ``output/.incoming`` and ``publish`` swaps it in only once it has succeeded, so a failed
    run leaves the previous output intact. Leftovers of an earlier failed run are removed,
    unless ``resume`` (``pipelines.resume``): then an unfinished run (files but no manifest in
    ``output``, or an ``.incoming`` with a ``.resume`` folder) is continued where it was.
    """
    from pipelines.resume import RESUME_DIR

    check_usable(output, reach=True)  # a URL: its extra installed, and it answers
    if not is_remote(output) and os.path.isfile(output):
        raise OutputError(f"--output {output} is a file; give a folder (it is created if missing)")
    incoming = join(output, INCOMING)
    existing = _entries_present(output, previous)
    if resume and existing and not FileSystems.exists(join(output, MANIFEST_NAME)):
        return output  # an interrupted run wrote here directly: continue it
    if resume and overwrite and existing and FileSystems.exists(join(incoming, RESUME_DIR)):
        return incoming  # an interrupted replacement of a finished output: continue it
    if existing and not overwrite:
        shown = ", ".join(existing[:3]) + (f" and {len(existing) - 3} more" if len(existing) > 3
                                           else "")
        raise OutputError(f"{output} already holds {what} ({shown}); pass --overwrite to "
                          f"replace it (the old one is kept until the new run succeeds)")
    if FileSystems.exists(incoming):
        FileSystems.delete([incoming])
    return incoming if existing else output


def publish(output: str, staging: str, *, files: Iterable[str],
            previous: tuple[str, ...] = (MANIFEST_NAME, CLEAN, REJECTS)) -> None:
    """Replace the previous output by the finished run in ``staging`` (no-op when the run
    wrote into ``output`` directly). The old manifest goes first and the new one comes last,
    so at no moment does a manifest describe files that are not there."""
    if staging == output:
        return
    old = _entries_present(output, previous)
    manifest = join(output, MANIFEST_NAME)
    if manifest in old:
        FileSystems.delete([manifest])
        old.remove(manifest)
    if old:
        FileSystems.delete(old)
    files = sorted(set(files))
    if is_remote(output):  # object stores have no directories: move file by file
        FileSystems.rename([join(staging, f) for f in files], [join(output, f) for f in files])
    else:  # local: move the top-level entries (clean/, rejects/, shard files)
        for top in sorted({f.split("/", 1)[0] for f in files}):
            os.replace(join(staging, top), join(output, top))
    FileSystems.rename([join(staging, MANIFEST_NAME)], [manifest])
    FileSystems.delete([staging])
