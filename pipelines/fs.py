"""Files on any filesystem Beam supports (local, ``gs://``, ...): the Beam side's one home for
opening, listing, reading and writing them.

Every helper goes through ``apache_beam.io.filesystems.FileSystems``, so a path that works
locally works on Dataflow with ``gs://`` too. Files are opened *uncompressed*: the callers
decompress themselves where they want to (``pipelines.lines`` streams ``.gz``/``.zst`` and
keeps what was decoded before any damage; Beam's own decompression would hide where it broke).

The pure path helpers (``is_remote``, ``join``) are ``palmkit.paths``, shared with the trainer
(which must not import Beam); they are re-exported here for the Beam side.
"""

from __future__ import annotations

import glob
import os
from typing import BinaryIO

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from palmkit.paths import is_remote, join

__all__ = ["is_remote", "join", "resolve", "open_file", "list_files", "match_files",
           "match_dirs", "read_text", "write_bytes", "write_text_atomic"]


def resolve(path: str, base: str) -> str:
    """``path`` from a config file in folder ``base``: URLs and absolute paths as they are,
    relative paths relative to ``base``."""
    if is_remote(path) or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base, path))


def open_file(path: str) -> BinaryIO:
    """``path`` opened for reading, its bytes as stored (no decompression by extension)."""
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def list_files(pattern: str) -> list[tuple[str, int]]:
    """``(path, size in bytes)`` of the files matching the glob ``pattern``, sorted by path.
    Raises ``OSError`` naming the pattern when it cannot be listed (unknown filesystem, no
    access)."""
    try:
        result = FileSystems.match([pattern])[0]
    except Exception as e:  # Beam raises BeamIOError for unreachable/unknown filesystems
        raise OSError(f"cannot list {pattern}: {e}") from None
    return sorted((m.path, m.size_in_bytes) for m in result.metadata_list)


def match_files(pattern: str) -> tuple[str, ...]:
    """Files matching ``pattern``, sorted. Raises ``OSError`` (see ``list_files``)."""
    return tuple(path for path, _ in list_files(pattern))


def match_dirs(pattern: str) -> tuple[str, ...]:
    """Directories matching ``pattern``, sorted.

    Local: directories the glob matches, and symbolic links it matches (whatever they point
    to). A link is returned, not resolved, so that its reader can decide what to do with it (a
    code tree gives it one ``symlink`` reject rather than leaving the tree). Remote object
    stores have no directories: a directory there is every distinct prefix at the glob's depth
    that has files below it.
    """
    if not is_remote(pattern):
        return tuple(sorted(p for p in glob.glob(pattern) if os.path.islink(p) or os.path.isdir(p)))
    depth = pattern.rstrip("/").count("/") + 1
    files = match_files(pattern.rstrip("/") + "/**")
    return tuple(sorted({"/".join(f.split("/")[:depth]) for f in files}))


def read_text(path: str) -> str:
    with open_file(path) as f:
        return f.read().decode("utf-8")


def write_bytes(path: str, data: bytes) -> None:
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        f.write(data)


def write_text_atomic(path: str, text: str) -> None:
    """Write via a temporary name and rename, so a reader never sees half a manifest."""
    tmp = path + ".tmp"
    write_bytes(tmp, text.encode("utf-8"))
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])
