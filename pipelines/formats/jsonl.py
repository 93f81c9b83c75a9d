"""``jsonl``: one JSON object per line, plain or ``.gz``/``.zst`` (decompressed by extension).

Sources entry: ``{format: jsonl, path: GLOB, text_field: text}`` (and the common ``id_field``,
``fields``). One work item per file; ``record`` is the 1-based line number.

Failure policy: a line that is not valid UTF-8 -> ``invalid_utf8``; not JSON or not an object
-> ``invalid_json``; blank lines are not records and are skipped; a UTF-8 byte-order mark at the
start of a file (also inside ``.gz``/``.zst``) is ignored; a line over ``line_cap`` (2 x
``max_doc_bytes`` + 1 MiB) -> ``too_large``, skipped in bounded memory (``pipelines.lines``);
a file that cannot be opened or decompressed (corrupt or truncated gzip/zstd) -> one
``unreadable`` reject for *the rest of that file*, naming the first line not read; every line
decoded before the damage is kept (intact zstd frames, gzip members), a partial line just
before it is part of the rest. Files are streamed in chunks: memory stays at one line, at most
the line cap, whatever the file.
"""

from __future__ import annotations

import contextlib
import json
from typing import Iterator

from palmkit.records import Reason
from pipelines import fs, lines
from pipelines.formats.base import PathFormat, SourceSpec, WorkItem
from pipelines.formats.records import Output, display_path, record_to_document, reject
from pipelines.validate import DEFAULT_MAX_DOC_BYTES

LINE_MARGIN = 1 << 20  # JSONL line cap = 2 x max_doc_bytes + this (id, metadata, JSON syntax)


class Jsonl(PathFormat):
    """JSON Lines files; one work item per file."""

    def read(self, item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
        return read_jsonl(item, max_doc_bytes=max_doc_bytes)


def line_cap(max_doc_bytes: int) -> int:
    """The longest JSONL line parsed: a document at the size cap written as JSON, whose
    ``\\uXXXX`` escapes double non-ASCII text (``ensure_ascii``), plus id, metadata and syntax.
    A longer line cannot hold a document within the cap (but in the rare case of text mostly of
    escaped control characters or astral characters): it is ``too_large`` unparsed."""
    return 2 * max_doc_bytes + LINE_MARGIN


def parse_json_line(raw: bytes, *, spec: SourceSpec, source: str, line: int) -> Output:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return reject(spec, source, line, reason=Reason.INVALID_UTF8,
                      detail=f"line is not valid UTF-8 at byte {e.start}",
                      text=raw.decode("utf-8", errors="replace"))
    try:
        obj = json.loads(decoded)
    except (ValueError, RecursionError) as e:
        return reject(spec, source, line, reason=Reason.INVALID_JSON,
                      detail=f"not valid JSON: {e}", text=decoded)
    if not isinstance(obj, dict):
        return reject(spec, source, line, reason=Reason.INVALID_JSON,
                      detail=f"a JSON {type(obj).__name__}, not an object", text=decoded)
    return record_to_document(obj, spec=spec, source=source, record=line)


def _file_lines(path: str, cap: int) -> Iterator[bytes | lines.LongLine]:
    with fs.open_file(path) as f:
        yield from lines.read_lines(f, path, max_line_bytes=cap)


def read_jsonl(item: WorkItem, *, max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES) -> Iterator[Output]:
    """Records of a JSONL file; ``record`` is the 1-based line number.

    Only a failure to read (open, decompress) ends the file, with one ``unreadable`` reject
    from the first line not read on; a line over ``line_cap(max_doc_bytes)`` is ``too_large``.
    """
    spec, source = item.spec, display_path(item.spec.source_name(item.path))
    cap = line_cap(max_doc_bytes)
    line = 0
    with contextlib.closing(_file_lines(item.path, cap)) as stream:
        while True:
            try:
                raw = next(stream)
            except StopIteration:
                return
            except Exception as e:  # OSError, EOFError (truncated gzip/zstd), ZstdError, ...
                yield reject(spec, source, line + 1, reason=Reason.UNREADABLE,
                             detail=f"cannot read {item.path} from line {line + 1} on: "
                                    f"{type(e).__name__}: {e}")
                return
            line += 1
            if isinstance(raw, lines.LongLine):
                yield reject(spec, source, line, reason=Reason.TOO_LARGE,
                             detail=f"line of {raw.nbytes} bytes > line cap {cap} (2 x cap "
                                    f"{max_doc_bytes} + {LINE_MARGIN}): not parsed")
            elif raw.strip():
                yield parse_json_line(raw.rstrip(b"\r\n"), spec=spec, source=source, line=line)
