"""Files on any filesystem Beam supports (local, ``gs://``, ...): the Beam side's one home for
opening, listing, reading and writing them.

Every helper goes through ``apache_beam.io.filesystems.FileSystems``, so a path that works
locally works on Dataflow with ``gs://`` too. Files are opened *uncompressed*: the callers
decompress themselves where they want to (``pipelines.lines`` streams ``.gz``/``.zst`` and
keeps what was decoded before any damage; Beam's own decompression would hide where it broke).

The pure path helpers (``is_remote``, ``join``) are ``palmkit.paths``, shared with the trainer
(which must not import Beam); they are re-exported here for the Beam side.

Schemes: local paths, ``gs://`` (Beam's GCS filesystem, extra ``gcp``), ``s3://`` (Beam's S3
filesystem, extra ``s3``), and through ``pipelines.fsspec_fs`` the fsspec ones Beam lacks
(``memory://``, ``file://``, ``hf://`` with extra ``hf``, ``https://`` with extra ``http``...).
A scheme whose extra is not installed, or that no filesystem serves, is a one-line
``RemotePathError`` before anything is read (``check_usable``).
"""

from __future__ import annotations

import glob
import os
import posixpath
import tempfile
from typing import BinaryIO

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from palmkit.errors import UserError
from palmkit.paths import is_remote, join, missing_extra, scheme
from pipelines import fsspec_fs  # noqa: F401 - registers the fsspec schemes with Beam

__all__ = ["RemotePathError", "is_remote", "join", "resolve", "check_usable", "dirname",
           "open_file", "list_files", "match_files", "match_dirs", "read_text", "write_bytes",
           "write_text_atomic", "local_copy"]


class RemotePathError(UserError):
    """A URL this install cannot read or write: its extra is missing, or no filesystem serves
    its scheme."""


def check_usable(path: str, *, reach: bool = False) -> None:
    """Raise ``RemotePathError`` (one line naming the extra) unless ``path``'s filesystem is
    available here; with ``reach``, also unless it answers (one ``exists`` call: no network,
    no access, no such bucket)."""
    if not is_remote(path):
        return
    problem = missing_extra(path)
    if problem:
        raise RemotePathError(problem)
    try:
        FileSystems.get_filesystem(path)
    except Exception:  # Beam: ValueError "Unable to get filesystem" (and it suggests [gcp])
        raise RemotePathError(f"{scheme(path)}:// is not a filesystem palmkit knows ({path}): "
                              "use a local path, gs://, s3://, or one of "
                              f"{', '.join(s + '://' for s in fsspec_fs.BRIDGED_SCHEMES)}"
                              ) from None
    if reach:
        try:
            FileSystems.exists(path)
        except Exception as e:  # OSError, BeamIOError, a client library's own error
            raise RemotePathError(f"cannot reach {path}: {_one_line(e)}") from None


def _one_line(e: BaseException) -> str:
    """The first line of ``e``, after the bridge's own "cannot reach PATH: " prefix."""
    text = (str(e).strip().splitlines() or [""])[0]
    if text.startswith("cannot reach ") and ": " in text:
        return text.split(": ", 1)[1][:300]
    return f"{type(e).__name__}: {text[:300]}"


def dirname(path: str) -> str:
    """The folder of ``path``: ``gs://b/x`` for ``gs://b/x/y.yaml``; absolute for local paths."""
    if is_remote(path):
        return path.rsplit("/", 1)[0]
    return os.path.dirname(os.path.abspath(path))


def resolve(path: str, base: str) -> str:
    """``path`` from a config file in folder ``base``: URLs and absolute paths as they are,
    relative paths relative to ``base``."""
    if is_remote(path) or os.path.isabs(path):
        return path
    if is_remote(base):  # normpath would fold "gs://" into "gs:/"
        head, rest = base.split("://", 1)
        return f"{head}://{posixpath.normpath(posixpath.join(rest, path))}"
    return os.path.normpath(os.path.join(base, path))


def open_file(path: str) -> BinaryIO:
    """``path`` opened for reading, its bytes as stored (no decompression by extension)."""
    check_usable(path)
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def list_files(pattern: str) -> list[tuple[str, int]]:
    """``(path, size in bytes)`` of the files matching the glob ``pattern``, sorted by path.
    Raises ``OSError`` naming the pattern when it cannot be listed (unknown filesystem, no
    access); ``RemotePathError`` when its scheme is not usable here."""
    check_usable(pattern)
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
    check_usable(path)
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        f.write(data)


def write_text_atomic(path: str, text: str) -> None:
    """Write via a temporary name and rename, so a reader never sees half a manifest."""
    tmp = path + ".tmp"
    write_bytes(tmp, text.encode("utf-8"))
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])


def local_copy(path: str, *, suffix: str = "") -> str:
    """``path`` itself when local; a remote file copied to a local temporary file (for loaders
    that take only a local path: SentencePiece, fastText). Copied once per process (models are
    loaded once per worker) and left there."""
    if not is_remote(path):
        return path
    if path not in _COPIES:
        fd, local = tempfile.mkstemp(suffix=suffix or os.path.splitext(path)[1])
        try:
            with os.fdopen(fd, "wb") as out, open_file(path) as src:
                while chunk := src.read(1 << 24):
                    out.write(chunk)
        except FileNotFoundError:
            raise FileNotFoundError(f"{path} not found") from None
        except OSError as e:
            raise RemotePathError(f"cannot read {path}: {_one_line(e)}") from None
        _COPIES[path] = local
    return _COPIES[path]


_COPIES: dict[str, str] = {}  # URL -> its local copy, one per process
