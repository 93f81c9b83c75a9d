"""Texts of in-flight records kept on the local disk while a single-machine job runs.

Why: the DirectRunner keeps every PCollection that crosses a fusion break (a GroupByKey, a
side input's wait, a Flatten of branches) in memory, as encoded elements, until the stage
that reads it has run; and glibc returns little of it to the system afterwards. A corpus job
crosses a dozen such breaks with its documents (the id check's side input, the exact-dedup
join, the three near-dedup joins, quality scoring's wait for its classifier, the flattens of
kept and rejected branches, the shard GroupByKey), so its peak was 5-8 bytes of RSS per byte
of input. With spilling on, a ``Document`` or ``Reject`` that Beam encodes (``__reduce__``
in ``palmkit.records``) appends its zlib-compressed text to this process's spill file and
carries only ``(file, offset, length)``; decoding reads it back (``os.pread``). What waits in
memory at every break is then ~60 bytes per document, whatever its length, and the texts
are in memory only while a fused stage works on them.

Scope: on while the corpus job runs with a local output (``enabled``, environment variable
``PALMKIT_SPILL_DIR``, inherited by ``direct_num_workers`` subprocesses); never for remote
outputs, whose runners (Dataflow, Flink, Spark) shuffle through their own disk-backed
services and whose workers share no disk. Files are append-only while the job runs (a buffer
may still refer to any offset) and are deleted with the folder when it ends; a killed run's
folder is deleted by the next launch. Disk: each break writes the compressed texts again,
~0.3-0.4 bytes per input byte per break (measured in docs/scale.md). Persistent stores (the
resume cache) pickle inline (``inline``), since their entries outlive the folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
from typing import Iterator

ENV = "PALMKIT_SPILL_DIR"

#: Compressed texts shorter than this stay inline: a reference costs ~40 bytes pickled.
MIN_BYTES = 256

Ref = tuple[str, int, int]  # (file name in the spill folder, offset, length)

_lock = threading.Lock()
_local = threading.local()
_writer: dict = {}  # {"dir", "pid", "name", "fd", "offset"} of this process's open file
_readers: dict[str, int] = {}  # path -> fd


def _inline_now() -> bool:
    return getattr(_local, "inline", 0) > 0


@contextlib.contextmanager
def inline() -> Iterator[None]:
    """Pickle records with their texts in this thread (for bytes that outlive the job)."""
    _local.inline = getattr(_local, "inline", 0) + 1
    try:
        yield
    finally:
        _local.inline -= 1


def put(data: bytes) -> Ref | None:
    """Append ``data`` to this process's spill file; None when spilling is off or it is small."""
    folder = os.environ.get(ENV)
    if not folder or len(data) < MIN_BYTES or _inline_now():
        return None
    with _lock:
        if _writer.get("dir") != folder or _writer.get("pid") != os.getpid():
            _open_writer(folder)
        offset = _writer["offset"]
        os.write(_writer["fd"], data)  # O_APPEND, unbuffered: other processes see it at once
        _writer["offset"] = offset + len(data)
        return _writer["name"], offset, len(data)


def _open_writer(folder: str) -> None:
    if _writer.get("pid") == os.getpid() and "fd" in _writer:
        os.close(_writer["fd"])
    os.makedirs(folder, exist_ok=True)
    name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}.spill"
    fd = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    _writer.clear()
    _writer.update(dir=folder, pid=os.getpid(), name=name, fd=fd, offset=0)


def get(ref: Ref) -> bytes:
    """The bytes ``put`` stored under ``ref`` (any process of the same job)."""
    folder = os.environ.get(ENV)
    if not folder:
        raise RuntimeError(f"a spilled record was decoded with {ENV} unset (outside its job)")
    name, offset, length = ref
    path = os.path.join(folder, name)
    with _lock:
        fd = _readers.get(path)
        if fd is None:
            fd = _readers[path] = os.open(path, os.O_RDONLY)
    data = os.pread(fd, length, offset)
    if len(data) != length:
        raise RuntimeError(f"spill file {path} is shorter than offset {offset} + {length}")
    return data


def _close_all() -> None:
    with _lock:
        if _writer.get("pid") == os.getpid() and "fd" in _writer:
            os.close(_writer["fd"])
        _writer.clear()
        for fd in _readers.values():
            os.close(fd)
        _readers.clear()


def active() -> bool:
    """True while a local job spills (this process runs one machine's job: its bundles are
    few and large, so per-worker caches can be dropped at a bundle's end)."""
    return bool(os.environ.get(ENV))


def release_free_memory() -> None:
    """Hand the memory the process has freed back to the system (glibc ``malloc_trim``; a
    no-op elsewhere). glibc keeps freed blocks for reuse, so RSS after a big step (training
    the quality classifier, writing a shard) stays at that step's peak; trimming before the
    next big step keeps the peaks from stacking (278 MB corpus: 861 -> 812 MB before the
    shard writes)."""
    global _trim
    if _trim is None:
        try:
            import ctypes

            _trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)


_trim = None


def folder_bytes(folder: str) -> int:
    """Bytes in the spill folder (for the log and the benchmarks)."""
    if not os.path.isdir(folder):
        return 0
    return sum(e.stat().st_size for e in os.scandir(folder) if e.is_file())


@contextlib.contextmanager
def enabled(folder: str) -> Iterator[None]:
    """Spill texts into ``folder`` (created empty: a killed run's leftovers are deleted) for
    the duration; the folder is deleted afterwards, whatever happened."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    previous = os.environ.get(ENV)
    os.environ[ENV] = folder
    try:
        yield
    finally:
        _close_all()
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        shutil.rmtree(folder, ignore_errors=True)
