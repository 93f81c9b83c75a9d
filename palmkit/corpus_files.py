"""Reading the output of `palmkit corpus` (``OUT/manifest.json`` + ``OUT/clean/<component>/*.parquet``).

Shared by every consumer of a corpus (the vocabulary trainer, the pack job, `palmkit stats`):
pyarrow only, so it is safe on both sides.
"""

from __future__ import annotations

from typing import Iterator

import pyarrow.parquet as pq

from palmkit.manifest import Manifest, join  # join: re-exported for corpus readers

CLEAN_DIR = "clean"
REJECTS_DIR = "rejects"


def read_corpus_manifest(corpus: str, *, checksums: bool = False) -> Manifest:
    """The corpus manifest, checked to be a finished `palmkit corpus` output with all its files.

    ``checksums=True`` also re-hashes every file (seconds per GB); sizes are always checked.
    """
    manifest = Manifest.read(corpus, stage="corpus")
    manifest.verify_files(corpus, checksums=checksums)
    return manifest


def clean_files(manifest: Manifest) -> dict[str, list[str]]:
    """Relative paths of the clean Parquet files per component, in a stable order."""
    out: dict[str, list[str]] = {}
    for rel in sorted(manifest.outputs):
        parts = rel.split("/")
        if len(parts) == 3 and parts[0] == CLEAN_DIR and rel.endswith(".parquet"):
            out.setdefault(parts[1], []).append(rel)
    return out


def iter_documents(
    source, *, columns: tuple[str, ...] = ("component", "id", "text"), batch_rows: int = 1024
) -> Iterator[tuple]:
    """Rows of one clean Parquet file as tuples of ``columns``, streamed by record batch.

    ``source`` is a local path or a seekable binary file object (the Beam side passes
    ``FileSystems.open(path)`` so that gs:// works without this module knowing about it).
    """
    reader = pq.ParquetFile(source)
    for batch in reader.iter_batches(batch_size=batch_rows, columns=list(columns)):
        cols = [batch.column(c).to_pylist() for c in columns]
        yield from zip(*cols)

