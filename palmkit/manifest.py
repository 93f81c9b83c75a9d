"""Stage manifests: how one stage hands its output to the next.

Every stage (``corpus``, ``vocab``, ``pack``) writes ``manifest.json`` *last*, after all of its
files, so a folder with a manifest is complete (seqio's ``COMPLETED`` marker, folded into the
manifest). The manifest records what the stage read and wrote (files with row counts and
SHA-256), counts per component and per reject reason, the configuration and library versions.
The next stage calls ``Manifest.read(path, stage=...)`` and ``verify_files`` and fails with a
``ManifestError`` that says what does not match.

No timestamps or host names are written: two runs on the same inputs give byte-identical
manifests, which is what the determinism tests compare, except ``extra.timings`` (per-stage CPU
and wall time, ``pipelines/timings.py``), which they strip with ``timings.strip_timings``.

Pure data and local file I/O only: no Beam, no JAX. Jobs whose outputs live on a remote
filesystem (gs://) serialise with ``to_json``/``from_json`` through their own filesystem layer
(``pipelines.fs`` uses Beam's ``FileSystems``). Path helpers (``join``, ``is_remote``) are
``palmkit.paths``.
"""

from __future__ import annotations

from palmkit.errors import UserError

import dataclasses
import hashlib
import importlib.metadata
import json
import os
from typing import Any, Iterable

from palmkit.paths import is_remote, join

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1


class ManifestError(UserError):
    """A manifest is missing, from the wrong stage, or does not match its files or consumer."""


@dataclasses.dataclass
class FileEntry:
    rows: int
    bytes: int
    sha256: str


@dataclasses.dataclass
class Manifest:
    stage: str
    config: dict[str, Any]
    outputs: dict[str, FileEntry]  # path relative to the manifest's folder -> entry
    counts: dict[str, Any]
    inputs: dict[str, Any] = dataclasses.field(default_factory=dict)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    versions: dict[str, str] = dataclasses.field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    # -- serialisation -------------------------------------------------------------------
    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, *, origin: str = "manifest") -> "Manifest":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ManifestError(f"{origin}: not valid JSON ({e})") from e
        missing = [k for k in ("stage", "config", "outputs", "counts") if k not in data]
        if missing:
            raise ManifestError(f"{origin}: missing keys {missing}; is this a palmkit manifest?")
        if data.get("format_version") != FORMAT_VERSION:
            raise ManifestError(
                f"{origin}: format_version {data.get('format_version')} but this palmkit "
                f"reads {FORMAT_VERSION}; re-run the stage that wrote it"
            )
        data["outputs"] = {k: FileEntry(**v) for k, v in data["outputs"].items()}
        return cls(**data)

    # -- files ---------------------------------------------------------------------------
    def write(self, directory: str) -> str:
        """Write ``directory/manifest.json`` atomically (temp file + rename where local)."""
        path = join(directory, MANIFEST_NAME)
        os.makedirs(directory, exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.to_json())
        os.replace(tmp, path)
        return path

    @classmethod
    def read(cls, directory: str, *, stage: str | None = None) -> "Manifest":
        """Read the manifest in ``directory`` and check it was written by ``stage``."""
        path = join(directory, MANIFEST_NAME)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            hint = f" (run `palmkit {stage}` first)" if stage else ""
            raise ManifestError(
                f"{path} not found: {directory} is not a finished palmkit stage output{hint}"
            ) from None
        manifest = cls.from_json(text, origin=path)
        if stage is not None and manifest.stage != stage:
            raise ManifestError(
                f"{path}: written by stage '{manifest.stage}', but a '{stage}' output is "
                f"needed here"
            )
        return manifest

    def verify_files(self, directory: str, *, checksums: bool = True) -> None:
        """Check every listed output exists with its size (and SHA-256 when ``checksums``)."""
        for rel, entry in sorted(self.outputs.items()):
            path = join(directory, rel)
            if is_remote(path):
                continue  # size/checksum of remote files is checked by the reader
            if not os.path.exists(path):
                raise ManifestError(f"{path}: listed in the manifest but missing")
            size = os.path.getsize(path)
            if size != entry.bytes:
                raise ManifestError(f"{path}: {size} bytes, manifest says {entry.bytes}")
            if checksums and sha256_file(path) != entry.sha256:
                raise ManifestError(f"{path}: SHA-256 does not match the manifest (corrupt?)")

    def require(self, key: str, expected: Any, *, origin: str) -> None:
        """Fail clearly when ``extra[key]`` is not what the consumer expects."""
        actual = self.extra.get(key)
        if actual != expected:
            raise ManifestError(
                f"{origin}: manifest {key}={actual!r} but {expected!r} is required here"
            )


# -- helpers ---------------------------------------------------------------------------------


def sha256_file(path: str, *, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def file_entry(path: str, rows: int) -> FileEntry:
    return FileEntry(rows=rows, bytes=os.path.getsize(path), sha256=sha256_file(path))


def library_versions(names: Iterable[str]) -> dict[str, str]:
    """Installed versions of ``names`` (``"absent"`` if not installed), for the manifest."""
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    from palmkit import __version__

    out["palmkit"] = __version__
    return dict(sorted(out.items()))
