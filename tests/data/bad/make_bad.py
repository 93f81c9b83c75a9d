"""Write the malformed inputs in tests/data/bad/ (deterministic; README.md says what each is for).

Run from the repository root: `python tests/data/bad/make_bad.py`. The files are committed, so
tests never need to run this; it documents exactly which bytes each file holds. The >1 MB record
is NOT written here (it would add 1 MB to the repository): tests generate it, see
`huge_record_line` below and README.md.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
SIZE_CAP = 1 << 20  # the size cap the README assumes (1 MiB of UTF-8 text)


def line(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n"


#: (line bytes, expected outcome) in file order; README.md mirrors this table.
BAD_LINES: list[tuple[bytes, str]] = [
    (line({"id": "ok-en", "text": "A valid English document."}), "accepted"),
    (line({"id": "ok-de", "text": "Ein gültiges deutsches Dokument."}), "accepted"),
    (b'{"id": "broken", "text": "unterminated string\n', "invalid_json"),
    (line(["id", "not an object"]), "invalid_json"),
    (line({"id": "no-text", "body": "the text is under another key"}), "missing_text"),
    (line({"id": "number", "text": 42}), "missing_text"),
    (line({"id": "null", "text": None}), "missing_text"),
    (line({"id": "empty", "text": ""}), "empty"),
    (line({"id": "whitespace", "text": " \n\t \u3000 "}), "empty"),
    (line({"id": "nul", "text": "ELF\u0000\u0000\u0000binary-looking text"}), "binary"),
    (b'{"id": "latin1", "text": "caf\xe9 cr\xe8me"}\n', "invalid_utf8"),
    (b"\n", "blank line: skipped, not a record (suggestion)"),
    (line({"text": "A record with no id: the reader derives one from file and line."}),
     "accepted"),
    (line({"id": "ok-ja", "text": "最後の有効な文書です。"}).rstrip(b"\n"),
     "accepted (last line has no trailing newline)"),
]


def huge_record_line(n_bytes: int = SIZE_CAP + 1024) -> bytes:
    """One valid JSONL record whose text is n_bytes of UTF-8 (default just over 1 MiB)."""
    return line({"id": "huge", "text": "a" * n_bytes})


def png_1x1() -> bytes:
    """A valid 1x1 grey PNG (67 bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


MIT = """MIT License

Copyright (c) 2026 palmkit contributors

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def main() -> None:
    (HERE / "bad.jsonl").write_bytes(b"".join(b for b, _ in BAD_LINES))

    good = b"".join(line({"id": f"gz-{i}", "text": f"Record {i} of a gzip file."})
                    for i in range(200))
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
        g.write(good)
    full = buf.getvalue()
    (HERE / "truncated.jsonl.gz").write_bytes(full[: len(full) // 2])  # cut mid-stream

    (HERE / "not_zstd.jsonl.zst").write_bytes(line({"id": "plain", "text": "I am not zstd."}))

    table = pa.table({"id": ["p-1", "p-2"], "body": ["text under 'body'", "no text column"]})
    pq.write_table(table, HERE / "no_text_column.parquet")

    repo = HERE / "code" / "repos" / "binary-files"
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "README.md").write_text("A tiny hand-made tree with files a code reader must reject.\n")
    (repo / "LICENSE").write_text(MIT)
    (repo / "hello.py").write_text('print("hello")\n')
    (repo / "logo.png").write_bytes(png_1x1())
    (repo / "compiled.py").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00print('x')\n")
    (repo / "latin1.c").write_bytes(b"/* caf\xe9: Latin-1, not UTF-8 */\nint main(void) "
                                    b"{ return 0; }\n")


if __name__ == "__main__":
    main()
