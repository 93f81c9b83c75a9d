"""WARC records of a (gzipped) file in bounded memory, surviving damage: shared by ``wet``/``warc``.

Header blocks are parsed with warcio's ``StatusAndHeadersParser`` (the WARC and HTTP header
grammar); the framing around them is ours, because warcio's and fastwarc's iterators stop at the
first bad gzip member (measured: a corrupt second member of three -> warcio ``ArchiveLoadFailed``,
fastwarc ``OSError``, the third record lost with them) and cannot resume. No Beam.

* ``.gz`` files are a series of gzip members (Common Crawl: one record per member). Members are
  decompressed one by one (``zlib``, at most ``CHUNK`` decoded bytes a step); a member that fails
  (bad deflate data, CRC) loses only its own records: the records it held are one ``Broken``
  item naming the first of them, and reading resumes at the next offset that starts a gzip member
  decoding to ``WARC/``. With no such member after it, that ``Broken`` item covers "the rest".
  Records of a member are handed out only when the member ends intact (its CRC checked), or
  once they hold over ``PENDING_BYTES`` (a file gzipped as one member streams).
* A file that ends inside a record (a cut download; also inside a gzip member) keeps every record
  before it; the cut record is ``Truncated``.
* A header block that is not WARC (no ``WARC/1.x`` line, no integer Content-Length, over
  ``MAX_HEADER_BYTES``) is ``Malformed``; reading resumes at the next member (``.gz``) or the next
  ``WARC/1.`` line (plain files).
* A body over ``max_body_bytes`` is skipped while counted (``Record.body is None``).

``number`` is the record's 1-based position among the file's WARC records (warcinfo included),
so a reject names where it is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import zlib
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator

from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser

from palmkit.records import Reason, make_id
from pipelines import fs
from pipelines.formats.records import Output, display_path, reject

if TYPE_CHECKING:  # annotations only
    from pipelines.formats.base import SourceSpec, WorkItem

CHUNK = 1 << 16  # decoded bytes per step
READ = 1 << 16  # compressed bytes per read
MAX_HEADER_BYTES = 1 << 16  # a WARC header block longer than this is malformed
#: Records of one gzip member are held until its CRC is checked, up to this many body bytes; a
#: file gzipped as one member (``gzip x.warc``) then streams, with CRC-unchecked records.
PENDING_BYTES = 64 << 20
GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_PARSER = StatusAndHeadersParser(["WARC/1.0", "WARC/1.1"])
_HTTP_PARSER = StatusAndHeadersParser([], verify=False)


@dataclasses.dataclass
class Record:
    number: int
    headers: StatusAndHeaders  # WARC headers: .get_header("WARC-Type")
    length: int  # Content-Length
    body: bytes | None  # None: over max_body_bytes, skipped

    def header(self, name: str) -> str | None:
        return self.headers.get_header(name)


@dataclasses.dataclass
class Truncated:
    """The file ends inside this record (or its gzip member)."""

    number: int
    headers: StatusAndHeaders | None
    got: int  # body bytes read
    length: int  # Content-Length


@dataclasses.dataclass
class Malformed:
    number: int
    problem: str


@dataclasses.dataclass
class Broken:
    """A gzip member that cannot be decompressed: its records from ``number`` on are lost
    (``rest``: to the end of the file, no later member was found)."""

    number: int
    problem: str
    rest: bool


Item = Record | Truncated | Malformed | Broken


def parse_http(body: bytes) -> tuple[StatusAndHeaders | None, bytes]:
    """An HTTP response (WARC ``response`` body) -> (status and headers, payload); None when
    it has no header block."""
    end = body.find(b"\r\n\r\n")
    if end < 0:
        return None, b""
    try:
        return _HTTP_PARSER.parse(io.BytesIO(body[:end + 4])), body[end + 4:]
    except Exception:
        return None, b""


class _Splitter:
    """WARC records out of a stream of decoded bytes (``feed``), one state machine."""

    def __init__(self, max_body_bytes: int, first: int = 1):
        self.max_body = max_body_bytes
        self.number = first - 1  # records started so far
        self.buf = bytearray()
        self.headers: StatusAndHeaders | None = None  # in a body when set
        self.length = self.got = 0
        self.body: list[bytes] | None = None
        self.skipping = False  # after a malformed header: until the next "WARC/1."

    def feed(self, data: bytes) -> Iterator[Item]:
        self.buf += data
        while True:
            if self.headers is not None:
                take = min(self.length - self.got, len(self.buf))
                if self.body is not None:
                    self.body.append(bytes(self.buf[:take]))
                del self.buf[:take]
                self.got += take
                if self.got < self.length:
                    return
                body = b"".join(self.body) if self.body is not None else None
                yield Record(self.number, self.headers, self.length, body)
                self.headers = None
                continue
            if self.skipping:
                at = self.buf.find(b"\nWARC/1.")
                if at < 0:
                    del self.buf[:max(0, len(self.buf) - 8)]
                    return
                del self.buf[:at + 1]
                self.skipping = False
            start = len(self.buf) - len(self.buf.lstrip(b"\r\n"))
            del self.buf[:start]
            if not self.buf:
                return
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEADER_BYTES:
                    self.number += 1
                    self.buf.clear()
                    self.skipping = True
                    yield Malformed(self.number, f"no end of the header block in "
                                                f"{MAX_HEADER_BYTES} bytes")
                return
            self.number += 1
            block = bytes(self.buf[:end + 4])
            del self.buf[:end + 4]
            try:
                headers = _WARC_PARSER.parse(io.BytesIO(block))
                length = int(headers.get_header("Content-Length") or "")
                if length < 0:
                    raise ValueError(f"negative Content-Length {length}")
            except Exception as e:  # StatusAndHeadersParserException, ValueError
                self.skipping = True
                yield Malformed(self.number, f"not a WARC header block: {e}")
                continue
            self.headers, self.length, self.got = headers, length, 0
            self.body = [] if length <= self.max_body else None

    def cut(self) -> Item | None:
        """The stream ended: the record it ends inside, if any."""
        if self.headers is not None:
            item = Truncated(self.number, self.headers, self.got, self.length)
            self.headers = None
            return item
        if self.buf.strip(b"\r\n") and not self.skipping:
            self.number += 1
            self.buf.clear()
            return Truncated(self.number, None, 0, 0)
        return None


def read_records(f: BinaryIO, path: str, *, max_body_bytes: int) -> Iterator[Item]:
    """Every WARC record of the open file ``f`` (gzip by the extension of ``path``)."""
    if not path.endswith(".gz"):
        s = _Splitter(max_body_bytes)
        while chunk := f.read(READ):
            yield from s.feed(chunk)
        if (item := s.cut()) is not None:
            yield item
        return
    yield from _gzip_records(f, max_body_bytes)


def _gzip_records(f: BinaryIO, max_body_bytes: int) -> Iterator[Item]:
    number = 0  # records of the file so far
    buf = b""
    while True:  # one gzip member per turn
        if not buf:
            buf = f.read(READ)
        if not buf:
            return
        s, d, pending = _Splitter(max_body_bytes, number + 1), zlib.decompressobj(31), []
        held = 0  # body bytes in pending
        first = number + 1  # the first record of this member not handed out yet
        try:
            while not d.eof:
                if not buf:
                    buf = f.read(READ)
                    if not buf:  # the file ends inside this member
                        yield from pending
                        item = s.cut()
                        if item is None and s.number == number:  # cut before its first record
                            item = Truncated(number + 1, None, 0, 0)
                        if item is not None:
                            yield item
                        return
                out = d.decompress(buf, CHUNK)
                buf = d.unconsumed_tail
                for item in s.feed(out):
                    pending.append(item)
                    held += len(getattr(item, "body", None) or b"")
                if held > PENDING_BYTES:  # a huge member: stream its records
                    yield from pending
                    first, pending, held = pending[-1].number + 1, [], 0
        except zlib.error as e:
            buf = _resync(f, buf)
            yield Broken(first, f"gzip member cannot be decompressed: {e}", rest=not buf)
            number = max(s.number, first)
            continue
        yield from pending
        if (item := s.cut()) is not None:  # the member ended inside a record
            yield item
        number = s.number
        buf = d.unused_data


def _resync(f: BinaryIO, buf: bytes) -> bytes:
    """Compressed bytes from the next offset after a broken member that starts a gzip member
    decoding to ``WARC/``; b"" when there is none. (A chance ``1f 8b 08`` inside deflate data
    fails that test, so a false start costs a little search, never a record.)"""
    buf = buf[1:] if buf.startswith(GZIP_MAGIC) else buf
    while True:
        at = buf.find(GZIP_MAGIC)
        if at < 0:
            keep = buf[-(len(GZIP_MAGIC) - 1):]
            more = f.read(READ)
            if not more:
                return b""
            buf = keep + more
            continue
        buf = buf[at:]
        while len(buf) < 512 and (more := f.read(READ)):
            buf += more
        try:
            if zlib.decompressobj(31).decompress(buf[:READ], 16).startswith(b"WARC/"):
                return buf
        except zlib.error:
            pass
        buf = buf[1:]


# --- shared by the wet and warc formats: WARC items -> Documents and Rejects ----------------------

def record_id(rec: Record, source: str) -> str:
    """``WARC-Record-ID`` without its angle brackets (``urn:uuid:...``), else derived."""
    value = (rec.header("WARC-Record-ID") or "").strip().strip("<>")
    return value or make_id(source, rec.number)


def record_metadata(headers: StatusAndHeaders | None) -> dict[str, str]:
    """What ``Document.metadata`` keeps of a record: ``url`` (WARC-Target-URI), ``date``
    (WARC-Date, ISO 8601 as written)."""
    if headers is None:
        return {}
    meta = {"url": headers.get_header("WARC-Target-URI"), "date": headers.get_header("WARC-Date")}
    return {k: display_path(v) for k, v in meta.items() if v}


Convert = Callable[[Record, "SourceSpec", str], Output]


def read_archive(item: WorkItem, *, max_doc_bytes: int, record_type: str,
                 convert: Convert) -> Iterator[Output]:
    """One Document or Reject per ``record_type`` record of ``item``'s file (``convert`` makes
    it from a record whose body was read); records of other types (warcinfo, request,
    metadata) are not records of the corpus and are skipped uncounted. Damage is a Reject
    (module docstring); this never raises."""
    spec, source = item.spec, display_path(item.spec.source_name(item.path))
    number = 0
    try:
        f = fs.open_file(item.path)
    except Exception as e:
        yield reject(spec, source, 1, reason=Reason.UNREADABLE,
                     detail=f"cannot open {item.path}: {type(e).__name__}: {e}")
        return
    with f, contextlib.closing(read_records(f, item.path, max_body_bytes=max_doc_bytes)) as items:
        while True:
            try:
                it = next(items)
            except StopIteration:
                return
            except Exception as e:  # OSError of the file system: the rest cannot be read
                yield reject(spec, source, number + 1, reason=Reason.UNREADABLE,
                             detail=f"cannot read {item.path} from record {number + 1} on: "
                                    f"{type(e).__name__}: {e}")
                return
            number = it.number
            out = _item_output(it, spec=spec, source=source, max_doc_bytes=max_doc_bytes,
                               record_type=record_type, convert=convert)
            if out is not None:
                yield out


def _item_output(it: Item, *, spec: SourceSpec, source: str, max_doc_bytes: int,
                 record_type: str, convert: Convert) -> Output | None:
    if isinstance(it, Record):
        if (it.header("WARC-Type") or "").strip() != record_type:
            return None
        if it.body is None:
            return reject(spec, source, it.number, reason=Reason.TOO_LARGE,
                          doc_id=record_id(it, source),
                          detail=f"record body of {it.length} bytes > cap {max_doc_bytes}: "
                                 f"not read")
        return convert(it, spec, source)
    if isinstance(it, Truncated):
        kind = (it.headers.get_header("WARC-Type") or "").strip() if it.headers else record_type
        if kind != record_type:
            return None
        if it.headers is None:
            return reject(spec, source, it.number, reason=Reason.TRUNCATED,
                          detail=f"the file ends inside the header block of record {it.number}")
        rid = (it.headers.get_header("WARC-Record-ID") or "").strip().strip("<>") or None
        return reject(spec, source, it.number, reason=Reason.TRUNCATED, doc_id=rid,
                      detail=f"the file ends inside record {it.number} "
                             f"({it.got} of {it.length} body bytes read)")
    if isinstance(it, Malformed):
        return reject(spec, source, it.number, reason=Reason.MALFORMED_RECORD,
                      detail=f"record {it.number}: {it.problem}")
    rest = "and every record after it (no later gzip member found)" if it.rest else \
        "(reading resumed at the next gzip member)"
    return reject(spec, source, it.number, reason=Reason.UNREADABLE,
                  detail=f"record {it.number}: {it.problem}; the records of that member are "
                         f"lost {rest}")
