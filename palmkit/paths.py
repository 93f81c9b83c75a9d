"""Paths that may be local or remote (``gs://bucket/corpus``): the one definition of each helper.

Pure string functions, no Beam, no JAX: the trainer and the Beam jobs both import them.
Reading and writing through Beam's ``FileSystems`` is ``pipelines.fs`` (which re-uses these);
local file helpers for manifests are in ``palmkit.manifest``.
"""

from __future__ import annotations

import importlib.util
import os
import posixpath
import re

#: What reading or writing a URL scheme needs: (module that must be importable, palmkit extra).
#: ``memory://`` and ``file://`` need nothing beyond the base install (fsspec); Beam serves
#: gs:// and s3://, ``pipelines.fsspec_fs`` the others. The trainer (``trainer/data.py``) reads
#: local folders only: its manifest is read with ``open``.
SCHEME_EXTRAS = {
    "gs": ("google.cloud.storage", "gcp"),  # Beam's GCS filesystem: apache-beam[gcp]
    "s3": ("boto3", "s3"),  # Beam's S3 filesystem: apache-beam[aws]
    "hf": ("huggingface_hub", "hf"),  # fsspec's HfFileSystem
    "http": ("aiohttp", "http"),  # fsspec's HTTPFileSystem (reading only)
    "https": ("aiohttp", "http"),
}

_SCHEME = re.compile(r"([a-zA-Z][-a-zA-Z0-9+.]*)://")


def is_remote(path: str) -> bool:
    """A URL (``gs://``, ``s3://``, ``hdfs://``...) rather than a local path."""
    return "://" in path


def scheme(path: str) -> str | None:
    """``"gs"`` for ``gs://b/x``; None for a local path."""
    m = _SCHEME.match(path.strip())
    return m.group(1).lower() if m else None


def missing_extra(path: str) -> str | None:
    """The one-line reason ``path`` cannot be used in this install, naming the palmkit extra
    to install (``"s3:// needs the s3 extra: pip install 'palmkit[s3]'"``), or None."""
    name = scheme(path)
    if name not in SCHEME_EXTRAS:
        return None
    module, extra = SCHEME_EXTRAS[name]
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package (google.cloud) is missing
        found = False
    return None if found else f"{name}:// needs the {extra} extra: pip install 'palmkit[{extra}]'"


def join(directory: str, *parts: str) -> str:
    """``parts`` (relative paths) inside ``directory``: ``posixpath`` for URLs, ``os.path``
    for local paths. Empty parts are skipped, so ``join(repo, "")`` is ``repo`` itself (a code
    tree's own entry), not ``repo/``."""
    parts = tuple(p for p in parts if p)
    if not parts:
        return directory
    return (posixpath if is_remote(directory) else os.path).join(directory, *parts)
