"""``warc``: WARC files of crawled pages (``.warc.gz``), HTML extracted to text with trafilatura.

Sources entry: ``{format: warc, path: GLOB}``. One work item per file. Each ``response`` record
is one page: its HTTP payload is HTML, extracted to the main text by ``trafilatura.extract``
(tables kept, comments dropped). ``id`` = ``WARC-Record-ID``, ``metadata`` = ``url``, ``date``;
``record`` = the record's 1-based position in the file. ``warcinfo``, ``request``, ``metadata``
and ``revisit`` records are not pages: skipped, not counted as read.

Why trafilatura (``benchmarks/bench_warc_extract.py``, ``docs/benchmarks.md``): on 60 real
mdBook pages, against the page's ``<main>`` text, 98.8% of the words it kept were main text
(resiliparse: 83.2%; it kept the sidebar/help boilerplate on 59/60 pages, trafilatura on 0/60)
at about the same recall (0.968 vs 0.979). The price is speed: 1.8-3.9 MB/s of HTML per core
against resiliparse's 33 MB/s, so a Common Crawl WARC (~1 GB compressed, ~4.5 GB of HTML) costs
~20-40 core-minutes instead of ~2. Boilerplate let in is what the quality filter and the dedup
stages then have to fight (repeated menus defeat near-dedup thresholds); FineWeb made the same
choice. A faster ``extractor`` option is future work.

Failure policy, besides that of ``warc_io`` (``unreadable``, ``truncated``,
``malformed_record``, ``too_large`` on the record body): a ``WARC-Truncated`` header or an
HTTP body shorter than its Content-Length -> ``truncated``; no HTTP header block ->
``malformed_record``; HTTP status not 200 -> ``http_status``; a Content-Type that is not HTML
or XHTML -> ``not_html``; extraction yielding no text (or failing) -> ``empty``.
"""

from __future__ import annotations

from typing import Iterator

from palmkit.errors import UserError
from palmkit.records import Document, Reason
from pipelines.formats import warc_io
from pipelines.formats.base import PathFormat, SourceSpec, WorkItem, input_text_bytes
from pipelines.formats.records import Output, reject

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_SHARE = 10  # HTML holds about this many times its extracted text (benchmarks: 7-9%)


class Warc(PathFormat):
    """WARC files of HTML responses; one work item per file."""

    keys = frozenset({"path"})

    def check(self, spec: SourceSpec) -> None:
        try:
            import trafilatura  # noqa: F401
        except ImportError as e:
            raise UserError(f"format warc needs trafilatura (pip install palmkit): {e}") from None

    def text_bytes(self, spec: SourceSpec) -> int:
        return input_text_bytes(spec.inputs) // TEXT_SHARE

    def read(self, item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
        return warc_io.read_archive(item, max_doc_bytes=max_doc_bytes, record_type="response",
                                    convert=response_to_document)


def extract_text(html: bytes, url: str | None = None) -> str:
    """The main text of an HTML page ("" when none); trafilatura detects the encoding."""
    import trafilatura
    return trafilatura.extract(html, url=url, include_comments=False, include_tables=True,
                               deduplicate=False) or ""


def response_problem(rec: warc_io.Record) -> tuple[str, str, bytes]:
    """(reason, detail, payload): reason "" when the response is an HTML page to extract."""
    if rec.header("WARC-Truncated"):
        return Reason.TRUNCATED, f"WARC-Truncated: {rec.header('WARC-Truncated')}", b""
    http, payload = warc_io.parse_http(rec.body)
    if http is None:
        return Reason.MALFORMED_RECORD, "no HTTP header block in the response", b""
    status = http.get_statuscode()
    if status != "200":
        return Reason.HTTP_STATUS, f"HTTP status {status}", b""
    mime = (http.get_header("Content-Type") or "").split(";")[0].strip().lower()
    if mime not in HTML_TYPES:
        return Reason.NOT_HTML, f"Content-Type {mime or '(none)'!r} is not HTML", b""
    declared = http.get_header("Content-Length")
    encoded = http.get_header("Content-Encoding") or http.get_header("Transfer-Encoding")
    if declared and declared.strip().isdigit() and not encoded and len(payload) < int(declared):
        return Reason.TRUNCATED, f"HTTP body of {len(payload)} bytes < Content-Length " \
                                 f"{declared}", b""
    return "", "", payload


def response_to_document(rec: warc_io.Record, spec: SourceSpec, source: str) -> Output:
    doc_id = warc_io.record_id(rec, source)
    reason, detail, payload = response_problem(rec)
    if not reason:
        url = rec.header("WARC-Target-URI")
        try:
            text = extract_text(payload, url)
        except Exception as e:  # a page that breaks the extractor is that page's reject
            text, detail = "", f"extraction failed: {type(e).__name__}: {e}"
        if text.strip():
            return Document(id=doc_id, text=text, component=spec.component, source=source,
                            record=rec.number, metadata=warc_io.record_metadata(rec.headers))
        reason, detail = Reason.EMPTY, detail or "extraction found no main text"
    return reject(spec, source, rec.number, reason=reason, doc_id=doc_id,
                  detail=f"record {rec.number}: {detail}")
