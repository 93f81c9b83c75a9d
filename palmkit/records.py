"""The one definition of every record and file format palmkit reads or writes.

Both sides import this module: the Beam jobs in `pipelines/` write these records and the
trainer in `trainer/` reads the packed ones. It depends only on pyarrow (never on Beam or
JAX), so it is safe everywhere.

Formats
-------
* ``Document``: one cleaned document, written to ``OUT/clean/<component>/*.parquet``.
* ``Reject``: one record that did not survive, with a stable ``reason`` keyword, written to
  ``OUT/rejects/*.parquet``. Every input record ends in exactly one of the two.
* Packed examples: rows of exactly ``seq_len`` token ids in a ``tokens`` column, written to
  ``SHARDS/shard-XXXXX-of-YYYYY.parquet`` in training order; what their manifest promises the
  trainer (sequence length, vocabulary, ``[eod]`` id, shards) is ``palmkit.contracts``.

Token ids are int32 everywhere: PaLM's 256,000-piece vocabulary does not fit in 16 bits,
and int32 is what JAX and NumPy index with. ``TOKEN_DTYPE`` is the one place that says so.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Iterable

import pyarrow as pa

#: Token ids are stored and computed as int32 (256k vocabulary > 2**16).
TOKEN_DTYPE = "int32"
TOKEN_ARROW_TYPE = pa.int32()

#: The six components of PaLM's mixture (Table 2). A mixture may declare others.
PALM_COMPONENTS = ("dialogue", "web", "books", "code", "wikipedia", "news")

#: Undetermined language (ISO 639-3 "und"), used when language ID is not confident.
UNDETERMINED = "und"


@dataclasses.dataclass(slots=True)
class Document:
    """One document of the corpus.

    ``id`` is stable: the source's own id when it has one, else ``<source>:<record>``
    hashed (see ``make_id``), so re-running a job gives the same ids.
    """

    id: str
    text: str
    component: str
    source: str  # file the record came from (local path or URL such as gs://...)
    record: int  # line number (JSONL, 1-based), row index (Parquet, TFDS) or 0 (one file)
    language: str | None = None  # fastText label, e.g. "en", or UNDETERMINED
    language_score: float | None = None
    quality_score: float | None = None  # web quality classifier probability of "curated"
    # Code metadata (None for text components).
    path: str | None = None  # file path inside its repository
    repo: str | None = None
    license: str | None = None  # SPDX id, or "unknown"
    programming_language: str | None = None

    def to_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def nbytes(self) -> int:
        return len(self.text.encode("utf-8"))


DOCUMENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("component", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("record", pa.int64(), nullable=False),
        pa.field("language", pa.string()),
        pa.field("language_score", pa.float32()),
        pa.field("quality_score", pa.float32()),
        pa.field("path", pa.string()),
        pa.field("repo", pa.string()),
        pa.field("license", pa.string()),
        pa.field("programming_language", pa.string()),
    ]
)


class Reason:
    """Stable reject-reason keywords. They are Beam counter names and stats rows: never rename."""

    INVALID_JSON = "invalid_json"
    INVALID_UTF8 = "invalid_utf8"
    MISSING_TEXT = "missing_text"  # no text field, or not a string
    EMPTY = "empty"  # empty or whitespace-only
    TOO_LARGE = "too_large"  # over the configured size cap
    BINARY = "binary"  # NUL bytes or other binary content
    UNREADABLE = "unreadable"  # a file that cannot be opened or decompressed
    LANGUAGE = "language"  # not a language the component accepts
    QUALITY = "quality"  # not drawn by score-proportional sampling
    DUPLICATE = "duplicate"  # identical text to the survivor
    NEAR_DUPLICATE = "near_duplicate"  # Levenshtein near-duplicate of the survivor
    LICENSE = "license"  # copyleft or (if configured) unknown license
    PROGRAMMING_LANGUAGE = "programming_language"  # not one of PaLM's 24 languages
    INVALID_FIELD = "invalid_field"  # a metadata field (id, license, path, ...) of a wrong type
    DUPLICATE_ID = "duplicate_id"  # a later record with the id of an earlier one
    SYMLINK = "symlink"  # a code-tree entry that is a symbolic link (never followed)
    SPECIAL_FILE = "special_file"  # a FIFO, socket or device in a code tree (never opened)

    ALL = (
        INVALID_JSON,
        INVALID_UTF8,
        MISSING_TEXT,
        EMPTY,
        TOO_LARGE,
        BINARY,
        UNREADABLE,
        LANGUAGE,
        QUALITY,
        DUPLICATE,
        NEAR_DUPLICATE,
        LICENSE,
        PROGRAMMING_LANGUAGE,
        INVALID_FIELD,
        DUPLICATE_ID,
        SYMLINK,
        SPECIAL_FILE,
    )

#: A reject keeps at most this many UTF-8 bytes of the offending text (a prefix): enough to
#: judge a rule by eye, and a 30 MB broken JSON line or a decompression bomb costs 64 KiB.
REJECT_TEXT_BYTES = 64 << 10


def text_prefix(text: str | None, limit: int = REJECT_TEXT_BYTES) -> str | None:
    """``text`` cut to at most ``limit`` UTF-8 bytes, at a character boundary."""
    if text is None or len(text) * 4 <= limit:  # at most 4 bytes per character: no encode
        return text
    data = text.encode("utf-8", errors="surrogatepass")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


@dataclasses.dataclass(slots=True)
class Reject:
    """A record that did not survive, and why.

    ``detail`` is for people and always names the file and line/record; ``reason`` is for
    machines. ``text`` keeps what could be decoded (None when nothing could), at most
    ``REJECT_TEXT_BYTES`` of it (a prefix), so rejects can be inspected.
    """

    id: str
    component: str
    reason: str
    detail: str
    source: str
    record: int
    text: str | None = None
    duplicate_of: str | None = None
    similarity: float | None = None

    def __post_init__(self):
        self.text = text_prefix(self.text)

    def to_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def of(
        cls,
        doc: Document,
        reason: str,
        detail: str,
        *,
        duplicate_of: str | None = None,
        similarity: float | None = None,
    ) -> "Reject":
        """Reject a parsed document, naming its file and record in the detail."""
        return cls(
            id=doc.id,
            component=doc.component,
            reason=reason,
            detail=f"{doc.source}:{doc.record}: {detail}",
            source=doc.source,
            record=doc.record,
            text=doc.text,
            duplicate_of=duplicate_of,
            similarity=similarity,
        )


REJECT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("component", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("record", pa.int64(), nullable=False),
        pa.field("text", pa.string()),
        pa.field("duplicate_of", pa.string()),
        pa.field("similarity", pa.float32()),
    ]
)


def packed_schema(seq_len: int) -> pa.Schema:
    """Schema of packed training shards: one row per example of exactly ``seq_len`` ids."""
    return pa.schema(
        [pa.field("tokens", pa.list_(TOKEN_ARROW_TYPE, seq_len), nullable=False)],
        metadata={b"seq_len": str(seq_len).encode()},
    )


def make_id(source: str, record: int) -> str:
    """Deterministic id for a record that has none: a hash of its file and position.

    80 bits (20 hex digits) keep ids short whatever the path length; among 10^9 documents
    the chance of any collision is about 4e-7 (n^2 / 2^81).
    """
    digest = hashlib.blake2b(f"{source}\x00{record}".encode(), digest_size=10).hexdigest()
    return digest


def documents_to_table(docs: Iterable[Document]) -> pa.Table:
    return pa.Table.from_pylist([d.to_row() for d in docs], schema=DOCUMENT_SCHEMA)


def rejects_to_table(rejects: Iterable[Reject]) -> pa.Table:
    return pa.Table.from_pylist([r.to_row() for r in rejects], schema=REJECT_SCHEMA)
