"""Lines of a (compressed) JSONL file in bounded memory, keeping everything before any damage.

Used by ``pipelines.formats.jsonl``; pure generators over an open binary file, no Beam.

* Decompression is streamed in chunks of at most ``CHUNK`` decoded bytes (``.gz``: gzip members,
  ``.zst``: zstd frames, chosen by extension), and every complete line is yielded as soon as it is
  decoded. When the stream breaks (corrupt data, a file cut short) the exception is raised only
  after every line decoded before the damage was yielded: as much as ``gzip -dc``/``zstd -dc``
  recover (zstd: inside a corrupt frame at most one 64 KiB output chunk before the bad block is
  lost; the CLI loses up to 128 KiB). A partial line before the damage is not yielded: it
  belongs to the unreadable rest.
* zstd frames are decompressed one by one (``_ZstdFrames`` follows the frame and block
  headers as the compressed bytes pass, a few integer operations per block), so a damaged frame
  never costs the end of the intact one before it, and a file that ends inside a frame (a
  truncated download) is an error too: ``python-zstandard`` alone reports nothing then.
* A line longer than ``max_line_bytes`` is never held in memory: it is counted while it is
  skipped and yielded as ``LongLine(nbytes)``; reading continues with the next line.
* A UTF-8 byte-order mark at the start of the (decompressed) file is dropped.

Lines are yielded without their ``\\n``; blank lines are yielded too (line numbers must count
them).
"""

from __future__ import annotations

import dataclasses
import gzip
from typing import BinaryIO, Iterable, Iterator

CHUNK = 1 << 16  # decoded bytes per read: what a corrupt zstd block can cost at most
ZSTD_READ = 1 << 16  # compressed bytes per read of the underlying file
BOM = b"\xef\xbb\xbf"
ZSTD_MAGIC = 0xFD2FB528
SKIPPABLE = range(0x184D2A50, 0x184D2A60)


@dataclasses.dataclass(frozen=True)
class LongLine:
    """A line over the cap: only its length (without the newline) was kept."""

    nbytes: int


def read_lines(f: BinaryIO, path: str, *, max_line_bytes: int) -> Iterator[bytes | LongLine]:
    """Lines of the open binary file ``f``, decompressed by the extension of ``path``."""
    first = True
    for line in split_lines(decoded_chunks(f, path), max_line_bytes):
        if first and isinstance(line, bytes) and line.startswith(BOM):
            line = line[len(BOM):]
        first = False
        yield line


def decoded_chunks(f: BinaryIO, path: str) -> Iterator[bytes]:
    """Decoded bytes of ``f`` in chunks of at most ``CHUNK``; raises where the stream breaks."""
    if path.endswith(".gz"):
        gz = gzip.GzipFile(fileobj=f, mode="rb")
        while chunk := gz.read1(CHUNK):  # one decompression step a call: nothing decoded is lost
            yield chunk
    elif path.endswith(".zst"):
        import zstandard

        frames, dctx = _ZstdFrames(f), zstandard.ZstdDecompressor()
        while True:  # one reader per frame (across frames only if the splitting stopped)
            reader = dctx.stream_reader(frames, read_size=ZSTD_READ, read_across_frames=True,
                                        closefd=False)
            while chunk := reader.read(CHUNK):
                yield chunk
            if frames.truncated():
                raise EOFError("zstd data ends inside a frame (the file is truncated)")
            if not frames.next_frame():
                break
    else:
        while chunk := f.read(CHUNK * 16):
            yield chunk


def split_lines(chunks: Iterable[bytes], max_line_bytes: int) -> Iterator[bytes | LongLine]:
    """Split a byte stream at ``\\n``; a line over ``max_line_bytes`` is counted, not kept."""
    parts: list[bytes] = []  # the current line so far, while it is under the cap
    size = 0  # its length so far
    long = False  # over the cap: counted only
    for chunk in chunks:
        pieces = chunk.split(b"\n")
        last = len(pieces) - 1
        for i, piece in enumerate(pieces):
            size += len(piece)
            if not long:
                if size > max_line_bytes:
                    long, parts = True, []
                else:
                    parts.append(piece)
            if i < last:
                yield LongLine(size) if long else parts[0] if len(parts) == 1 else b"".join(parts)
                parts, size, long = [], 0, False
    if size:  # a last line without newline
        yield LongLine(size) if long else b"".join(parts)


class _ZstdFrames:
    """A zstd file as a sequence of frames: ``read`` returns the bytes of the current frame
    only (b"" at its end), ``next_frame`` starts the next one. Each frame gets a decompressor
    of its own, so that a corrupt frame cannot take the end of the previous one with it, and
    ``truncated`` tells a file that ends inside a frame (the decompressor does not).

    Follows the format (RFC 8878): frame = magic, header, blocks (3-byte header: last-block bit,
    type, size; an RLE block holds one byte), optional 4-byte checksum; skippable frames carry
    their size. Anything it does not recognise ends the splitting: the rest of the file goes to
    the current decompressor, which reports it.
    """

    def __init__(self, raw: BinaryIO):
        self.raw, self.pending, self.eof = raw, b"", False
        self.next_frame()

    def next_frame(self) -> bool:
        """Start the next frame; False at the end of the file."""
        self.want, self.head, self.skip, self.checksum = "magic", b"", 0, False
        self.started = self.done = False
        if not self.pending and not self.eof:
            self.pending = self.raw.read(ZSTD_READ)
            self.eof = not self.pending
        return bool(self.pending)

    def read(self, n: int) -> bytes:
        if self.done:
            return b""
        if self.pending:
            data, self.pending = self.pending[:n], self.pending[n:]
        elif self.eof or not (data := self.raw.read(n)):
            self.eof = True
            return b""
        end = self._parse(data)
        if end is not None and end < len(data):
            self.pending, data = data[end:] + self.pending, data[:end]
        return data

    def truncated(self) -> bool:
        """After the current frame's bytes ran out: did the file end inside it?"""
        return not self.done and self.want != "unknown" and (self.started or bool(self.head))

    def _parse(self, data: bytes) -> int | None:
        """Follow ``data``; the position where the current frame ends, if it does."""
        pos = 0
        while self.want != "unknown":
            if self.started and self.want == "magic" and not self.skip:
                self.done = True
                return pos
            if pos >= len(data):
                return None
            if self.skip:
                step = min(self.skip, len(data) - pos)
                self.skip -= step
                pos += step
                continue
            need = {"magic": 4, "size": 4, "descriptor": 1, "block": 3}[self.want]
            step = min(need - len(self.head), len(data) - pos)
            self.head += data[pos:pos + step]
            pos += step
            if len(self.head) == need:
                value, self.head = int.from_bytes(self.head, "little"), b""
                self._parsed(value)
        return None

    def _parsed(self, value: int) -> None:
        if self.want == "magic":
            self.want = ("descriptor" if value == ZSTD_MAGIC else
                         "size" if value in SKIPPABLE else "unknown")
            self.started = True
        elif self.want == "size":  # skippable frame
            self.want, self.skip = "magic", value
        elif self.want == "descriptor":
            single = value >> 5 & 1
            self.checksum = bool(value >> 2 & 1)
            self.skip = ((0 if single else 1) + (0, 1, 2, 4)[value & 3]
                         + (single, 2, 4, 8)[value >> 6])
            self.want = "block"
        else:  # block header
            last, kind, size = value & 1, value >> 1 & 3, value >> 3
            if kind == 3:  # reserved: corrupt
                self.want = "unknown"
                return
            self.skip = 1 if kind == 1 else size
            if last:
                self.skip += 4 if self.checksum else 0
                self.want = "magic"
