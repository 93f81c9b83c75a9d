"""Beam filesystems backed by fsspec: ``memory://``, ``file://``, ``hf://``, ``https://``, ...

Beam picks a filesystem by URL scheme from the subclasses of
``apache_beam.io.filesystem.FileSystem`` that are imported (``FileSystems.get_filesystem``);
it ships local, ``gs://`` (extra ``gcp``), ``s3://`` (boto3, extra ``s3``), ``hdfs://`` and
``azfs://``, and has no bridge to fsspec (checked 2026-12, Beam 2.77). This module adds one
subclass per scheme in ``BRIDGED_SCHEMES`` (schemes fsspec knows and Beam does not), each
delegating to ``fsspec.filesystem(scheme)``, so Beam's own reads and writes (``WriteToParquet``,
``FileSystems.match``) and ``pipelines.fs`` work on them unchanged. Importing this module
registers them; ``pipelines.fs`` imports it, so every pipeline module does.

Trade-offs: every call goes through fsspec's synchronous API (no parallel multi-part upload);
``memory://`` lives in one process, so a job on it needs the in-process DirectRunner
(``--direct_num_workers=1``). Paths are returned in the form the caller wrote them
(``memory://a/x``, not fsspec's ``memory:///a/x``), because Beam matches globs against them.
"""

from __future__ import annotations

import functools
import posixpath
from typing import Any, BinaryIO

from apache_beam.io.filesystem import (BeamIOError, CompressedFile, CompressionTypes, FileMetadata,
                                       FileSystem)

__all__ = ["BRIDGED_SCHEMES", "FsspecFileSystem"]

#: Schemes served through fsspec. Not ``gs``/``s3``/``hdfs``: Beam has its own for those (two
#: filesystems for one scheme is an error in Beam).
BRIDGED_SCHEMES = ("file", "memory", "hf", "http", "https", "abfs", "az", "ftp", "sftp", "webhdfs")


def _as_oserror(method):
    """An fsspec backend's own exceptions (``httpx.ConnectError``, auth errors) as ``OSError``,
    which is what Beam's filesystems raise and what ``pipelines.fs`` turns into one line."""

    @functools.wraps(method)
    def wrapper(self, path, *args, **kwargs):
        try:
            return method(self, path, *args, **kwargs)
        except OSError:
            raise
        except Exception as e:  # noqa: BLE001
            raise OSError(f"cannot reach {path}: {type(e).__name__}: {e}") from e

    return wrapper


class FsspecFileSystem(FileSystem):
    """A Beam ``FileSystem`` for the fsspec protocol ``protocol`` (one subclass per scheme)."""

    protocol: str = ""

    @classmethod
    def scheme(cls):
        # The base class claims "", which no URL has (None would be the local filesystem's).
        return cls.protocol

    # -- the fsspec side -------------------------------------------------------------------
    def _fs(self):
        import fsspec

        return fsspec.filesystem(self.protocol)

    def _strip(self, path: str) -> str:
        return self._fs()._strip_protocol(path)

    # -- paths -----------------------------------------------------------------------------
    def join(self, basepath, *paths):
        return posixpath.join(basepath, *paths)

    def split(self, path):
        scheme, rest = path.split("://", 1)
        head, tail = posixpath.split(rest)
        return f"{scheme}://{head}", tail

    def has_dirs(self):
        return False  # treated as an object store: a listing is by prefix

    @_as_oserror
    def mkdirs(self, path):
        self._fs().makedirs(self._strip(path), exist_ok=True)

    # -- listing ---------------------------------------------------------------------------
    def _list(self, dir_or_prefix):
        """Every file whose path starts with ``dir_or_prefix``, named as the caller wrote it."""
        fs, stripped = self._fs(), self._strip(dir_or_prefix)
        try:
            root = stripped if fs.isdir(stripped) else fs._parent(stripped)
            found = fs.find(root, detail=True) if fs.exists(root) else {}
        except Exception as e:  # noqa: BLE001 - Beam's contract: BeamIOError for a failed list
            raise BeamIOError("List operation failed", {dir_or_prefix: e}) from e
        for name, info in sorted(found.items()):
            if info.get("type") == "file" and name.startswith(stripped):
                yield FileMetadata(self._as_written(dir_or_prefix, stripped, name),
                                   int(info.get("size") or 0))

    @staticmethod
    def _as_written(prefix: str, stripped: str, name: str) -> str:
        rest = name[len(stripped):]
        if prefix.endswith("/") and rest.startswith("/"):
            rest = rest[1:]
        return prefix + rest

    # -- files -----------------------------------------------------------------------------
    @_as_oserror
    def _open(self, path: str, mode: str, compression_type) -> BinaryIO:
        raw = self._fs().open(self._strip(path), mode)
        if compression_type == CompressionTypes.AUTO:
            compression_type = CompressionTypes.detect_compression_type(path)
        if compression_type == CompressionTypes.UNCOMPRESSED:
            return raw
        return CompressedFile(_WithMode(raw, mode), compression_type=compression_type)

    @_as_oserror
    def create(self, path, mime_type="application/octet-stream",
               compression_type=CompressionTypes.AUTO):
        fs, stripped = self._fs(), self._strip(path)
        parent = fs._parent(stripped)
        if parent and self.protocol in ("file", "memory"):
            fs.makedirs(parent, exist_ok=True)
        return self._open(path, "wb", compression_type)

    def open(self, path, mime_type="application/octet-stream",
             compression_type=CompressionTypes.AUTO):
        return self._open(path, "rb", compression_type)

    def copy(self, source_file_names, destination_file_names):
        self._each("Copy", source_file_names, destination_file_names,
                   lambda fs, s, d: fs.copy(s, d, recursive=True))

    def rename(self, source_file_names, destination_file_names):
        self._each("Rename", source_file_names, destination_file_names,
                   lambda fs, s, d: fs.mv(s, d, recursive=True))

    def _each(self, what: str, sources, destinations, op) -> None:
        fs, errors = self._fs(), {}
        for src, dst in zip(sources, destinations, strict=True):
            try:
                op(fs, self._strip(src), self._strip(dst))
            except Exception as e:  # noqa: BLE001 - collected, as Beam's own filesystems do
                errors[(src, dst)] = e
        if errors:
            raise BeamIOError(f"{what} operation failed", errors)

    @_as_oserror
    def exists(self, path):
        return self._fs().exists(self._strip(path))

    def _info(self, path: str) -> dict[str, Any]:
        try:
            return self._fs().info(self._strip(path))
        except Exception as e:  # noqa: BLE001
            raise BeamIOError(f"Path does not exist: {path}", {path: e}) from e

    def size(self, path):
        return int(self._info(path).get("size") or 0)

    def last_updated(self, path):
        info = self._info(path)
        stamp = info.get("mtime") or info.get("created") or 0
        return stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp)

    def checksum(self, path):
        return str(self.size(path))

    def metadata(self, path):
        return FileMetadata(path, self.size(path), self.last_updated(path))

    def delete(self, paths):
        fs, errors = self._fs(), {}
        for path in paths:
            try:
                fs.rm(self._strip(path), recursive=True)
            except Exception as e:  # noqa: BLE001
                errors[path] = e
        if errors:
            raise BeamIOError("Delete operation failed", errors)

    def report_lineage(self, path, lineage):
        pass  # no lineage for these schemes


class _WithMode:
    """``raw`` with a ``mode``, which ``CompressedFile`` reads (fsspec's ``MemoryFile`` has
    none, and ``memory://`` hands out the same object for every open, so it is not set there)."""

    def __init__(self, raw: Any, mode: str):
        self._raw, self.mode = raw, mode

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def _register() -> None:
    """One subclass per bridged scheme: Beam asks each subclass for its one ``scheme()``."""
    for protocol in BRIDGED_SCHEMES:
        name = f"Fsspec{protocol.capitalize()}FileSystem"
        globals()[name] = type(name, (FsspecFileSystem,), {"protocol": protocol,
                                                           "__module__": __name__})


_register()
