"""``parquet``: Parquet files (The Stack, exports of other corpora), one work item per row group.

Sources entry: ``{format: parquet, path: GLOB, text_field: content, fields: {...}}`` (and the
common ``id_field``). ``record`` is the 0-based row index in the file; only the columns the
entry uses are decoded, ``PARQUET_BATCH_ROWS`` rows at a time.

Failure policy: a row group that cannot be decoded (corrupt page, bad checksum) -> rows before
the damage kept, one ``unreadable`` reject per row after it (the footer gives their number), so
``read`` = the footer's rows; an unreadable footer -> one ``unreadable`` reject for the file; a
row that pyarrow cannot convert (a string column holding invalid UTF-8) -> ``invalid_utf8``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Iterator

from palmkit.records import Reason
from pipelines import fs
from pipelines.formats.base import PathFormat, WorkItem
from pipelines.formats.records import Output, display_path, record_to_document, reject

PARQUET_BATCH_ROWS = 1024  # rows decoded at a time: ~1-10 MB of text, not a whole row group


class Parquet(PathFormat):
    """Parquet files; one work item per row group (``WorkItem.start``)."""

    def plan(self, item: WorkItem) -> Iterator[WorkItem]:
        try:
            with fs.open_file(item.path) as f:
                n = _parquet_file(f).metadata.num_row_groups
        except Exception:  # unreadable footer: one item, whose read reports it
            n = 1
        yield from (dataclasses.replace(item, start=i) for i in range(n))

    def read(self, item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
        return read_parquet_row_group(item)

    def describe_item(self, item: WorkItem) -> str:
        return f"{display_path(item.path)} row group {item.start}"


def _parquet_file(f):
    import pyarrow.parquet as pq

    # Page checksums, where the writer stored them, turn silent corruption into a read error.
    return pq.ParquetFile(f, page_checksum_verification=True)


def _batch_rows(batch) -> list:
    """Rows of a record batch as dicts; when the batch cannot be converted (a string column
    with invalid UTF-8), row by row, with the exception in place of each row that fails."""
    if not batch.num_columns:
        return [{}] * batch.num_rows
    try:
        return batch.to_pylist()
    except Exception:
        rows = []
        for i in range(batch.num_rows):
            try:
                rows.append(batch.slice(i, 1).to_pylist()[0])
            except Exception as e:
                rows.append(e)
        return rows


def read_parquet_row_group(item: WorkItem) -> Iterator[Output]:
    """Rows of one row group, decoded ``PARQUET_BATCH_ROWS`` at a time; ``record`` is the
    0-based row index in the file. Rows that cannot be decoded are one ``unreadable`` reject
    each (their number is in the footer); an unreadable footer is one reject for the file."""
    spec, source = item.spec, display_path(item.spec.source_name(item.path))
    with contextlib.ExitStack() as stack:
        try:
            pf = _parquet_file(stack.enter_context(fs.open_file(item.path)))
            meta = pf.metadata
            first = sum(meta.row_group(i).num_rows for i in range(item.start))
            total = meta.row_group(item.start).num_rows
        except Exception as e:
            yield reject(spec, source, 0, reason=Reason.UNREADABLE,
                         detail=f"cannot read the footer of {item.path}: "
                                f"{type(e).__name__}: {e}")
            return
        done, error = 0, None
        try:
            wanted = {spec.text_field, spec.id_field, *spec.field_map().values(), *spec.keep}
            columns = [c for c in pf.schema_arrow.names if c in wanted]
            batches = pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=[item.start],
                                      columns=columns)
        except Exception as e:
            batches, error = iter(()), e
        while done < total and error is None:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except Exception as e:  # corrupt page, bad checksum, unreadable bytes
                error = e
                break
            for row in _batch_rows(batch):
                record = first + done
                if isinstance(row, Exception):  # a value pyarrow cannot convert (bad UTF-8)
                    bad_utf8 = isinstance(row, UnicodeDecodeError)
                    yield reject(spec, source, record, detail=f"{type(row).__name__}: {row}",
                                 reason=Reason.INVALID_UTF8 if bad_utf8 else Reason.UNREADABLE)
                else:
                    yield record_to_document(row, spec=spec, source=source, record=record)
                done += 1
    if done < total:
        why = (f"{type(error).__name__}: {str(error)[:500]}" if error else
               "fewer rows than its footer says")
        detail = (f"row group {item.start} of {item.path} unreadable from row {first + done} on "
                  f"({total - done} of its {total} rows): {why}")
        for record in range(first + done, first + total):
            yield reject(spec, source, record, reason=Reason.UNREADABLE, detail=detail)
