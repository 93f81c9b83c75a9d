"""Paths that may be local or remote (``gs://bucket/corpus``): the one definition of each helper.

Pure string functions, no Beam, no JAX: the trainer and the Beam jobs both import them.
Reading and writing through Beam's ``FileSystems`` is ``pipelines.fs`` (which re-uses these);
local file helpers for manifests are in ``palmkit.manifest``.
"""

from __future__ import annotations

import os
import posixpath


def is_remote(path: str) -> bool:
    """A URL (``gs://``, ``s3://``, ``hdfs://``...) rather than a local path."""
    return "://" in path


def join(directory: str, *parts: str) -> str:
    """``parts`` (relative paths) inside ``directory``: ``posixpath`` for URLs, ``os.path``
    for local paths. Empty parts are skipped, so ``join(repo, "")`` is ``repo`` itself (a code
    tree's own entry), not ``repo/``."""
    parts = tuple(p for p in parts if p)
    if not parts:
        return directory
    return (posixpath if is_remote(directory) else os.path).join(directory, *parts)
