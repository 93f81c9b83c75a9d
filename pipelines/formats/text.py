"""``text``: plain text files, one document per file (books, dumps), plain or ``.gz``/``.zst``.

Sources entry: ``{format: text, path: GLOB}``. One work item per file; the whole (decompressed)
file is one Document: ``id`` = the file's source name (its path relative to the sources file,
stable when the corpus moves), ``record`` = 0. A UTF-8 byte-order mark is dropped.

Failure policy: not valid UTF-8 -> ``invalid_utf8``; more than ``max_doc_bytes`` decoded bytes
-> ``too_large`` (read in chunks, only the first ``max_doc_bytes + 1`` kept, the rest counted);
a file that cannot be opened or decompressed (corrupt or truncated gzip/zstd) ->
``unreadable``; an empty file becomes validation's ``empty``.
"""

from __future__ import annotations

from typing import Iterator

from palmkit.records import Document, Reason
from pipelines import fs, lines
from pipelines.formats.base import PathFormat, WorkItem
from pipelines.formats.records import Output, display_path, reject


class Text(PathFormat):
    """Plain text files, one document each."""

    keys = frozenset({"path"})

    def read(self, item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
        yield read_text_file(item, max_doc_bytes=max_doc_bytes)


def read_text_file(item: WorkItem, *, max_doc_bytes: int) -> Output:
    spec, source = item.spec, display_path(item.spec.source_name(item.path))
    kept, total = [], 0
    try:
        with fs.open_file(item.path) as f:
            for chunk in lines.decoded_chunks(f, item.path):
                if total <= max_doc_bytes:
                    kept.append(chunk[:max_doc_bytes + 1 - total])
                total += len(chunk)
    except Exception as e:  # OSError, EOFError (truncated gzip/zstd), ZstdError, ...
        return reject(spec, source, 0, reason=Reason.UNREADABLE, doc_id=source,
                      detail=f"cannot read {item.path}: {type(e).__name__}: {e}")
    data = b"".join(kept)
    if data.startswith(lines.BOM):
        data, total = data[len(lines.BOM):], total - len(lines.BOM)
    if total > max_doc_bytes:
        return reject(spec, source, 0, reason=Reason.TOO_LARGE, doc_id=source,
                      detail=f"{total} bytes > cap {max_doc_bytes}",
                      text=data.decode("utf-8", errors="replace"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return reject(spec, source, 0, reason=Reason.INVALID_UTF8, doc_id=source,
                      detail=f"not valid UTF-8 at byte {e.start}",
                      text=data.decode("utf-8", errors="replace"))
    return Document(id=source, text=text, component=spec.component, source=source, record=0)
