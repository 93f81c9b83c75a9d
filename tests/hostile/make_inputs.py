"""Hostile inputs for the whole flow, generated into a folder (nothing large is committed).

``build(root)`` writes ``root/in`` (sources.yaml, mixture.yaml and every kind of bad input
next to good records) and ``root/outside`` (files a careless reader would reach through
symlinks; their text carries ``SECRET`` and must never reach an output). It returns a
``Hostile`` description: the good records' markers per component (each must be kept) and the
reasons that must appear among the rejects.

Every good record's text starts with ``GOOD-<component>-<n>`` and is real text (paragraphs of
the Python sources of the bundled sample's code tree, ``tests.sample_text``), so language ID, dedup and the vocabulary behave as
on real data. Hostile cases (see docs/architecture.md, "Failure behaviour"):

* JSONL: wrong-type metadata (``"license": 5``, list ``path``, dict/float/bool ids), an int id,
  broken JSON, invalid UTF-8, lone surrogates, NUL, empty and whitespace-only text, a line over
  ``--max-doc-bytes``, a UTF-8 BOM, non-UTF-8 and odd file names, a gzip bomb (a few MB that
  expand to ``BOMB_BYTES`` without a newline), a truncated gzip, a two-frame zstd whose second
  frame is corrupt, duplicate ids across files;
* Parquet: an int ``license`` column, a corrupt data page in the second of two row groups;
* code trees: a repository that is a symlink to outside, file and directory symlinks, a symlink
  loop, a FIFO named ``pipe.py``, a socket, a binary ``.py``, an oversized file, a non-UTF-8
  file name, names with spaces, a leading dash and a newline.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import socket

import pyarrow as pa
import pyarrow.parquet as pq

from tests.sample_text import code_files, paragraphs

MAX_DOC_BYTES = 200_000
BOMB_BYTES = 512 << 20  # expands from ~0.5 MB of gzip: bounded reading must not hold it
SECRET = "SECRET-outside-the-tree"


@dataclasses.dataclass
class Hostile:
    sources: str
    mixture: str
    outside: str
    good: dict[str, list[str]]  # component -> markers of records that must be kept
    reasons: set[str]  # reasons that must appear among the rejects
    sockets: list[socket.socket]  # kept open while the test runs


class _Good:
    """Numbered good texts per component, remembered for the checks."""

    def __init__(self):
        self.paragraphs = iter(paragraphs(400, min_chars=200, max_chars=1500, suffixes=(".py",)))
        self.markers: dict[str, list[str]] = {}

    def __call__(self, component: str) -> str:
        marker = f"GOOD-{component}-{len(self.markers.setdefault(component, []))}"
        self.markers[component].append(marker)
        return f"{marker} {next(self.paragraphs)}"


def _line(obj) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def _web(d: str, good: _Good) -> None:
    os.makedirs(d)
    g = lambda: _line({"text": good("web")})  # noqa: E731
    bad = [
        _line({"id": "w-lic", "license": 5, "text": "metadata of the wrong type"}),
        _line({"id": "w-path", "path": ["a", "b"], "text": "a list where a path goes"}),
        _line({"id": {"nested": 1}, "text": "an object id"}),
        _line({"id": 1.5, "text": "a float id"}),
        _line({"id": True, "text": "a boolean id"}),
        b'{"text": "unterminated\n',
        b'{"text": "caf\xe9"}\n',
        b'{"text": "\\ud800 alone"}\n',
        b'{"text": "nul\\u0000byte"}\n',
        b'{"text": ""}\n',
        b'{"text": " \\n\\t "}\n',
        b'{"text": 12345}\n',
        b'["an", "array"]\n',
        _line({"text": "x" * (MAX_DOC_BYTES + 10)}),
        b"\n",  # a blank line is not a record
    ]
    with open(os.path.join(d, "mixed.jsonl"), "wb") as f:
        f.write(_line({"id": 7, "text": good("web")}))  # an int id is an id
        for b in bad:
            f.write(b + g())  # the record after each bad one must survive
    with open(os.path.join(d, "bom.jsonl"), "wb") as f:
        f.write(b"\xef\xbb\xbf" + g() + g())
    with open(os.path.join(d, "zz-dupe-ids.jsonl"), "wb") as f:  # id 7 again: duplicate_id
        f.write(_line({"id": 7, "text": "the same id as the first record of mixed.jsonl"}) + g())
    with open(os.fsencode(os.path.join(d, "caf")) + b"\xe9.jsonl", "wb") as f:
        f.write(g())
    with open(os.path.join(d, "-odd name\nwith newline.jsonl"), "wb") as f:
        f.write(g())
    # A gzip bomb: a long line without a newline, then one more record.
    with gzip.GzipFile(os.path.join(d, "bomb.jsonl.gz"), "wb", mtime=0) as f:
        f.write(b'{"text": "')
        chunk = b"a" * (8 << 20)
        for _ in range(BOMB_BYTES // len(chunk)):
            f.write(chunk)
        f.write(b'"}\n' + g())
    # A truncated gzip: the records before the damage are kept.
    lines = b"".join(g() for _ in range(6))
    data = gzip.compress(lines + b"".join(_line({"text": f"lost {i} " * 50}) for i in range(200)),
                         mtime=0)
    with open(os.path.join(d, "truncated.jsonl.gz"), "wb") as f:
        f.write(data[: len(data) * 2 // 3])
    _zstd_two_frames(os.path.join(d, "frames.jsonl.zst"), b"".join(g() for _ in range(4)))


def _zstd_two_frames(path: str, first: bytes) -> None:
    import zstandard

    c = zstandard.ZstdCompressor()
    frame2 = bytearray(c.compress(b"".join(_line({"text": f"frame two {i}"}) for i in range(50))))
    frame2[len(frame2) // 2:] = b"\xff" * (len(frame2) - len(frame2) // 2)  # corrupt
    with open(path, "wb") as f:
        f.write(c.compress(first) + bytes(frame2))


def _books(d: str, good: _Good) -> None:
    os.makedirs(d)
    # An int license column: every row is invalid_field, none crashes the job.
    pq.write_table(pa.table({"text": [f"book text {i} " * 20 for i in range(3)],
                             "license": [1, 2, 3]}), os.path.join(d, "int-license.parquet"))
    texts = [good("books") for _ in range(8)]
    table = pa.table({"id": [f"b{i}" for i in range(8)], "text": texts})
    pq.write_table(table, os.path.join(d, "good.parquet"), row_group_size=4)
    # Corrupt a data page of the second row group (rows 4..7): those rows are rejected one by one.
    path = os.path.join(d, "corrupt.parquet")
    bad_texts = [f"GOOD-books-corrupt-{i} " + "t " * 200 for i in range(8)]
    pq.write_table(pa.table({"id": [f"c{i}" for i in range(8)], "text": bad_texts}), path,
                   row_group_size=4, compression="none", use_dictionary=False)
    col = pq.ParquetFile(path).metadata.row_group(1).column(1)
    start, size = col.data_page_offset, col.total_compressed_size
    raw = bytearray(open(path, "rb").read())
    raw[start + 8:start + size - 8] = b"\xff" * (size - 16)  # page header and values garbled
    open(path, "wb").write(bytes(raw))
    good.markers["books"] += [f"GOOD-books-corrupt-{i}" for i in range(4)]  # group 0 survives


MIT = ("MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a "
       "copy of this software and associated documentation files (the \"Software\"), to deal in "
       "the Software without restriction\n")


def _code(d: str, outside: str, good: _Good) -> list[socket.socket]:
    repo = os.path.join(d, "tool")
    os.makedirs(os.path.join(repo, "src"))
    with open(os.path.join(repo, "LICENSE"), "w") as f:
        f.write(MIT)
    sources = code_files((".py",))[-6:]  # not the files the good paragraphs come from
    names = ["main.py", "spa ce.py", "-dash.py", "new\nline.py", "ok.py"]
    for name, src in zip(names, sources):
        marker = f"GOOD-code-{len(good.markers.setdefault('code', []))}"
        good.markers["code"].append(marker)
        with open(src, encoding="utf-8", errors="replace") as f:
            body = f.read()[:6000]
        with open(os.path.join(repo, "src", name), "w", encoding="utf-8") as f:
            f.write(f"# {marker}\n{body}")
    with open(os.fsencode(os.path.join(repo, "src", "caf")) + b"\xe9.py", "w") as f:
        marker = f"GOOD-code-{len(good.markers['code'])}"
        good.markers["code"].append(marker)
        f.write(f"# {marker}\ndef cafe():\n    return 'cr\u00e8me'  # a non-UTF-8 file name\n")
    with open(os.path.join(repo, "src", "blob.py"), "wb") as f:
        f.write(b"\x7fELF\x00\x00\x00" + os.urandom(256))
    with open(os.path.join(repo, "src", "huge.py"), "w") as f:
        f.write("x = 1\n" * (MAX_DOC_BYTES // 6 + 10))
    os.mkfifo(os.path.join(repo, "src", "pipe.py"))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.path.join(repo, "src", "sock.py"))
    os.symlink(os.path.join(outside, "secret.py"), os.path.join(repo, "src", "link.py"))
    os.symlink(outside, os.path.join(repo, "linkdir"))
    os.symlink("loop.py", os.path.join(repo, "src", "loop.py"))
    os.symlink(os.path.join(outside, "repo"), os.path.join(d, "escape"))  # a symlinked repo
    return [sock]


def build(root) -> Hostile:
    root = str(root)
    inp, outside = os.path.join(root, "in"), os.path.join(root, "outside")
    os.makedirs(os.path.join(outside, "repo"))
    for path in (os.path.join(outside, "secret.py"), os.path.join(outside, "repo", "secret.py")):
        with open(path, "w") as f:
            f.write(f"# {SECRET}\nprint('{SECRET}')\n")
    with open(os.path.join(outside, "repo", "LICENSE"), "w") as f:
        f.write(MIT)
    good = _Good()
    _web(os.path.join(inp, "web"), good)
    _books(os.path.join(inp, "books"), good)
    sockets = _code(os.path.join(inp, "repos"), outside, good)
    with open(os.path.join(inp, "sources.yaml"), "w") as f:
        f.write("components:\n"
                "  web: [{format: jsonl, path: 'web/*'}]\n"
                "  books: [{format: parquet, path: 'books/*.parquet', fields: {license: license}}]\n"
                "  code: [{format: code_tree, path: 'repos/*'}]\n")
    with open(os.path.join(inp, "mixture.yaml"), "w") as f:
        f.write("name: hostile\ncomponents:\n"
                "  web: {share: 0.5}\n"
                "  books: {share: 0.2}\n"
                "  code: {share: 0.3, cleaning: {license_filter: true, code_near_dedup: true}}\n")
    reasons = {"invalid_field", "invalid_json", "invalid_utf8", "binary", "empty", "missing_text",
               "too_large", "unreadable", "duplicate_id", "symlink", "special_file"}
    return Hostile(sources=os.path.join(inp, "sources.yaml"),
                   mixture=os.path.join(inp, "mixture.yaml"), outside=outside,
                   good=good.markers, reasons=reasons, sockets=sockets)
