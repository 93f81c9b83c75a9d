"""Builds that resume: finished work of an interrupted run is kept and reused by the rerun.

Rerunning the same ``palmkit corpus`` or ``palmkit pack`` command after it was killed (out of
memory, SIGKILL, a preempted machine) or failed does not redo what had finished. Resuming is
the default; ``--no-resume`` starts from zero. What is kept, in ``RUN/.resume/`` of the folder
the run writes into (the output, or ``OUTPUT/.incoming`` when it replaces a previous output):

* corpus: ``read/<key>.bin`` — every record one work item (a file, a Parquet row group, a
  repository, a TFDS range) produced, framed ``palmkit.records.to_wire`` bytes, zstd. The key
  is a fingerprint of the item (its source entry, path, part) and of what the input is now
  (size and modification time of a file, of every file under a repository; the dataset's
  version for TFDS) and of the options reading depends on (``--max-doc-bytes``), so a changed
  or touched input, or a changed option, misses and is read again: exactly what it affects.
* corpus: ``decisions.sqlite`` — what each filtering stage (language ID, heuristics, license
  filter) decided per document (``DecisionMemo``); ``quality/<key>-<fold>.bin`` — the quality
  classifiers, keyed by a hash of their training rows and arguments (the scoring workers read
  them from there in every run; a rerun reuses them).
* pack: ``tokens/<key>.bin`` — the tokens of every document of one corpus file, keyed by the
  file's SHA-256 (from the corpus manifest), the vocabulary's SHA-256 and the seed; and
  ``shards/<name>.json`` — a shard that was packed and written, keyed by a fingerprint of
  the whole run (corpus manifest, vocabulary, every option that changes the shards), so a
  rerun skips packing it but still plans the sampling (from cached tokens: fast).

Why these units. They are the finest ones whose result does not depend on the rest of the run
(reading one input needs nothing else; tokenizing one corpus file neither; a pack shard is a
pure function of the run's fingerprint). The cleaning stages after reading group documents of
all components (exact dedup across components, quality sampling trained on the reference
components, near-dedup components), so no component's cleaned output can be reused on its own
when any input changed: they rerun, on cached reads. Measured in docs/scale.md.

Each entry is written to a temporary name and renamed, its small ``.json`` marker last, so an
entry whose marker exists is complete; a killed writer leaves at most a temporary file, which
the next run overwrites. Entries are bytes-for-bytes what the uncached step yields (records
are re-emitted in the order they were read), so the outputs of a resumed run are
byte-identical to an uninterrupted one. On success the run deletes ``.resume``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
from typing import Any, Iterator

import zstandard
from apache_beam.io.filesystems import FileSystems

from palmkit.paths import is_remote, join

logger = logging.getLogger(__name__)

RESUME_DIR = ".resume"
#: Bumped when the meaning of a cached entry changes (reader behaviour, record layout).
CACHE_VERSION = 1
_FRAME = struct.Struct("<I")


def fingerprint(value: Any) -> str:
    """SHA-256 (hex, 32 chars) of ``value`` as canonical JSON: the same for every process."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def path_state(path: str) -> Any:
    """What an input is now, cheaply: size and mtime of a local file; of every entry under a
    local directory (``lstat``, links not followed); size and update time of a remote one."""
    if not path:
        return None
    if is_remote(path):
        meta = FileSystems.match([path])[0].metadata_list
        return [(m.size_in_bytes, getattr(m, "last_updated_in_seconds", None)) for m in meta]
    try:
        st = os.lstat(path)
    except OSError as e:
        return f"missing: {type(e).__name__}"
    if not os.path.isdir(path) or os.path.islink(path):
        return (st.st_size, st.st_mtime_ns)
    entries = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            full = os.path.join(root, name)
            try:
                s = os.lstat(full)
            except OSError:
                continue
            entries.append((os.path.relpath(full, path), s.st_size, s.st_mtime_ns))
    return fingerprint(entries)


class WorkCache:
    """Complete entries under ``root`` (``RUN/.resume``), by kind and key."""

    def __init__(self, root: str):
        self.root = root

    def _path(self, kind: str, key: str, suffix: str) -> str:
        return join(self.root, kind, key + suffix)

    def meta(self, kind: str, key: str) -> dict | None:
        """The entry's marker (what was written with it), or None when it is not complete."""
        path = self._path(kind, key, ".json")
        try:
            with FileSystems.open(path) as f:
                return json.loads(f.read().decode("utf-8"))
        except Exception:  # missing (the usual case), or a marker cut short: not complete
            return None

    def complete(self, kind: str, key: str, suffix: str = ".bin") -> dict | None:
        """The marker of an entry whose data file is there at the size the marker records;
        None otherwise (missing, or cut short or replaced since: it is redone)."""
        meta = self.meta(kind, key)
        if meta is None or "bytes" not in meta:
            return None
        found = FileSystems.match([self._path(kind, key, suffix)])[0].metadata_list
        return meta if found and found[0].size_in_bytes == meta["bytes"] else None

    def verified(self, kind: str, key: str, suffix: str = ".bin") -> dict | None:
        """``complete`` and the data file's bytes hash to the marker's ``blake2b``: checked
        before an entry is replayed, because a replay that fails halfway has already handed
        records on. An entry damaged in place (same size, other bytes) is redone, not raised."""
        meta = self.complete(kind, key, suffix)
        if meta is None or "blake2b" not in meta:
            return None
        try:
            with FileSystems.open(self._path(kind, key, suffix)) as f:
                digest = _file_digest(f)
        except Exception:  # vanished or unreadable since the match: redone
            return None
        return meta if digest == meta["blake2b"] else None

    def mark(self, kind: str, key: str, meta: dict) -> None:
        """An entry that is only its marker (e.g. a pack shard written in the output)."""
        write_atomic(self._path(kind, key, ".json"),
                      json.dumps(meta, sort_keys=True).encode("utf-8"))

    def keys(self, kind: str) -> list[str]:
        """Keys of the complete entries of ``kind``."""
        pattern = join(self.root, kind, "*.json")
        try:
            found = FileSystems.match([pattern])[0].metadata_list
        except Exception:
            return []
        return sorted(os.path.basename(m.path)[: -len(".json")] for m in found)


def write_atomic(path: str, data: bytes) -> None:
    if is_remote(path):  # object stores: a single object write is already all-or-nothing
        with FileSystems.create(path) as f:
            f.write(data)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class FrameWriter:
    """Streams blobs into one cache entry (a local temporary file, zstd), so an entry never
    sits whole in memory; ``commit(meta)`` moves it into place and writes its marker."""

    def __init__(self, cache: "WorkCache", kind: str, key: str, suffix: str = ".bin"):
        import tempfile

        self.cache, self.kind, self.key, self.suffix = cache, kind, key, suffix
        fd, self.tmp = tempfile.mkstemp(suffix=".palmkit-resume")
        self._file = os.fdopen(fd, "wb")
        self._zstd = zstandard.ZstdCompressor(level=3).stream_writer(self._file, closefd=False)
        self.count = 0

    def add(self, blob: bytes) -> None:
        self._zstd.write(_FRAME.pack(len(blob)))
        self._zstd.write(blob)
        self.count += 1

    def commit(self, meta: dict) -> None:
        self._zstd.close()
        self._file.close()
        size = os.path.getsize(self.tmp)
        with open(self.tmp, "rb") as f:
            digest = _file_digest(f)
        final = self.cache._path(self.kind, self.key, self.suffix)
        try:
            if is_remote(final):
                with open(self.tmp, "rb") as f, FileSystems.create(final) as out:
                    while chunk := f.read(8 << 20):
                        out.write(chunk)
            else:
                os.makedirs(os.path.dirname(final), exist_ok=True)
                try:
                    os.replace(self.tmp, final)
                except OSError:  # another file system than the temporary folder's
                    import shutil

                    shutil.move(self.tmp, final)
        finally:
            if os.path.exists(self.tmp):
                os.unlink(self.tmp)
        write_atomic(self.cache._path(self.kind, self.key, ".json"),
                      json.dumps({**meta, "frames": self.count, "bytes": size, "blake2b": digest}, sort_keys=True).encode("utf-8"))

    def abandon(self) -> None:
        self._zstd.close()
        self._file.close()
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


def iter_frames(cache: "WorkCache", kind: str, key: str, suffix: str = ".bin") -> Iterator[bytes]:
    """The blobs of a complete entry, streamed (a bounded buffer, not the whole entry)."""
    with FileSystems.open(cache._path(kind, key, suffix)) as f:
        reader = zstandard.ZstdDecompressor().stream_reader(f)
        while header := _read_exact(reader, _FRAME.size):
            (n,) = _FRAME.unpack(header)
            yield _read_exact(reader, n)


def _file_digest(f) -> str:
    h = hashlib.blake2b(digest_size=16)
    while chunk := f.read(8 << 20):
        h.update(chunk)
    return h.hexdigest()


def _read_exact(reader, n: int) -> bytes:
    parts, left = [], n
    while left:
        chunk = reader.read(left)
        if not chunk:
            if left == n:
                return b""
            raise ValueError("resume cache entry cut short")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def cache_root(run_dir: str) -> str:
    return join(run_dir, RESUME_DIR)


def finish(run_dir: str) -> None:
    """Delete ``RUN/.resume`` after a successful run."""
    root = cache_root(run_dir)
    if FileSystems.exists(root):
        FileSystems.delete([root])


# -- the corpus job's read step -----------------------------------------------------------------


def read_key(item, *, max_doc_bytes: int) -> str:
    """Cache key of one work item's read: the item, what its input is now, the options."""
    import palmkit

    return fingerprint({"v": CACHE_VERSION, "palmkit": palmkit.__version__,
                        "spec": repr(item.spec), "path": item.path, "start": item.start,
                        "stop": item.stop, "state": path_state(item.path),
                        "max_doc_bytes": max_doc_bytes})


def resume_read(item, *, max_doc_bytes: int, root: str | None) -> Iterator[tuple[Any, bool]]:
    """``(record, from_cache)`` for every record ``readers.read(item)`` yields, in its order:
    from ``root``'s cache when a complete entry exists, else read and cached on the way."""
    from palmkit.records import from_wire, stored_wire
    from pipelines import readers

    if root is None:
        for out in readers.read(item, max_doc_bytes=max_doc_bytes):
            yield out, False
        return
    cache = WorkCache(root)
    key = read_key(item, max_doc_bytes=max_doc_bytes)
    if cache.verified("read", key) is not None:
        for blob in iter_frames(cache, "read", key):
            yield from_wire(blob), True
        return
    writer = FrameWriter(cache, "read", key)
    try:
        for out in readers.read(item, max_doc_bytes=max_doc_bytes):
            writer.add(stored_wire(out))
            yield out, False
    except BaseException:  # GeneratorExit included: a partial entry is never committed
        writer.abandon()
        raise
    writer.commit({"item": readers.describe(item)})


# -- per-document decisions of filtering stages ---------------------------------------------------


class DecisionMemo:
    """What a ``FilterStage`` decided for each document, kept in ``RUN/.resume/decisions.sqlite``
    so that a rerun does not decide again (language ID is ~55% of the corpus job's CPU).

    Keyed by the stage's fingerprint (its options, model files, mixture rules, palmkit's
    version: ``stage_fingerprint``) and the document (source, record and a hash of its text), so
    a changed document or option is decided again. The value is the decision itself: the
    fields the stage changed and its reason, if it rejected. SQLite because workers of
    ``--direct_running_mode=multi_processing`` write concurrently (WAL, one transaction per
    ``FLUSH_EVERY`` decisions or bundle: a killed worker loses at most its open transaction,
    which SQLite rolls back). Local outputs only: on object stores the memo is off (remote
    runners have their own retry and checkpointing of work)."""

    FLUSH_EVERY = 2_000

    def __init__(self, path: str, stage_key: str):
        self.path, self.stage_key = path, stage_key
        self._db = None
        self._pending: list[tuple] = []

    def _conn(self):
        if self._db is None:
            import sqlite3

            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS decision (stage TEXT, doc BLOB, "
                             "value BLOB, PRIMARY KEY (stage, doc)) WITHOUT ROWID")
            # A first run (nothing of this stage kept) looks nothing up: no query per document.
            self._any = self._db.execute("SELECT 1 FROM decision WHERE stage = ? LIMIT 1",
                                         (self.stage_key,)).fetchone() is not None
        return self._db

    @staticmethod
    def doc_key(doc) -> bytes:
        text = doc.text.encode("utf-8", "surrogatepass") if isinstance(doc.text, str) else b""
        h = hashlib.blake2b(digest_size=16)
        for part in (doc.source.encode("utf-8", "surrogatepass"), str(doc.record).encode(),
                     doc.id.encode("utf-8", "surrogatepass"), text):
            h.update(len(part).to_bytes(8, "little"))
            h.update(part)
        return h.digest()

    def get(self, doc):
        """``(decided document, why)`` as the stage decided it before, or None."""
        import pickle

        db = self._conn()
        if not self._any:
            return None
        row = db.execute("SELECT value FROM decision WHERE stage = ? AND doc = ?",
                         (self.stage_key, self.doc_key(doc))).fetchone()
        if row is None:
            return None
        delta, why = pickle.loads(row[0])
        return (dataclasses_replace(doc, delta), why)

    def put(self, doc, decided, why) -> None:
        import pickle

        delta = {f: getattr(decided, f) for f in decided.__dataclass_fields__
                 if getattr(decided, f) != getattr(doc, f)}
        from palmkit import spill

        with spill.inline():  # kept across runs: never a reference into this run's spill
            value = pickle.dumps((delta, why), protocol=5)
        self._pending.append((self.stage_key, self.doc_key(doc), value))
        if len(self._pending) >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        db = self._conn()
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO decision VALUES (?, ?, ?)", self._pending)
        db.execute("COMMIT")
        self._pending = []


def dataclasses_replace(doc, delta: dict):
    import dataclasses

    return dataclasses.replace(doc, **delta) if delta else doc


def stage_fingerprint(stage) -> str:
    """A ``FilterStage``'s options, the files its options name (size and mtime: a replaced
    model is decided again), the mixture rules and palmkit's version."""
    import dataclasses

    import palmkit

    state = {k: v for k, v in vars(stage).items()
             if k not in ("pipeline", "memo") and not k.startswith("_")}
    files = []
    for value in state.values():
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field_value in vars(value).values() if hasattr(value, "__dict__") else (
                    getattr(value, f.name) for f in dataclasses.fields(value)):
                if isinstance(field_value, str) and os.path.isfile(field_value):
                    files.append((field_value, path_state(field_value)))
    return fingerprint({"v": CACHE_VERSION, "palmkit": palmkit.__version__,
                        "class": f"{type(stage).__module__}:{type(stage).__qualname__}",
                        "state": repr(sorted(state.items(), key=lambda kv: kv[0])),
                        "files": files})

