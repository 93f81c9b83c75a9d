"""fastText model files walked in Python before fastText loads them.

Split out of ``pipelines/clean/langid.py`` (which re-exports ``fasttext_problem``): the
language-ID and quality stages both check their model files with it before the pipeline starts,
and ``langid.check_fasttext_model`` loads a file only after this walk accepts it.
"""

from __future__ import annotations

import errno
import mmap
import os
import stat
import struct

# -- model files: checked before anything loads them ------------------------------------------
#
# fastText's loader trusts the file: measured with fasttext-numpy2 0.10.4 on copies of
# lid.176.ftz truncated inside the dictionary, load_model reads past the end of the file
# (it waits for a word's NUL byte that never comes) and grew to std::bad_alloc after ~8 s and
# several GB; truncated inside a matrix it may fail, and truncated by 13 bytes (938,000 of
# 938,013) it *loads* and predicts from garbage. So a model file is walked first, in Python,
# field by field through fastText's format (header, dictionary, input and output matrices,
# dense or product-quantized) without reading the matrices: every count must fit in the file
# and the model must end exactly at the end of the file. Only then does fastText see it, once,
# in a child process under a time and memory limit (a corrupt count inside the limits would
# otherwise still hang or kill the job), before the pipeline starts.

FASTTEXT_MAGIC = 793712314  # int32 little-endian at offset 0 of every fastText model
FASTTEXT_VERSIONS = (11, 12)  # what fastText 0.9+ writes (12) and still reads (11)
_HEADER = struct.Struct("<ii12id")  # magic, version, dim ws epoch minCount neg wordNgrams
#                                     loss model bucket minn maxn lrUpdateRate, t
_DICT = struct.Struct("<iiiqq")  # size, nwords, nlabels, ntokens, pruneidx_size
_DENSE = struct.Struct("<qq")  # rows, columns; then rows * columns float32
_QUANT = struct.Struct("<?qqi")  # qnorm, rows, columns, codesize; then codes, product quantizer
_PQ = struct.Struct("<iiii")  # dim, nsubq, dsub, lastdsub; then dim * 256 float32 centroids
_SUPERVISED = 3


class _Truncated(Exception):
    pass


class _Reader:
    """Bounds-checked reads from a buffer: nothing is read past its end."""

    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def skip(self, n: int, part: str) -> None:
        if self.pos + n > len(self.buf):
            raise _Truncated(f"the file ends inside its {part} (needs at least {self.pos + n} "
                            f"bytes)")
        self.pos += n

    def unpack(self, fmt: struct.Struct, part: str) -> tuple:
        self.skip(fmt.size, part)
        return fmt.unpack_from(self.buf, self.pos - fmt.size)


def _skip_matrix(r: _Reader, *, quantized: bool, rows: int, dim: int, part: str) -> None:
    if not quantized:
        m, n = r.unpack(_DENSE, part)
        if (m, n) != (rows, dim):
            raise ValueError(f"{part} is {m} x {n}, the header says {rows} x {dim}")
        r.skip(m * n * 4, part)
        return
    qnorm, m, n, codesize = r.unpack(_QUANT, part)
    if (m, n) != (rows, dim) or codesize < 0:
        raise ValueError(f"quantized {part} is {m} x {n}, the header says {rows} x {dim}")
    r.skip(codesize, part)
    for pq_dim in (dim, 1) if qnorm else (dim,):  # the norms have their own 1-d quantizer
        d = r.unpack(_PQ, part)[0]
        if d != pq_dim:
            raise ValueError(f"{part}'s quantizer has dimension {d}, expected {pq_dim}")
        r.skip(d * 256 * 4, part)
        if qnorm and pq_dim == dim:
            r.skip(m, part)  # one norm code per row, before the norm quantizer


def _walk_fasttext(buf) -> int:
    """Walk a fastText classifier's layout; its end offset. Raises ``_Truncated``/ValueError."""
    r = _Reader(buf)
    magic, version, dim, _ws, _ep, _mc, _neg, word_ngrams, loss, model, bucket, minn, maxn, *_ = (
        r.unpack(_HEADER, "header"))
    if magic != FASTTEXT_MAGIC:
        raise ValueError("no fastText magic number in its first 4 bytes")
    if version not in FASTTEXT_VERSIONS:
        raise ValueError(f"fastText format version {version}, readable: {FASTTEXT_VERSIONS}")
    if model != _SUPERVISED:
        raise ValueError("a word-vector model, not a classifier (fastText supervised)")
    # n-grams are hashed modulo ``bucket``: fastText writes bucket 0 only when it has none
    if not (0 < dim <= 1 << 16 and 1 <= loss <= 4 and bucket >= 0 and 0 <= minn
            and 0 <= maxn <= 1024 and (bucket > 0 or (maxn == 0 and word_ngrams <= 1))):
        raise ValueError(f"implausible header (dim {dim}, loss {loss}, bucket {bucket}, "
                         f"n-grams {minn}-{maxn})")
    size, nwords, nlabels, _ntokens, pruned = r.unpack(_DICT, "dictionary")
    if min(nwords, nlabels) < 0 or size != nwords + nlabels or nlabels == 0 or pruned < -1:
        raise ValueError(f"implausible dictionary ({nwords} words, {nlabels} labels, "
                         f"{size} entries)")
    r.skip(10 * size, "dictionary")  # each entry is at least NUL + int64 count + int8 type
    pos, labels = r.pos - 10 * size, 0
    for _ in range(size):
        end = buf.find(b"\0", pos)
        if end < 0 or end + 10 > len(buf):
            raise _Truncated("the file ends inside its dictionary")
        kind = buf[end + 9]
        if kind not in (0, 1):
            raise ValueError(f"dictionary entry at byte {pos} has type {kind}")
        labels += kind
        pos = end + 10
    if labels != nlabels:
        raise ValueError(f"dictionary has {labels} labels, its header says {nlabels}")
    r.pos = pos
    r.skip(8 * max(pruned, 0), "dictionary")
    quantized = r.unpack(struct.Struct("<?"), "input matrix")[0]
    rows = nwords + (bucket if pruned < 0 else pruned)
    _skip_matrix(r, quantized=quantized, rows=rows, dim=dim, part="input matrix")
    qout = r.unpack(struct.Struct("<?"), "output matrix")[0]
    _skip_matrix(r, quantized=quantized and qout, rows=nlabels, dim=dim, part="output matrix")
    return r.pos


def fasttext_problem(path: str) -> str | None:
    """Why ``path`` is not a complete fastText classifier file (None: it is one).

    Cheap (no matrix is read; the dictionary is scanned at ~0.2 us per entry) and never blocks:
    the file must exist and be a regular file before it is opened (a FIFO would block).
    """
    try:
        st = os.stat(path)
    except OSError as e:
        return "not found" if e.errno == errno.ENOENT else f"cannot be read: {e.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return "is a directory, not a model file" if stat.S_ISDIR(st.st_mode) else \
            "is not a regular file"
    if st.st_size < _HEADER.size:
        return f"not a fastText model: {st.st_size} bytes, shorter than fastText's header"
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            end = _walk_fasttext(buf)
    except _Truncated as e:
        return f"truncated or corrupt: {st.st_size} bytes, {e}"
    except ValueError as e:
        return f"not a fastText classifier ({e})"
    except OSError as e:
        return f"cannot be read: {e.strerror or e}"
    if end != st.st_size:
        return f"not a fastText model file: {st.st_size - end} bytes after the end of the model"
    return None
