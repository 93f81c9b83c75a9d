"""Readers on hostile input: one bad record rejects that record only, damage keeps what was
decoded before it (compared with what gzip/zstd themselves decode), bounded memory on a huge
line, corrupt Parquet pages, non-UTF-8 file names. Everything is generated in tmp_path."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import tracemalloc
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from palmkit.records import Document, Reason, Reject, documents_to_table, make_id, rejects_to_table
from pipelines import lines, readers
from pipelines.formats import jsonl as jsonl_format, records
from pipelines.formats.base import SourceSpec, WorkItem
from pipelines.sources import load_sources
from pipelines.validate import validate

GOOD = {"id": "good", "text": "A good document after the bad ones."}


def sources(tmp_path, path: str, fmt: str = "jsonl", extra: str = "") -> str:
    out = tmp_path / "sources.yaml"
    out.write_text(f"components:\n  web:\n    - {{format: {fmt}, path: '{path}'{extra}}}\n")
    return str(out)


def read_all(tmp_path, path: str, *, fmt: str = "jsonl", extra: str = "",
             max_doc_bytes: int = 10_000_000) -> list:
    specs = load_sources(sources(tmp_path, path, fmt, extra))
    items = [w for i in readers.initial_items(specs) for w in readers.plan(i)]
    return [r for item in items for r in readers.read(item, max_doc_bytes=max_doc_bytes)]


def jsonl(rows) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def numbered(n: int, tag: str) -> list[dict]:
    return [{"id": f"{tag}-{i}", "text": f"{tag} document {i} " + "lorem ipsum " * (i % 13)}
            for i in range(n)]


def complete_lines(decoded: bytes) -> list[bytes]:
    """The lines a reader can keep from ``decoded``: those ended by a newline."""
    return decoded.split(b"\n")[:-1]


def kinds(out) -> list[tuple]:
    return [(r.record, getattr(r, "reason", "doc")) for r in out]


def assert_storable(out) -> None:
    """Documents and rejects can be written as Parquet (UTF-8 strings only)."""
    pq.write_table(documents_to_table([d for d in out if isinstance(d, Document)]), io.BytesIO())
    pq.write_table(rejects_to_table([r for r in out if isinstance(r, Reject)]), io.BytesIO())


# -- 1. a field of the wrong type rejects that record only ------------------------------------


def test_wrong_field_types_reject_that_record_only_and_reading_goes_on(tmp_path):
    rows = [
        {"id": "lic-int", "text": "t", "license": 5},
        {"id": "path-int", "text": "t", "path": 3},
        {"id": "repo-list", "text": "t", "repo": ["a", "b"]},
        {"id": "lang-obj", "text": "t", "programming_language": {"name": "Python"}},
        {"id": 1.5, "text": "t"},
        {"id": True, "text": "t"},
        {"id": [1], "text": "t"},
        {"id": {"x": 1}, "text": "t"},
        {"id": "lic-list-int", "text": "t", "license": ["mit", 7]},
        {"id": "path-surrogate", "text": "t", "path": "a\ud800.py"},
        {"id": 7, "text": "integer id"},
        {"id": None, "text": "null id"},
        {"id": "lic-list", "text": "t", "license": ["mit", "Apache-2.0"], "path": "x/y.py"},
        {"text": 42}, {"text": ["a"]}, {"text": None}, {"text": True}, {"text": {"a": 1}},
        GOOD,
    ]
    (tmp_path / "a.jsonl").write_bytes(jsonl(rows))
    out = read_all(tmp_path, "a.jsonl")
    assert [r.record for r in out] == list(range(1, len(rows) + 1))  # one output per line
    bad = {r.record: r for r in out[:10]}
    assert all(r.reason == Reason.INVALID_FIELD for r in bad.values()), kinds(out)
    assert "field 'license' is a number (int), not a string or a list of strings" in bad[1].detail
    assert "field 'path' is a number (int)" in bad[2].detail
    assert "field 'repo' is an array (list)" in bad[3].detail
    assert "field 'programming_language' is an object (dict)" in bad[4].detail
    assert "field 'id' is a number (float)" in bad[5].detail and "boolean" in bad[6].detail
    assert "an element of field 'license' is a number (int)" in bad[9].detail
    assert "unpaired surrogate" in bad[10].detail
    assert bad[1].detail.startswith("a.jsonl:1: ") and bad[1].id == "lic-int"
    assert bad[5].id == make_id("a.jsonl", 5) and bad[1].text == "t"
    int_id, null_id, lic = out[10:13]
    assert (int_id.id, null_id.id) == ("7", make_id("a.jsonl", 12))
    assert (lic.license, lic.programming_language) == ("Apache-2.0 AND MIT", "Python")
    texts = [validate(d) for d in out[13:18]]
    assert [r.reason for r in texts] == [Reason.MISSING_TEXT] * 5  # validation's, as before
    assert isinstance(out[-1], Document) and out[-1].id == "good"
    assert_storable(out[:13] + out[18:] + texts)


def test_mapped_fields_name_the_record_field_and_parquet_int_license_does_not_crash(tmp_path):
    n = 5
    pq.write_table(pa.table({
        "content": [f"row {i}" for i in range(n)],
        "doc_id": pa.array([10, 11, 12, 13, 14], pa.int64()),
        "lic": pa.array([1, 2, None, 4, 5], pa.int32()),  # an int license column
    }), tmp_path / "a.parquet")
    extra = ", text_field: content, id_field: doc_id, fields: {license: lic}"
    out = read_all(tmp_path, "a.parquet", fmt="parquet", extra=extra)
    assert kinds(out) == [(0, Reason.INVALID_FIELD), (1, Reason.INVALID_FIELD), (2, "doc"),
                          (3, Reason.INVALID_FIELD), (4, Reason.INVALID_FIELD)]
    assert "field 'license' (record field 'lic') is a number (int)" in out[0].detail
    assert out[0].id == "10" and (out[2].id, out[2].license) == ("12", None)
    float_ids = tmp_path / "f.parquet"
    pq.write_table(pa.table({"text": ["x", "y"], "id": [1.0, 2.5]}), float_ids)
    out = read_all(tmp_path, "f.parquet", fmt="parquet")
    assert [r.reason for r in out] == [Reason.INVALID_FIELD] * 2
    assert "field 'id' is a number (float)" in out[0].detail


def test_any_exception_while_converting_a_record_is_that_records_reject():
    spec = load_spec_free()

    class Hostile(dict):
        def get(self, key, default=None):
            if key == "repo":
                raise RuntimeError("boom")
            return super().get(key, default)

    class Weird:  # numpy-like, but item() fails
        ndim = 0

        def item(self):
            raise ValueError("no item")

    for row in (Hostile(text="kept in the reject"), {"text": "x", "path": Weird()}):
        out = records.record_to_document(row, spec=spec, source="s.jsonl", record=3)
        assert isinstance(out, Reject) and out.reason == Reason.INVALID_FIELD
        assert out.detail.startswith("s.jsonl:3: cannot convert the record: ")
    assert out.text == "x"


def load_spec_free():
    return SourceSpec(component="web", format="jsonl")


# -- 2./3. damage: keep what was decoded before it, as gzip -dc / zstd -dc do ------------------


def _cli(tool: str, data: bytes) -> bytes | None:
    """What ``tool -dc`` decodes from damaged ``data`` (it exits non-zero), when installed."""
    if not shutil.which(tool):
        return None
    return subprocess.run([tool, "-dc"], input=data, capture_output=True).stdout


def _check_damaged(tmp_path, name: str, data: bytes, expected: bytes, tool: str):
    (tmp_path / name).write_bytes(data)
    out = read_all(tmp_path, name)
    kept = complete_lines(expected)
    docs, rest = out[:-1], out[-1]
    assert [json.loads(line)["id"] for line in kept] == [d.id for d in docs]
    assert all(isinstance(d, Document) for d in docs)
    assert (rest.reason, rest.record) == (Reason.UNREADABLE, len(kept) + 1)
    assert f"from line {len(kept) + 1} on" in rest.detail
    cli = _cli(tool, data)
    if cli is not None:  # the tool itself recovers no more complete lines than we keep
        assert len(complete_lines(cli)) <= len(kept)
    return docs


def test_zstd_second_frame_corrupt_keeps_every_record_of_the_first(tmp_path):
    one, two = jsonl(numbered(2000, "one")), jsonl(numbered(2000, "two"))
    assert len(one) < 1 << 20  # smaller than the old 1 MiB read-ahead buffer
    f1, f2 = (zstandard.ZstdCompressor().compress(x) for x in (one, two))
    bad2 = b"\x28\xb5\x2f\xfe" + f2[4:]  # not a frame: the decoder stops right there
    docs = _check_damaged(tmp_path, "c.jsonl.zst", f1 + bad2[: len(bad2) // 2], one, "zstd")
    assert len(docs) == 2000


def test_zstd_truncated_frame_is_unreadable_after_the_blocks_decoded(tmp_path):
    one, two = jsonl(numbered(2000, "one")), jsonl(numbered(6000, "two"))
    f1, f2 = (zstandard.ZstdCompressor(write_checksum=True).compress(x) for x in (one, two))
    cut = f2[: len(f2) * 2 // 3]
    expected = one + zstandard.ZstdDecompressor().decompressobj().decompress(cut)
    docs = _check_damaged(tmp_path, "t.jsonl.zst", f1 + cut, expected, "zstd")
    assert 2000 < len(docs) < 8000
    # python-zstandard itself is silent on a truncated frame: the frame tracker is not
    (tmp_path / "whole.jsonl.zst").write_bytes(f1 + f2)
    assert len(read_all(tmp_path, "whole.jsonl.zst")) == 8000


def test_gzip_truncated_mid_stream_keeps_the_lines_before(tmp_path):
    one, two = jsonl(numbered(1500, "one")), jsonl(numbered(3000, "two"))
    member2 = gzip.compress(two, mtime=0)
    data = gzip.compress(one, mtime=0) + member2[: len(member2) // 2]  # 2 members, 2nd cut
    expected = one + zlib.decompressobj(wbits=31).decompress(member2[: len(member2) // 2])
    docs = _check_damaged(tmp_path, "t.jsonl.gz", data, expected, "gzip")
    assert len(docs) > 1500
    if shutil.which("gzip"):
        assert len(complete_lines(_cli("gzip", data))) == len(docs)


def test_zstd_frame_tracker_on_checksums_skippable_frames_and_every_cut():
    data = b"".join(json.dumps({"text": "x" * i}).encode() + b"\n" for i in range(300))
    frames = [zstandard.ZstdCompressor(write_checksum=True).compress(data),
              struct.pack("<II", 0x184D2A50, 3) + b"abc",  # a skippable frame
              zstandard.ZstdCompressor(write_content_size=False).compress(data),
              zstandard.ZstdCompressor().compress(b"")]
    whole = b"".join(frames)
    bounds = {sum(len(f) for f in frames[:i]) for i in range(len(frames) + 1)}
    for cut in range(0, len(whole) + 1, 7):
        try:
            got = b"".join(lines.decoded_chunks(io.BytesIO(whole[:cut]), "x.zst"))
        except EOFError:
            assert cut not in bounds
        else:
            assert cut in bounds and data.startswith(got[: len(data)])
    assert b"".join(lines.decoded_chunks(io.BytesIO(whole), "x.zst")) == data * 2


# -- 4. byte-order mark ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst"])
def test_utf8_bom_at_start_is_tolerated(tmp_path, suffix):
    data = b"\xef\xbb\xbf" + jsonl([{"id": "first", "text": "Erste"}, GOOD])
    data = {"": data, ".gz": gzip.compress(data), ".zst": zstandard.compress(data)}[suffix]
    (tmp_path / f"b.jsonl{suffix}").write_bytes(data)
    out = read_all(tmp_path, f"b.jsonl{suffix}")
    assert [(type(r), r.id) for r in out] == [(Document, "first"), (Document, "good")]
    assert out[0].text == "Erste"


# -- 5. bounded memory: a huge line is too_large, read in bounded memory -----------------------


def test_huge_line_is_too_large_in_bounded_memory_and_reading_goes_on(tmp_path):
    huge = 300 << 20  # 300 MB of "a" without a newline, streamed into a ~300 KB .gz
    path = tmp_path / "bomb.jsonl.gz"
    block = b"a" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(b'{"text": "')
        for _ in range(huge // len(block)):
            f.write(block)
        f.write(b'"}\n' + json.dumps(GOOD).encode() + b"\n")
    assert path.stat().st_size < 3 << 20
    tracemalloc.start()
    try:
        out = read_all(tmp_path, "bomb.jsonl.gz", max_doc_bytes=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kinds(out) == [(1, Reason.TOO_LARGE), (2, "doc")] and out[1].id == "good"
    assert f"line of {huge + 12} bytes > line cap {jsonl_format.line_cap(1_000_000)}" in out[0].detail
    assert out[0].text is None
    assert peak < 64 << 20, f"peak {peak >> 20} MiB"


def test_line_cap_boundaries():
    assert jsonl_format.line_cap(1000) == 2000 + (1 << 20)
    chunks = [b"abc", b"de\nfg", b"hij\n", b"\nxyzw"]
    assert list(lines.split_lines(chunks, 4)) == [lines.LongLine(5), lines.LongLine(5), b"",
                                                  b"xyzw"]
    assert list(lines.split_lines([b"ab\ncd"], 2)) == [b"ab", b"cd"]
    assert list(lines.split_lines([], 2)) == []


def test_jsonl_line_just_over_the_cap_is_too_large_but_its_neighbours_are_read(tmp_path):
    cap = jsonl_format.line_cap(10)
    row = json.dumps({"text": "b" * cap}).encode()
    (tmp_path / "a.jsonl").write_bytes(jsonl([GOOD]) + row + b"\n" + jsonl([GOOD]))
    out = read_all(tmp_path, "a.jsonl", max_doc_bytes=10)
    assert kinds(out) == [(1, "doc"), (2, Reason.TOO_LARGE), (3, "doc")]


# -- 6. Parquet: corrupt page, unreadable footer -----------------------------------------------


def _corrupt_row_group(path, group: int) -> None:
    meta = pq.ParquetFile(path).metadata
    col = meta.row_group(group).column(0)
    data = bytearray(path.read_bytes())
    end = col.data_page_offset + col.total_compressed_size
    for i in range(end - 40, end - 20):  # inside the last data page of the text column
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_parquet_corrupt_page_rejects_each_row_of_its_row_group(tmp_path):
    n = 30
    table = pa.table({"text": [f"row {i} " + "x" * 40 for i in range(n)],
                      "id": [f"r{i}" for i in range(n)]})
    path = tmp_path / "c.parquet"
    pq.write_table(table, path, row_group_size=10, write_page_checksum=True, compression="NONE",
                   use_dictionary=False)
    _corrupt_row_group(path, 1)
    with pytest.raises(Exception):  # the damage is real
        pq.ParquetFile(path, page_checksum_verification=True).read_row_group(1)
    out = read_all(tmp_path, "c.parquet", fmt="parquet")
    assert len(out) == n == pq.ParquetFile(path).metadata.num_rows  # read = the footer's rows
    assert [d.id for d in out[:10] + out[20:]] == [f"r{i}" for i in (*range(10), *range(20, 30))]
    broken = out[10:20]
    assert [(r.reason, r.record) for r in broken] == [(Reason.UNREADABLE, i) for i in range(10, 20)]
    assert "row group 1 of" in broken[0].detail and "unreadable from row 10 on" in broken[0].detail
    assert_storable(out)


def test_parquet_bad_utf8_string_rejects_that_row_and_unreadable_footer_one_reject(tmp_path):
    # a "string" column whose bytes are not UTF-8 (pyarrow writes what it is given)
    values = pa.array([b"fine", b"caf\xe9", b"also fine"], pa.binary())
    values = values.cast(pa.string(), safe=False)
    path = tmp_path / "u.parquet"
    pq.write_table(pa.table({"text": values}), path)
    out = read_all(tmp_path, "u.parquet", fmt="parquet")
    assert kinds(out) == [(0, "doc"), (1, Reason.INVALID_UTF8), (2, "doc")]
    (tmp_path / "cut.parquet").write_bytes(path.read_bytes()[:-20])
    out = read_all(tmp_path, "cut.parquet", fmt="parquet")
    assert kinds(out) == [(0, Reason.UNREADABLE)] and "footer" in out[0].detail


# -- 7. file names that are not UTF-8 ----------------------------------------------------------


def test_file_names_that_are_not_utf8_are_read_with_a_storable_source(tmp_path):
    d = os.fsencode(tmp_path)
    try:
        with open(os.path.join(d, b"bad\xff.jsonl"), "wb") as f:
            f.write(jsonl([{"text": "no id"}, GOOD]) + b"{broken\n")
    except OSError:
        pytest.skip("this filesystem refuses names that are not UTF-8")
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": ["from parquet"]}), buf)
    with open(os.path.join(d, b"p\xfe.parquet"), "wb") as f:
        f.write(buf.getvalue())
    out = read_all(tmp_path, "*.jsonl") + read_all(tmp_path, "*.parquet", fmt="parquet")
    assert [type(r).__name__ for r in out] == ["Document", "Document", "Reject", "Document"]
    assert [r.source for r in out] == ["bad\\xff.jsonl"] * 3 + ["p\\xfe.parquet"]
    assert out[0].id == make_id("bad\\xff.jsonl", 1)
    assert out[2].detail.startswith("bad\\xff.jsonl:3")
    assert_storable(out)
    assert records.display_path(b"bad\xff.jsonl") == records.display_path("bad\udcff.jsonl")
    assert records.display_path("caf\u00e9/\u65e5\u672c.jsonl") == "caf\u00e9/\u65e5\u672c.jsonl"
    assert records.display_path("lone\ud800") == "lone\\ud800"
    spec = load_sources(sources(tmp_path, "*.jsonl"))[0]
    item = readers.initial_items([spec])[0]
    assert readers.describe(item).endswith("bad\\xff.jsonl")


def test_missing_file_is_one_unreadable_reject_with_a_storable_detail(tmp_path):
    (tmp_path / "x.jsonl").write_text("{}\n")
    spec = load_sources(sources(tmp_path, "x.jsonl"))[0]
    ghost = os.path.join(str(tmp_path), "gone\udcff.jsonl")
    item = WorkItem(readers.initial_items([spec])[0].spec, ghost)
    out = list(readers.read(item, max_doc_bytes=100))
    assert kinds(out) == [(1, Reason.UNREADABLE)] and "\\xff" in out[0].detail
    assert_storable(out)
