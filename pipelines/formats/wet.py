"""``wet``: Common Crawl WET files, the text CC extracted from each page (``.warc.wet.gz``).

Sources entry: ``{format: wet, path: GLOB}``. One work item per file. A WET file is WARC: a
``warcinfo`` record, then one ``conversion`` record per page, each in its own gzip member
(plain, uncompressed WET is read too). Each ``conversion`` record is one Document: ``text`` =
its body decoded as UTF-8 (CC writes UTF-8), ``id`` = its ``WARC-Record-ID`` (``urn:uuid:...``),
``metadata`` = ``url`` (WARC-Target-URI) and ``date`` (WARC-Date); ``record`` = the record's
1-based position in the file. ``warcinfo`` (and any other type) records describe the crawl, not
a page: they are skipped and not counted as read.

Failure policy (``pipelines.formats.warc_io``): body not UTF-8 -> ``invalid_utf8``; body over
``max_doc_bytes`` -> ``too_large``, skipped unread; a bad gzip member -> one ``unreadable``
reject for its record(s), reading resumes at the next member; the file ends inside a record ->
``truncated`` (everything before is kept); a header block that is not WARC ->
``malformed_record``. An empty body becomes validation's ``empty``.
"""

from __future__ import annotations

from typing import Iterator

from palmkit.records import Document, Reason
from pipelines.formats import warc_io
from pipelines.formats.base import PathFormat, SourceSpec, WorkItem
from pipelines.formats.records import Output, reject


class Wet(PathFormat):
    """Common Crawl WET files; one work item per file."""

    keys = frozenset({"path"})

    def read(self, item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
        return warc_io.read_archive(item, max_doc_bytes=max_doc_bytes, record_type="conversion",
                                    convert=conversion_to_document)


def conversion_to_document(rec: warc_io.Record, spec: SourceSpec, source: str) -> Output:
    doc_id = warc_io.record_id(rec, source)
    try:
        text = rec.body.decode("utf-8")
    except UnicodeDecodeError as e:
        return reject(spec, source, rec.number, reason=Reason.INVALID_UTF8, doc_id=doc_id,
                      detail=f"record {rec.number}: body is not valid UTF-8 at byte {e.start}",
                      text=rec.body.decode("utf-8", errors="replace"))
    return Document(id=doc_id, text=text, component=spec.component, source=source,
                    record=rec.number, metadata=warc_io.record_metadata(rec.headers))
