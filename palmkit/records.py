"""The one definition of every record and file format palmkit reads or writes.

Both sides import this module: the Beam jobs in `pipelines/` write these records and the
trainer in `trainer/` reads the packed ones. It depends only on pyarrow (never on Beam or
JAX), so it is safe everywhere.

Formats
-------
* ``Document``: one cleaned document, written to ``OUT/clean/<component>/*.parquet``. Its
  ``metadata`` column (``map<string, string>``, empty by default) carries record fields a
  sources entry keeps (``keep: [url, date, dump]``) or a format sets (WARC url/date).
* ``Reject``: one record that did not survive, with a stable ``reason`` keyword, written to
  ``OUT/rejects/*.parquet``. Every input record ends in exactly one of the two.
* Packed examples: rows of exactly ``seq_len`` token ids in a ``tokens`` column, written to
  ``SHARDS/shard-XXXXX-of-YYYYY.parquet`` in training order; what their manifest promises the
  trainer (sequence length, vocabulary, ``[eod]`` id, shards) is ``palmkit.contracts``. Beside
  each shard, ``components-XXXXX-of-YYYYY.parquet`` says which mixture component each document
  piece of each row came from (``COMPONENTS_SCHEMA``).

Token ids are int32 everywhere: PaLM's 256,000-piece vocabulary does not fit in 16 bits,
and int32 is what JAX and NumPy index with. ``TOKEN_DTYPE`` is the one place that says so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import zlib
from typing import Any, Iterable

import pyarrow as pa

from palmkit import spill

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
    # The next-best language and its probability (langid), so a user can re-threshold.
    language_runner_up: str | None = None
    language_runner_up_score: float | None = None
    quality_score: float | None = None  # web quality classifier probability of "curated"
    # Code metadata (None for text components).
    path: str | None = None  # file path inside its repository
    repo: str | None = None
    license: str | None = None  # SPDX id, or "unknown"
    programming_language: str | None = None
    # Fields kept from the source record (sources key ``keep``, or set by a format: a WARC's
    # url/date), string -> string; a value that is not a string is JSON-encoded. Written as a
    # Parquet map column; a reader gets it back as a list of (key, value) pairs.
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def nbytes(self) -> int:
        return len(self.text.encode("utf-8"))

    def __reduce__(self):
        """Pickled (Beam's coder for values of any type) with the text zlib-compressed at level
        1: shuffles and the DirectRunner's buffers hold 2.3-3.8x fewer bytes per document (man
        pages 2.3x, code 3.3-3.8x), for ~9 s of CPU per GB compressed and ~4 s per GB
        decompressed on a loaded core (docs/benchmarks.md ``## Corpus memory``). While a local
        corpus job runs, the compressed text goes to its spill file and only a reference is
        pickled (``palmkit.spill``)."""
        values = tuple(getattr(self, f.name) for f in dataclasses.fields(self))
        text = self.text  # not yet validated: may be of any type (then pickled as it is)
        if isinstance(text, str):
            return _packed_text(Document, 1, values)
        return Document, values


def _packed_text(cls: type, index: int, values: tuple) -> tuple:
    """``__reduce__`` of a record whose field ``index`` is a str: compressed, maybe spilled."""
    packed = zlib.compress(values[index].encode("utf-8", "surrogatepass"), 1)
    rest = values[:index] + values[index + 1:]
    ref = spill.put(packed)
    if ref is not None:
        return _unspill_record, (cls, index, ref, rest)
    return _unpack_record, (cls, index, packed, rest)


def _unpack_record(cls: type, index: int, packed: bytes, rest: tuple):
    text = zlib.decompress(packed).decode("utf-8", "surrogatepass")
    return cls(*rest[:index], text, *rest[index:])


def _unspill_record(cls: type, index: int, ref: spill.Ref, rest: tuple):
    return _unpack_record(cls, index, spill.get(ref), rest)


def _unpickle_document(packed: bytes, values: tuple) -> Document:
    """Pickles written before ``_packed_text`` (resume caches of an older palmkit)."""
    return Document(values[0], zlib.decompress(packed).decode("utf-8", "surrogatepass"), *values[1:])


def to_wire(record: Any) -> bytes:
    """A record as bytes, for values grouped by a shuffle (``from_wire`` reverses it). The
    DirectRunner keeps a GroupByKey's input as decoded Python values until the group runs;
    as bytes (text zlib-compressed by ``Document.__reduce__``, or spilled) the same documents
    take ~3x (spilled: ~60 bytes each) less memory there, and decoding happens one group at
    a time. Valid only within the job (a spilled text dies with it): see ``stored_wire``."""
    return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)


def stored_wire(record: Any) -> bytes:
    """``to_wire`` with the text inline, for bytes that outlive the job (the resume cache)."""
    with spill.inline():
        return to_wire(record)


def from_wire(data: bytes) -> Any:
    return pickle.loads(data)


DOCUMENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("component", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("record", pa.int64(), nullable=False),
        pa.field("language", pa.string()),
        pa.field("language_score", pa.float32()),
        pa.field("language_runner_up", pa.string()),
        pa.field("language_runner_up_score", pa.float32()),
        pa.field("quality_score", pa.float32()),
        pa.field("path", pa.string()),
        pa.field("repo", pa.string()),
        pa.field("license", pa.string()),
        pa.field("programming_language", pa.string()),
        pa.field("metadata", pa.map_(pa.string(), pa.string())),
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
    # Web archives (pipelines/formats/wet.py, warc.py):
    NOT_HTML = "not_html"  # a WARC response whose Content-Type is not HTML/XHTML
    HTTP_STATUS = "http_status"  # a WARC response whose HTTP status is not 200
    TRUNCATED = "truncated"  # WARC-Truncated, or the file ends inside the record
    MALFORMED_RECORD = "malformed_record"  # a WARC header block that cannot be parsed
    # Gopher heuristic filters (pipelines/clean/heuristics.py; the detail holds the value):
    HEURISTIC_WORD_COUNT = "heuristic_word_count"  # fewer than 50 or more than 100,000 words
    HEURISTIC_WORD_LENGTH = "heuristic_word_length"  # mean word length outside [3, 10]
    HEURISTIC_SYMBOL_RATIO = "heuristic_symbol_ratio"  # "#" and ellipses per word > 0.1
    HEURISTIC_BULLET_LINES = "heuristic_bullet_lines"  # > 90% of lines start with a bullet
    HEURISTIC_ELLIPSIS_LINES = "heuristic_ellipsis_lines"  # > 30% of lines end with an ellipsis
    HEURISTIC_ALPHA_WORDS = "heuristic_alpha_words"  # < 80% of words contain a letter
    HEURISTIC_STOP_WORDS = "heuristic_stop_words"  # fewer than 2 stop words (languages with a list)
    HEURISTIC_DUPLICATE_LINES = "heuristic_duplicate_lines"  # repeated lines
    HEURISTIC_DUPLICATE_PARAGRAPHS = "heuristic_duplicate_paragraphs"  # repeated paragraphs
    HEURISTIC_TOP_NGRAM = "heuristic_top_ngram"  # one 2/3/4-gram covers too many characters
    HEURISTIC_DUPLICATE_NGRAM = "heuristic_duplicate_ngram"  # repeated 5..10-grams cover too many
    # C4's page rules (pipelines/clean/c4_rules.py; its line rules drop lines, not pages)
    HEURISTIC_C4_LOREM_IPSUM = "heuristic_c4_lorem_ipsum"  # "lorem ipsum" on the page
    HEURISTIC_C4_CURLY_BRACE = "heuristic_c4_curly_brace"  # a "{" (code or templates)
    HEURISTIC_C4_SENTENCES = "heuristic_c4_sentences"  # fewer than 3 sentences left
    # Decontamination (pipelines/contamination; the detail names the benchmark and example):
    CONTAMINATION = "contamination"  # shares a --remove-ngram n-gram with an evaluation example

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
        NOT_HTML,
        HTTP_STATUS,
        TRUNCATED,
        MALFORMED_RECORD,
        HEURISTIC_WORD_COUNT,
        HEURISTIC_WORD_LENGTH,
        HEURISTIC_SYMBOL_RATIO,
        HEURISTIC_BULLET_LINES,
        HEURISTIC_ELLIPSIS_LINES,
        HEURISTIC_ALPHA_WORDS,
        HEURISTIC_STOP_WORDS,
        HEURISTIC_DUPLICATE_LINES,
        HEURISTIC_DUPLICATE_PARAGRAPHS,
        HEURISTIC_TOP_NGRAM,
        HEURISTIC_DUPLICATE_NGRAM,
        HEURISTIC_C4_LOREM_IPSUM,
        HEURISTIC_C4_CURLY_BRACE,
        HEURISTIC_C4_SENTENCES,
        CONTAMINATION,
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

    def __reduce__(self):
        """Like ``Document.__reduce__``: the text compressed, spilled while a local job runs."""
        values = tuple(getattr(self, f.name) for f in dataclasses.fields(self))
        if isinstance(self.text, str):
            return _packed_text(Reject, 6, values)
        return Reject, values

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


#: Optional per-token columns of packed shards (``palmkit pack --segment-ids``), int32 like
#: ``tokens``: ``segment_ids`` (1-based document index within the row; an ``[eod]`` belongs to
#: the document it ends) and ``positions`` (index within that segment, from 0). See
#: ``pipelines.packing.segment_ids``.
SEGMENT_COLUMNS = ("segment_ids", "positions")


def packed_schema(seq_len: int, *, segment_ids: bool = False) -> pa.Schema:
    """Schema of packed training shards: one row per example of exactly ``seq_len`` ids, plus
    ``SEGMENT_COLUMNS`` of the same shape when ``segment_ids``."""
    names = ("tokens",) + (SEGMENT_COLUMNS if segment_ids else ())
    return pa.schema(
        [pa.field(n, pa.list_(TOKEN_ARROW_TYPE, seq_len), nullable=False) for n in names],
        metadata={b"seq_len": str(seq_len).encode()},
    )


#: The component-sidecar of a packed shard (``components-XXXXX-of-YYYYY.parquet`` beside
#: ``shard-XXXXX-of-YYYYY.{parquet,array_record}``, in both formats, so the token files keep their
#: exact shape): one row per example, in the shard's row order, and one column ``components``:
#: ``list<int16>``, one entry per *segment* of the row, in order. A segment is what
#: ``pipelines.packing.segment_ids`` numbers: one document piece within the row (the first may
#: continue the previous row's document; an ``[eod]`` belongs to the document it ends), so
#: ``components[segment_ids - 1]`` is each token's component. An entry is an index into the pack
#: manifest's ``extra.components`` (``contracts.PackedDataSpec.components``, ordered), or
#: ``NO_COMPONENT`` for the shard's leading ``[eod]`` (it ends no document of this shard). Named
#: ``components-*`` rather than ``shard-*``: globs of token files (``shard-*.parquet``, the
#: MaxText recipe's ``grain_train_files``) never match a sidecar. Listed in the manifest's files
#: with its rows and SHA-256 like a shard.
COMPONENTS_COLUMN = "components"
NO_COMPONENT = -1
COMPONENTS_SCHEMA = pa.schema([pa.field(COMPONENTS_COLUMN, pa.list_(
    pa.field("item", pa.int16(), nullable=False)), nullable=False)])
COMPONENTS_PREFIX = "components-"


def components_name(shard_name: str) -> str:
    """The sidecar beside a shard: ``shard-00003-of-00008.parquet`` (or ``.array_record``) ->
    ``components-00003-of-00008.parquet``."""
    stem = shard_name.split(".", 1)[0]
    if not stem.startswith("shard-"):
        raise ValueError(f"{shard_name!r} is not a packed shard name")
    return f"{COMPONENTS_PREFIX}{stem[len('shard-'):]}.parquet"


def is_components_name(name: str) -> bool:
    return name.startswith(COMPONENTS_PREFIX) and name.endswith(".parquet")


def components_table(rows) -> pa.Table:
    """``COMPONENTS_SCHEMA`` table of per-row lists of component indices."""
    return pa.Table.from_arrays([pa.array(rows, type=COMPONENTS_SCHEMA.field(0).type)],
                                schema=COMPONENTS_SCHEMA)


#: Packed shard formats: Parquet (``packed_schema``, the default) or ArrayRecord, one record per
#: example (``example_record``), for readers built on ``grain.sources.ArrayRecordDataSource``.
PACKED_FORMATS = ("parquet", "array_record")


def example_record(rows) -> bytes:
    """One ArrayRecord record: the example's columns (``tokens``, then ``SEGMENT_COLUMNS`` when
    written) concatenated, each ``seq_len`` int32 little-endian: ``np.frombuffer(record,
    "<i4").reshape(-1, seq_len)`` gives them back, row 0 the tokens."""
    return b"".join(r.astype("<i4", copy=False).tobytes() for r in rows)


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
