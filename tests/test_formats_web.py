"""The web formats (``wet``, ``warc``) and ``text``: fixtures written here, by hand and with
warcio's writer; every reject reason; damage in the middle (a corrupt gzip member, a cut file);
determinism; one run through the real corpus job (read = kept + rejected)."""

from __future__ import annotations

import gzip
import io

import pyarrow.parquet as pq
import pytest
import zstandard
from warcio.warcwriter import WARCWriter

from palmkit.records import Document, Reason, Reject
from pipelines import corpus, formats
from pipelines.corpus import CorpusConfig
from pipelines.formats.base import SourceSpec, WorkItem
from pipelines.formats.warc_io import read_records

CAP = 10_000
PAGES = ["The quick brown fox jumps over the lazy dog.",
         "Der schnelle braune Fuchs springt über den faulen Hund.",
         "素早い茶色の狐がのろまな犬を飛び越える。"]
ARTICLE = ("<html><head><title>Foxes</title></head><body>"
           "<nav><a href='/'>Home</a> | <a href='/about'>About us</a> | "
           "<a href='/x'>Contact</a></nav>"
           "<article><h1>On foxes</h1>" + "".join(
               f"<p>{s} Foxes are small omnivorous mammals found on every continent, and this "
               f"paragraph number {i} describes their habits at some length.</p>"
               for i, s in enumerate(PAGES)) +
           "</article><footer>Copyright 2026 Example Corp. All rights reserved.</footer>"
           "</body></html>")


def record(rtype: str, body: bytes, n: int, *, length: int | None = None, extra: str = "") -> bytes:
    head = (f"WARC/1.0\r\nWARC-Type: {rtype}\r\nWARC-Record-ID: <urn:uuid:rec-{n}>\r\n"
            f"WARC-Target-URI: https://example.org/{n}\r\n"
            f"WARC-Date: 2026-12-02T10:00:0{n % 10}Z\r\n"
            f"{extra}Content-Length: {len(body) if length is None else length}\r\n\r\n")
    return head.encode() + body + b"\r\n\r\n"


def warcinfo() -> bytes:
    return record("warcinfo", b"software: test\r\n", 0)


def http(html: str | bytes, status: str = "200 OK", ctype: str = "text/html; charset=utf-8",
         extra: str = "") -> bytes:
    body = html.encode() if isinstance(html, str) else html
    return f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n{extra}\r\n".encode() + body


def gz(*records: bytes) -> bytes:
    """One gzip member per record, as Common Crawl writes them."""
    return b"".join(gzip.compress(r, mtime=0) for r in records)


def item(path, fmt: str) -> WorkItem:
    return WorkItem(SourceSpec(component="web", format=fmt), str(path))


def read(path, fmt: str, cap: int = CAP) -> list:
    return list(formats.get(fmt).read(item(path, fmt), max_doc_bytes=cap))


def summary(out: list) -> list[tuple]:
    return [(o.record, o.text) if isinstance(o, Document) else (o.record, o.reason) for o in out]


# --- wet ------------------------------------------------------------------------------------------

def wet_records() -> list[bytes]:
    return [warcinfo()] + [record("conversion", p.encode(), i + 1) for i, p in enumerate(PAGES)]


@pytest.mark.parametrize("compress", [True, False])
def test_wet_conversion_records_become_documents_and_warcinfo_is_skipped(tmp_path, compress):
    path = tmp_path / ("a.warc.wet.gz" if compress else "a.warc.wet")
    path.write_bytes(gz(*wet_records()) if compress else b"".join(wet_records()))
    out = read(path, "wet")
    assert summary(out) == [(2, PAGES[0]), (3, PAGES[1]), (4, PAGES[2])]
    assert out[0].id == "urn:uuid:rec-1" and out[0].source == str(path)
    assert out[0].metadata == {"url": "https://example.org/1", "date": "2026-12-02T10:00:01Z"}


def test_wet_written_by_warcio_is_read(tmp_path):
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    writer.write_record(writer.create_warcinfo_record("a.warc.wet.gz", {"software": "t"}))
    for i, page in enumerate(PAGES):
        writer.write_record(writer.create_warc_record(
            f"https://example.org/{i}", "conversion", payload=io.BytesIO(page.encode()),
            warc_headers_dict={"Content-Type": "text/plain"}))
    (tmp_path / "a.warc.wet.gz").write_bytes(buf.getvalue())
    out = read(tmp_path / "a.warc.wet.gz", "wet")
    assert [o.text for o in out] == PAGES and all(o.id.startswith("urn:uuid:") for o in out)
    assert [o.metadata["url"] for o in out] == [f"https://example.org/{i}" for i in range(3)]


def test_wet_rejects_bad_utf8_too_large_and_malformed_headers(tmp_path):
    recs = [warcinfo(), record("conversion", b"bad \xff byte", 1),
            record("conversion", b"x" * (CAP + 1), 2),
            b"NOT-WARC/1.0\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n",
            record("conversion", b"WARC/1.0 no content length", 4).replace(b"Content-Length", b"X"),
            record("conversion", PAGES[0].encode(), 5)]
    (tmp_path / "a.warc.wet.gz").write_bytes(gz(*recs))
    out = read(tmp_path / "a.warc.wet.gz", "wet")
    assert summary(out) == [(2, Reason.INVALID_UTF8), (3, Reason.TOO_LARGE),
                            (4, Reason.MALFORMED_RECORD), (5, Reason.MALFORMED_RECORD),
                            (6, PAGES[0])]
    assert all("a.warc.wet.gz:" in o.detail for o in out[:4])
    assert out[0].id == "urn:uuid:rec-1" and out[0].text == "bad \ufffd byte"


def test_a_malformed_header_in_a_plain_file_resumes_at_the_next_record(tmp_path):
    recs = [record("conversion", b"one", 1), b"GARBAGE\r\nfoo\r\n\r\n junk junk\r\n",
            record("conversion", b"two", 3)]
    (tmp_path / "a.warc.wet").write_bytes(b"".join(recs))
    assert summary(read(tmp_path / "a.warc.wet", "wet")) == [
        (1, "one"), (2, Reason.MALFORMED_RECORD), (3, "two")]


def test_a_corrupt_gzip_member_in_the_middle_loses_only_its_record(tmp_path):
    members = [gzip.compress(r, mtime=0) for r in wet_records()]
    bad = bytearray(members[2])
    bad[len(bad) // 2:len(bad) // 2 + 8] = b"\x00\xff" * 4  # inside the deflate data
    (tmp_path / "a.warc.wet.gz").write_bytes(members[0] + members[1] + bytes(bad) + members[3])
    out = read(tmp_path / "a.warc.wet.gz", "wet")
    assert summary(out) == [(2, PAGES[0]), (3, Reason.UNREADABLE), (4, PAGES[2])]
    assert "record 3" in out[1].detail and "next gzip member" in out[1].detail


def test_a_corrupt_last_member_is_one_unreadable_reject_for_the_rest(tmp_path):
    gzip_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"  # then invalid deflate data
    members = [gzip.compress(r, mtime=0) for r in wet_records()]
    (tmp_path / "a.warc.wet.gz").write_bytes(b"".join(members[:3]) + gzip_header + b"\xff" * 40)
    out = read(tmp_path / "a.warc.wet.gz", "wet")
    assert summary(out) == [(2, PAGES[0]), (3, PAGES[1]), (4, Reason.UNREADABLE)]
    assert "every record after it" in out[-1].detail


@pytest.mark.parametrize("compress", [True, False])
def test_a_file_cut_in_the_middle_keeps_everything_before(tmp_path, compress):
    data = gz(*wet_records()) if compress else b"".join(wet_records())
    cut = len(data) - 30  # inside the last record
    (tmp_path / "a.warc.wet.gz").write_bytes(data[:cut])
    (tmp_path / "a.warc.wet").write_bytes(data[:cut])
    out = read(tmp_path / ("a.warc.wet.gz" if compress else "a.warc.wet"), "wet")
    assert summary(out) == [(2, PAGES[0]), (3, PAGES[1]), (4, Reason.TRUNCATED)]


def test_a_bad_crc_loses_only_that_members_record(tmp_path):
    members = [gzip.compress(r, mtime=0) for r in wet_records()]
    bad = bytearray(members[1])
    bad[-8] ^= 0xFF  # the CRC32 in the trailer: the data decompresses, the check fails
    (tmp_path / "a.warc.wet.gz").write_bytes(members[0] + bytes(bad) + b"".join(members[2:]))
    assert summary(read(tmp_path / "a.warc.wet.gz", "wet")) == [
        (2, Reason.UNREADABLE), (3, PAGES[1]), (4, PAGES[2])]


@pytest.mark.parametrize("damage", ["cut", "flip"])
def test_any_cut_or_flipped_byte_never_raises_and_keeps_the_records_before(tmp_path, damage):
    data = gz(*wet_records())
    path = tmp_path / "a.warc.wet.gz"
    for at in range(0, len(data), 7):
        path.write_bytes(data[:at] if damage == "cut" else
                         data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1:])
        out = read(path, "wet")
        assert all(isinstance(o, (Document, Reject)) for o in out)
        docs = [o.text for o in out if isinstance(o, Document)]
        if damage == "cut":  # a prefix of the pages, then at most one reject
            assert docs == PAGES[:len(docs)] and len(out) - len(docs) <= 1
        else:  # one member damaged: at most one record lost (or, in its header, mis-read)
            assert len(out) >= 2 and len({o.record for o in out}) == len(out)


def test_a_huge_body_is_skipped_in_bounded_memory(tmp_path):
    big = 8 << 20  # 8 MiB body, cap 10 kB: never held (the splitter keeps only headers)
    path = tmp_path / "a.warc.wet"
    path.write_bytes(record("conversion", b"a" * big, 1) + record("conversion", b"ok", 2))
    with open(path, "rb") as f:
        items = list(read_records(f, str(path), max_body_bytes=CAP))
    assert [(i.number, i.body) for i in items] == [(1, None), (2, b"ok")]


# --- warc -----------------------------------------------------------------------------------------

def test_warc_responses_are_extracted_and_every_problem_has_its_reason(tmp_path):
    recs = [warcinfo(),
            record("request", b"GET / HTTP/1.1\r\n\r\n", 1),
            record("response", http(ARTICLE), 2),
            record("response", http(ARTICLE, status="404 Not Found"), 3),
            record("response", http(b"%PDF-1.4", ctype="application/pdf"), 4),
            record("response", http(ARTICLE), 5, extra="WARC-Truncated: length\r\n"),
            record("response", http(ARTICLE, extra="Content-Length: 99999\r\n"), 6),
            record("response", http("<html><body><script>x=1</script></body></html>"), 7),
            record("response", b"no http here", 8),
            record("response", http(ARTICLE), 9)]
    (tmp_path / "a.warc.gz").write_bytes(gz(*recs))
    out = read(tmp_path / "a.warc.gz", "warc", cap=1 << 20)
    got = summary(out)
    assert [r for _, r in got[1:-1]] == [Reason.HTTP_STATUS, Reason.NOT_HTML, Reason.TRUNCATED,
                                         Reason.TRUNCATED, Reason.EMPTY, Reason.MALFORMED_RECORD]
    page = out[0]
    assert isinstance(page, Document) and page.record == 3 and page.id == "urn:uuid:rec-2"
    assert all(p in page.text for p in PAGES) and "All rights reserved" not in page.text
    assert page.metadata["url"] == "https://example.org/2"
    assert isinstance(out[-1], Document) and out[-1].text == page.text


def test_reads_are_deterministic(tmp_path):
    (tmp_path / "a.warc.gz").write_bytes(gz(warcinfo(), record("response", http(ARTICLE), 1)))
    (tmp_path / "a.warc.wet.gz").write_bytes(gz(*wet_records()))
    for name, fmt in (("a.warc.gz", "warc"), ("a.warc.wet.gz", "wet")):
        assert read(tmp_path / name, fmt) == read(tmp_path / name, fmt)


# --- text -----------------------------------------------------------------------------------------

def test_text_files_are_one_document_each_and_rejects_have_reasons(tmp_path):
    book = "\n\n".join(PAGES * 3)
    (tmp_path / "book.txt").write_bytes(b"\xef\xbb\xbf" + book.encode())
    (tmp_path / "book.txt.gz").write_bytes(gzip.compress(book.encode()))
    (tmp_path / "book.txt.zst").write_bytes(zstandard.ZstdCompressor().compress(book.encode()))
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9")
    (tmp_path / "big.txt.gz").write_bytes(gzip.compress(b"a" * (CAP * 50)))
    (tmp_path / "cut.txt.gz").write_bytes(gzip.compress(book.encode())[:-12])
    out = {p: read(tmp_path / p, "text")
           for p in ("book.txt", "book.txt.gz", "book.txt.zst", "bad.txt", "big.txt.gz",
                     "cut.txt.gz")}
    assert all(len(v) == 1 for v in out.values())
    for p in ("book.txt", "book.txt.gz", "book.txt.zst"):
        doc = out[p][0]
        assert isinstance(doc, Document) and doc.text == book and doc.id == str(tmp_path / p)
    assert [out[p][0].reason for p in ("bad.txt", "big.txt.gz", "cut.txt.gz")] == [
        Reason.INVALID_UTF8, Reason.TOO_LARGE, Reason.UNREADABLE]
    assert f"{CAP * 50} bytes" in out["big.txt.gz"][0].detail


# --- the real corpus job --------------------------------------------------------------------------

def test_the_corpus_job_reads_web_and_text_sources(tmp_path):
    (tmp_path / "cc").mkdir()
    (tmp_path / "books").mkdir()
    members = [gzip.compress(r, mtime=0) for r in wet_records()]
    bad = bytearray(members[2])
    bad[len(bad) // 2:len(bad) // 2 + 8] = b"\x00\xff" * 4
    (tmp_path / "cc" / "a.warc.wet.gz").write_bytes(members[0] + members[1] + bytes(bad) +
                                                    members[3])
    (tmp_path / "cc" / "b.warc.gz").write_bytes(gz(
        warcinfo(), record("response", http(ARTICLE), 7),  # ids unlike the WET file's
        record("response", http(ARTICLE, status="301 Moved"), 8)))
    (tmp_path / "books" / "one.txt").write_text("\n".join(PAGES * 5), encoding="utf-8")
    (tmp_path / "books" / "empty.txt").write_text("   \n", encoding="utf-8")
    sources = tmp_path / "sources.yaml"
    sources.write_text("components:\n"
                       "  web: [{format: wet, path: 'cc/*.wet.gz'},\n"
                       "        {format: warc, path: 'cc/*.warc.gz'}]\n"
                       "  books: [{format: text, path: 'books/*.txt'}]\n")
    out = tmp_path / "out"
    manifest = corpus.main(CorpusConfig(sources=str(sources), output=str(out), stages=(),
                                        num_shards=1))
    web, books = manifest.counts["web"], manifest.counts["books"]
    assert web["read"] == 5 and web["kept"] == 3
    assert web["rejected"] == {Reason.UNREADABLE: 1, Reason.HTTP_STATUS: 1}
    assert books["read"] == 2 and books["kept"] == 1 and books["rejected"] == {Reason.EMPTY: 1}
    for counts in (web, books):
        assert counts["read"] == counts["kept"] + sum(counts["rejected"].values())
    clean = pq.read_table(out / "clean" / "books" / "part-00000-of-00001.parquet").to_pylist()
    assert [d["id"] for d in clean] == ["books/one.txt"]


def test_a_file_gzipped_as_one_member_streams(tmp_path, monkeypatch):
    from pipelines.formats import warc_io
    monkeypatch.setattr(warc_io, "PENDING_BYTES", 50)  # hand records out before the member ends
    recs = [record("conversion", PAGES[(i - 1) % 3].encode(), i) for i in range(1, 3001)]  # 0.9 MB
    data = gzip.compress(b"".join(recs), mtime=0)
    (tmp_path / "a.warc.wet.gz").write_bytes(data)
    assert [o.text for o in read(tmp_path / "a.warc.wet.gz", "wet")] == PAGES * 1000
    (tmp_path / "a.warc.wet.gz").write_bytes(data[:-8] + b"\0" * 8)  # bad CRC at the very end
    out = read(tmp_path / "a.warc.wet.gz", "wet")
    assert all(isinstance(o, Document) for o in out[:-1]) and len(out) > 2000
    assert out[-1].reason == Reason.UNREADABLE and out[-1].record == len(out)
