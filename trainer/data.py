"""Reading packed shards: manifest checks, random access by example index, one batch per step.

The pack job writes ``SHARDS/shard-XXXXX-of-YYYYY.parquet`` (one ``tokens`` column of exactly
``seq_len`` int32 ids, row groups of 1024 rows) in training order, and ``manifest.json``. Global
example ``i`` is row ``i - offset[s]`` of the shard ``s`` whose cumulative example count first
exceeds ``i``. Packs made with ``--segment-ids`` also hold ``segment_ids`` and ``positions``
columns (``records.SEGMENT_COLUMNS``), read into ``Batch.segment_ids`` / ``Batch.positions``.
``--format array_record`` shards (one record per example, ``records.example_record``) are read
through ``ArrayRecordReader``, ``ARRAY_RECORD_GROUP`` records at a time the same way, except a
single example outside the cache (random access, ``[i]``), which is read alone: one record
instead of 1024 (docs/benchmarks.md: ~450x more random examples/s than Parquet).
The component sidecars beside the shards (``components-*.parquet``, records.COMPONENTS_SCHEMA) are
never read for training (``spec.shards`` are the token files only); ``SegmentComponents`` reads
them for the memorization probe's split by component.
``check_enough_examples`` refuses, before step 1, a ``--steps`` the shards cannot feed.

Grain and the determinism guarantee
-----------------------------------
``PackedExamples`` is a Grain ``RandomAccessDataSource`` (``__len__`` + ``__getitem__``) over the
Parquet row groups: any example is read without reading what comes before it. The unit the trainer
iterates over is the *step*, not the example: ``StepBatches[k]`` is the whole batch of step ``k``,
built from ``schedules.step_examples(k, ...)``, so its contents are a pure function of ``k``, the
manifest, the batch schedule and the skip list. That is the guarantee Grain's ``IndexSampler``
(``shuffle=False``) + ``batch`` gives for a fixed batch size; a *varying* batch size (PaLM's
512 -> 1024 -> 2048) cannot be expressed as a fixed ``batch`` operation, hence batches-as-records.
``step_iterator`` wraps ``StepBatches`` in ``grain.MapDataset.source(...)`` and iterates it with
``to_iter_dataset`` (background threads prefetch the next batches, order unchanged). With several
data-parallel processes each one reads only its own slice of every global batch
(``schedules.process_slice``).

Errors: a missing ``--data`` folder, a folder that is not a ``pack`` output (no manifest, or another
stage's), a shard whose size or SHA-256 differs from the manifest, and -- with
``--no-verify-checksums``, found only when its row group is read -- a shard that is not valid
Parquet or holds ids outside the vocabulary each raise a one-line ``ManifestError`` (a
``UserError``) naming the folder or file.

Cost: a row group of 1024 x 2048 int32 is 8 MiB decoded; batches are contiguous example ranges, so
a small LRU cache (4 groups) means every row group is read from disk about once.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import os
import threading
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from palmkit.contracts import PACK_STAGE, PackedDataSpec
from palmkit.errors import UserError
from palmkit.manifest import MANIFEST_NAME, Manifest, ManifestError
from palmkit.records import COMPONENTS_COLUMN, COMPONENTS_SCHEMA, NO_COMPONENT, SEGMENT_COLUMNS
from palmkit.paths import is_remote
from trainer import schedules

#: ArrayRecord shards are read and cached this many records at a time (a Parquet row group's
#: size), except a single example that is not cached: read alone (random access).
ARRAY_RECORD_GROUP = 1024

#: Set to a list to record what this process reads (tests/test_multiprocess.py checks that each
#: process reads only its slice): ``("served", start, stop)`` per ``PackedExamples.read`` and
#: ``("decoded", first, stop)`` (global example indices) per row group or record group decoded
#: from a shard. None (the default) records nothing.
READ_TRACE: list | None = None


@dataclasses.dataclass(frozen=True)
class DataSpec(PackedDataSpec):
    """A pack output the trainer reads: its manifest's hand-over fields and where it lies."""

    directory: str = dataclasses.field(kw_only=True)


def read_spec(directory: str, *, verify_checksums: bool = True) -> DataSpec:
    """Read and check ``directory/manifest.json``: stage, the hand-over fields
    (``PackedDataSpec.from_manifest``), files (sizes + SHA-256)."""
    if not is_remote(str(directory)) and not os.path.isdir(directory):
        what = "is not a folder" if os.path.exists(directory) else "does not exist"
        raise ManifestError(f"--data {directory} {what}: pass the output folder of `palmkit pack`")
    manifest = Manifest.read(directory, stage=PACK_STAGE)
    packed = PackedDataSpec.from_manifest(manifest, origin=os.path.join(directory, MANIFEST_NAME))
    # Cost: SHA-256 runs at ~1 GB/s per core, so 780B tokens (~3 TB of int32 before zstd) take about
    # an hour per host: `--no-verify-checksums` checks only sizes for such runs.
    manifest.verify_files(directory, checksums=verify_checksums)
    fields = {f.name: getattr(packed, f.name) for f in dataclasses.fields(packed)}
    return DataSpec(**fields, directory=directory)


def check_model_matches(spec: DataSpec, *, seq_len: int, vocab_size: int, eod_id: int | None) -> None:
    """Clear error when a model config cannot consume these shards.

    A model vocabulary *larger* than the data's is allowed (e.g. 256k rounded for sharding); smaller
    would index out of the embedding, and a different sequence length or ``[eod]`` id means the
    shards were packed for another model."""
    where = os.path.join(spec.directory, MANIFEST_NAME)
    if seq_len != spec.seq_len:
        raise ManifestError(f"{where}: shards are packed at seq_len={spec.seq_len} but the model "
                            f"uses seq_len={seq_len}; drop --seq-len or re-pack")
    if vocab_size < spec.vocab_size:
        raise ManifestError(f"{where}: vocabulary of {spec.vocab_size} ids but the model embeds "
                            f"only {vocab_size}; drop --vocab-size or use a larger one")
    if eod_id is not None and eod_id != spec.eod_id:
        raise ManifestError(f"{where}: [eod] id is {spec.eod_id} but the model config says {eod_id}")


def check_enough_examples(spec: DataSpec, *, steps: int, schedule: schedules.BatchSchedule,
                          skips: Sequence[schedules.Skip] = (), allow_repeat: bool = False) -> None:
    """One-line ``UserError`` before step 1 when steps ``1..steps`` of ``schedule`` (plus the
    examples already skipped after loss spikes) need more examples than the shards hold. Without
    it, running out is an ``IndexError`` inside a Grain traceback after hours of training. A
    later rollback can still skip past the end; that is the run-time error in ``StepBatches``."""
    needed = schedules.examples_before(steps + 1, schedule, skips)
    have = spec.num_examples
    if allow_repeat or needed <= have:
        return
    lo, hi = 0, steps  # the most steps that fit: examples_before(lo + 1) <= have < needed
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if schedules.examples_before(mid + 1, schedule, skips) <= have \
            else (lo, mid - 1)
    raise UserError(f"--steps {steps} with --batch-schedule "
                    f"{','.join(f'{a}:{b}' for a, b in schedule)} needs {needed} examples but "
                    f"{spec.directory} holds {have} (one epoch, {have * spec.seq_len} tokens): "
                    f"pass --steps {lo} or fewer, --allow-repeat, or re-pack more data "
                    f"(a larger corpus or --total-tokens)")


class PackedExamples:
    """Random access to every packed example: ``len()`` and ``[i] -> int32[seq_len]`` (Grain's
    ``RandomAccessDataSource`` protocol), plus ``read(start, stop)`` for a contiguous range."""

    def __init__(self, spec: DataSpec, *, cache_groups: int = 4):
        self.spec = spec
        self._offsets = np.concatenate([[0], np.cumsum(spec.examples_per_shard)]).astype(np.int64)
        self._files: dict[int, pq.ParquetFile] = {}
        self._group_starts: dict[int, list[int]] = {}
        self._cache: collections.OrderedDict = collections.OrderedDict()
        self._cache_groups = cache_groups
        self._last_range: tuple = (None, None)  # ArrayRecord single-record reads
        self._lock = threading.Lock()  # Grain may call from several threads

    def __len__(self) -> int:
        return self.spec.num_examples

    @property
    def columns(self) -> tuple[str, ...]:
        """``tokens``, plus ``records.SEGMENT_COLUMNS`` when the pack wrote them."""
        return ("tokens",) + (SEGMENT_COLUMNS if self.spec.segment_ids else ())

    def __getitem__(self, i: int) -> np.ndarray:
        return self.read(int(i), int(i) + 1)[0]

    def read(self, start: int, stop: int, column: str = "tokens") -> np.ndarray:
        """Examples ``[start, stop)`` of ``column`` (one of ``columns``) as int32
        ``(stop - start, seq_len)``."""
        if column not in self.columns:
            raise ManifestError(f"{self.spec.directory}: no {column} column; re-run `palmkit pack "
                                f"--segment-ids`")
        if not 0 <= start <= stop <= len(self):
            raise IndexError(f"examples [{start}, {stop}) outside the {len(self)} in {self.spec.directory}")
        if READ_TRACE is not None:
            READ_TRACE.append(("served", start, stop))
        parts, i = [], start
        while i < stop:
            shard = bisect.bisect_right(self._offsets, i) - 1
            row = i - int(self._offsets[shard])
            if self.spec.format == "array_record" and stop - start == 1 and \
                    (shard, row // ARRAY_RECORD_GROUP) not in self._cache:
                take = 1  # random access: one record, not its 1024-record group
                parts.append(self._record_range(shard, row, row + 1)[column])
            else:
                group, first = self._group_of(shard, row)
                rows = self._group(shard, group)[column]
                take = min(stop - i, len(rows) - (row - first))
                parts.append(rows[row - first: row - first + take])
            i += take
        out = np.concatenate(parts) if len(parts) != 1 else parts[0].copy()
        return out

    def _path(self, shard: int) -> str:
        return os.path.join(self.spec.directory, self.spec.shards[shard])

    def _corrupt(self, shard: int, what: str, error: BaseException | str) -> ManifestError:
        why = error if isinstance(error, str) else \
            f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0][:200]}"
        return ManifestError(f"{self._path(shard)}: {what} ({why}); the shard is corrupt: re-run "
                             f"`palmkit pack` (without --no-verify-checksums the SHA-256 check "
                             f"finds this before training)")

    def _file(self, shard: int):
        """The shard's ``ParquetFile`` (groups: its row groups) or ``ArrayRecordReader``
        (groups: ``ARRAY_RECORD_GROUP`` records each, its count checked against the manifest)."""
        if shard not in self._files and self.spec.format == "array_record":
            from array_record.python.array_record_module import ArrayRecordReader

            try:
                f = ArrayRecordReader(self._path(shard))
                n = f.num_records()
            except (OSError, RuntimeError, ValueError) as e:
                raise self._corrupt(shard, "not readable as ArrayRecord", e) from e
            if n != self.spec.examples_per_shard[shard]:
                raise self._corrupt(shard, "record count", f"{n} records, the manifest says "
                                    f"{self.spec.examples_per_shard[shard]}")
            self._files[shard] = f
            self._group_starts[shard] = list(range(0, n, ARRAY_RECORD_GROUP)) or [0]
        if shard not in self._files:
            try:
                f = pq.ParquetFile(self._path(shard))
            except (OSError, pa.ArrowException) as e:
                raise self._corrupt(shard, "not readable as Parquet", e) from e
            meta = f.metadata
            starts, n = [], 0
            for g in range(meta.num_row_groups):
                starts.append(n)
                n += meta.row_group(g).num_rows
            self._files[shard], self._group_starts[shard] = f, starts
        return self._files[shard]

    def _group_of(self, shard: int, row: int) -> tuple[int, int]:
        with self._lock:
            self._file(shard)
            starts = self._group_starts[shard]
        g = bisect.bisect_right(starts, row) - 1
        return g, starts[g]

    def _group(self, shard: int, group: int) -> dict[str, np.ndarray]:
        key = (shard, group)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            if self.spec.format == "array_record":
                first = group * ARRAY_RECORD_GROUP
                arrays = self._records(shard, first, min(first + ARRAY_RECORD_GROUP,
                                                         self.spec.examples_per_shard[shard]))
            else:
                try:
                    table = self._file(shard).read_row_group(group, columns=list(self.columns))
                except (OSError, pa.ArrowException, KeyError) as e:
                    raise self._corrupt(shard, f"row group {group} not readable", e) from e
        if self.spec.format != "array_record":
            arrays = self._columns(shard, group, table)
        self._check_ids(shard, f"row group {group}", arrays["tokens"],
                        self._group_starts[shard][group])
        with self._lock:
            self._cache[key] = arrays
            while len(self._cache) > self._cache_groups:
                self._cache.popitem(last=False)
        return arrays

    def _columns(self, shard: int, group: int, table: pa.Table) -> dict[str, np.ndarray]:
        arrays = {}
        for name in self.columns:
            try:
                col = table.column(name).combine_chunks()
                arrays[name] = col.values.to_numpy().astype(np.int32, copy=False).reshape(
                    -1, self.spec.seq_len)
            except (pa.ArrowException, ValueError, AttributeError, KeyError) as e:
                what = f"row group {group} is not {self.spec.seq_len} int32 {name} a row"
                raise self._corrupt(shard, what, e) from e
        return arrays

    def _check_ids(self, shard: int, what: str, rows: np.ndarray, first_row: int) -> None:
        """Ids outside the vocabulary are a corrupt shard; records the decode in READ_TRACE."""
        if rows.size and (rows.min() < 0 or rows.max() >= self.spec.vocab_size):
            raise self._corrupt(shard, what, f"ids in [{rows.min()}, {rows.max()}] "
                                f"outside the vocabulary of {self.spec.vocab_size}")
        if READ_TRACE is not None:
            first = int(self._offsets[shard]) + first_row
            READ_TRACE.append(("decoded", first, first + len(rows)))

    def _record_range(self, shard: int, start: int, stop: int) -> dict[str, np.ndarray]:
        """Records ``[start, stop)`` of an ArrayRecord shard, outside the group cache (the
        last one memoised: the segment columns are asked for after the tokens)."""
        key = (shard, start, stop)
        with self._lock:
            if self._last_range[0] == key:
                return self._last_range[1]
            self._file(shard)
            arrays = self._records(shard, start, stop)
        self._check_ids(shard, f"records [{start}, {stop})", arrays["tokens"], start)
        with self._lock:
            self._last_range = (key, arrays)
        return arrays

    def _records(self, shard: int, start: int, stop: int) -> dict[str, np.ndarray]:
        """ArrayRecord records ``[start, stop)`` as columns (``records.example_record``)."""
        reader = self._file(shard)
        k, t = len(self.columns), self.spec.seq_len
        try:
            data = reader.read(start, stop) if stop > start else []
            flat = np.frombuffer(b"".join(data), dtype="<i4").astype(np.int32)
            if flat.size != (stop - start) * k * t:
                raise ValueError(f"{flat.size} int32 in {stop - start} records, not {k} x {t} each")
        except (OSError, RuntimeError, ValueError) as e:
            raise self._corrupt(shard, f"records [{start}, {stop}) not readable", e) from e
        cube = flat.reshape(-1, k, t)
        return {name: cube[:, j] for j, name in enumerate(self.columns)}


class SegmentComponents:
    """Which mixture component each segment of each example came from (index into
    ``spec.components``, ``records.NO_COMPONENT`` for a shard's leading ``[eod]``), from the
    shards' sidecars; a shard's sidecar is read whole on first use (a few bytes per row).
    ``available`` is False for packs written before the sidecars existed."""

    def __init__(self, spec: DataSpec):
        self.spec = spec
        self._offsets = np.concatenate([[0], np.cumsum(spec.examples_per_shard)]).astype(np.int64)
        self._shards: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def available(self) -> bool:
        return bool(self.spec.components)

    def row(self, i: int) -> np.ndarray:
        """int ``(segments of example i,)``: its segments' component indices, in order."""
        if not self.available:
            raise ManifestError(f"{self.spec.directory}: no component sidecars (packed before "
                                f"they existed); re-run `palmkit pack`")
        shard = bisect.bisect_right(self._offsets, i) - 1
        if shard not in self._shards:
            self._shards[shard] = self._read(shard)
        offsets, values = self._shards[shard]
        r = i - int(self._offsets[shard])
        return values[offsets[r]: offsets[r + 1]]

    def _read(self, shard: int) -> tuple[np.ndarray, np.ndarray]:
        path = os.path.join(self.spec.directory, self.spec.component_files[shard])
        try:
            table = pq.read_table(path)
            if not table.schema.equals(COMPONENTS_SCHEMA, check_metadata=False):
                raise ValueError(f"schema {table.schema.types}, not {COMPONENTS_SCHEMA.types}")
            col = table.column(COMPONENTS_COLUMN).combine_chunks()
            offsets = np.asarray(col.offsets, np.int64) - int(col.offsets[0].as_py())
            values = col.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
        except (OSError, pa.ArrowException, ValueError) as e:
            raise ManifestError(f"{path}: not a component sidecar ({type(e).__name__}: "
                                f"{(str(e).strip().splitlines() or [''])[0][:200]}); re-run "
                                f"`palmkit pack`") from e
        n, k = self.spec.examples_per_shard[shard], len(self.spec.components)
        if len(col) != n or (values.size and (values.min() < NO_COMPONENT or values.max() >= k)):
            raise ManifestError(f"{path}: {len(col)} rows of indices in [{values.min(initial=0)}, "
                                f"{values.max(initial=0)}], not {n} rows of indices below {k} "
                                f"(extra.components); re-run `palmkit pack`")
        return offsets, values


@dataclasses.dataclass(frozen=True)
class Batch:
    step: int
    tokens: np.ndarray  # this process's slice, int32 (b_local, seq_len)
    first_example: int  # global index of the batch's first example (all processes)
    global_size: int
    # With `palmkit pack --segment-ids` (same shape as tokens; records.SEGMENT_COLUMNS):
    segment_ids: np.ndarray | None = None
    positions: np.ndarray | None = None


class StepBatches:
    """Random access by step: ``[k] -> Batch`` of step ``k`` (this process's slice only).

    ``allow_repeat`` wraps example indices modulo the dataset (a second epoch); PaLM trains exactly
    one epoch, so by default running out of data is an error."""

    def __init__(self, examples: PackedExamples, *, schedule: schedules.BatchSchedule,
                 skips: Sequence[schedules.Skip], first_step: int, last_step: int,
                 process_index: int = 0, process_count: int = 1, allow_repeat: bool = False):
        self.examples, self.schedule, self.skips = examples, schedule, tuple(skips)
        self.first_step, self.last_step = first_step, last_step
        self.process_index, self.process_count = process_index, process_count
        self.allow_repeat = allow_repeat

    def __len__(self) -> int:
        return max(self.last_step - self.first_step + 1, 0)

    def __getitem__(self, i: int) -> Batch:
        k = self.first_step + int(i)
        start, stop = schedules.step_examples(k, self.schedule, self.skips)
        lo, hi = schedules.process_slice(start, stop, index=self.process_index,
                                         count=self.process_count)
        extra = {c: self._read(lo, hi, c) for c in self.examples.columns if c != "tokens"}
        return Batch(step=k, tokens=self._read(lo, hi), first_example=start,
                     global_size=stop - start, **extra)

    def _read(self, lo: int, hi: int, column: str = "tokens") -> np.ndarray:
        n = len(self.examples)
        if hi <= n:
            return self.examples.read(lo, hi, column)
        if not self.allow_repeat:
            raise IndexError(f"examples [{lo}, {hi}) requested but the shards hold {n} "
                             f"(one epoch); pack more data, train fewer steps or pass --allow-repeat")
        idx = np.arange(lo, hi) % n
        return np.stack([self.examples.read(int(i), int(i) + 1, column)[0] for i in idx])


def step_iterator(batches: StepBatches, *, prefetch: int = 2) -> Iterator[Batch]:
    """Iterate the steps in order through Grain, ``prefetch`` batches read ahead by threads."""
    import grain

    ds = grain.MapDataset.source(batches)
    if prefetch <= 0:
        return iter(ds)
    read = grain.ReadOptions(num_threads=1, prefetch_buffer_size=prefetch)
    return iter(ds.to_iter_dataset(read_options=read))
