"""Per-element logic of the contamination job: units, evaluation examples, the corpus scan.

Pure functions and small DoFn/CombineFn classes; ``pipelines.contamination.job`` only wires
them. Element shapes (what crosses each step) are given where they are made.

The corpus side never holds the corpus's n-grams: a worker scans one corpus file at a time,
computes each document's n-gram hashes in NumPy, keeps only those found in the evaluation
index (a sorted int64 array, the side input: 8 bytes per evaluation n-gram) and emits each
distinct hit once per document, ``(hash, 1)``. On real corpora nearly no n-gram hits, so what
leaves a worker is a few bytes per document (docs/scale.md gives the measured rate).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from palmkit.corpus_files import iter_documents
from palmkit.paths import join
from palmkit.records import DOCUMENT_SCHEMA, Document, Reason, Reject
from pipelines import io, readers
from pipelines.contamination import ngrams
from pipelines.contamination.evalsets import Example, example_text, first_by_id

STAGE = "contamination"
REJECTS_TAG, COUNTS_TAG, FILES_TAG, SCAN_TAG = "rejects", "counts", "files", "scan"
DOC_COLUMNS = tuple(DOCUMENT_SCHEMA.names)


@dataclasses.dataclass(frozen=True)
class UnitSpec:
    """How a text becomes units: words after ``norm``, or tokens of ``vocab`` (raw text: the
    model saw un-normalised tokens, so packed shards cannot be normalised)."""

    unit: str  # "words" | "tokens"
    norm: ngrams.Normalisation
    vocab: str | None = None


class Units:
    """``text -> uint64 unit hashes`` for one ``UnitSpec``; build once per worker (setup)."""

    def __init__(self, spec: UnitSpec):
        self.spec = spec
        if spec.unit == "tokens":
            import tokenizer
            from pipelines.fs import local_copy

            self._tok = tokenizer.load(local_copy(spec.vocab, suffix=".model"), num_threads=1)
        else:
            self._words = ngrams.WordHasher()

    def __call__(self, text: str) -> np.ndarray:
        if self.spec.unit == "tokens":
            return ngrams.token_unit_hashes(self._tok.encode(text))
        return self._words(ngrams.words(text, self.spec.norm))


@dataclasses.dataclass(frozen=True)
class Index:
    """The side input of the corpus scan: sorted distinct int64 gram hashes and the gram
    lengths they were made at (``n``, and the unit counts of shorter examples). With
    ``labels`` (the ``--remove`` index), ``labels[label_of[i]]`` = (set, example id, gram
    length) of the first example (in (set, id) order) holding ``hashes[i]``: 12 bytes per
    hash plus one tuple per example, not a tuple per hash."""

    hashes: np.ndarray
    lengths: tuple[int, ...]
    labels: tuple[tuple[str, str, int], ...] = ()  # distinct, sorted
    label_of: np.ndarray | None = None  # int32: hashes[i] belongs to labels[label_of[i]]
    bits: np.ndarray | None = None  # ngrams.membership_filter(hashes): 4 bytes per hash

    def __post_init__(self):
        if self.bits is None:
            object.__setattr__(self, "bits", ngrams.membership_filter(self.hashes))

    def hits(self, units: np.ndarray) -> np.ndarray:
        return ngrams.hits(units, self.lengths, self.hashes, self.bits)

    @property
    def nbytes(self) -> int:
        """What a worker holds: hashes (8 B), filter (4 B), label numbers (4 B) per hash."""
        extra = 0 if self.label_of is None else self.label_of.nbytes
        return int(self.hashes.nbytes + self.bits.nbytes + extra)


# -- evaluation side -------------------------------------------------------------------------


class ReadExamples(beam.DoFn):
    """A work item of an evaluation set -> ``((set, id), Example)``, or a Reject (REJECTS_TAG)."""

    def __init__(self, units: UnitSpec, text_fields: dict[str, tuple[str, ...]], *, n: int,
                 remove_ngram: int | None):
        self.unit_spec, self.text_fields = units, text_fields
        self.n, self.remove_ngram = n, remove_ngram

    def setup(self):
        self.units = Units(self.unit_spec)

    def process(self, item) -> Iterator[Any]:
        for record in readers.read(item, max_doc_bytes=1 << 20):
            out = to_example(example_text(record, self.text_fields[item.spec.component]),
                             self.units, n=self.n, remove_ngram=self.remove_ngram)
            if isinstance(out, Reject):
                Metrics.counter(STAGE, f"eval.{out.component}.{out.reason}").inc()
                yield beam.pvalue.TaggedOutput(REJECTS_TAG, out)
            else:
                yield (out.set, out.id), out


def to_example(doc: Document | Reject, units: Units, *, n: int,
               remove_ngram: int | None) -> Example | Reject:
    """An evaluation Document -> its hashed Example (a Reject passes through; no units at all
    after normalisation, e.g. only punctuation, is ``empty``)."""
    if isinstance(doc, Reject):
        return doc
    u = units(doc.text)
    if len(u) == 0:
        return Reject.of(doc, Reason.EMPTY, "no words/tokens left after normalisation")
    grams, m = ngrams.example_grams(u, n)
    long, long_len = np.empty(0, dtype=np.int64), 0
    if remove_ngram is not None and len(u) >= n:  # shorter examples never remove a document
        long_len = min(remove_ngram, len(u))
        long = np.unique(ngrams.gram_hashes(u, long_len))
    return Example(set=doc.component, id=doc.id, source=doc.source, record=doc.record,
                   units=len(u), gram_len=m, grams=grams, long_grams=long, long_len=long_len)


def dedupe(element) -> Iterator[Any]:
    """``((set, id), [Example, ...])`` -> ``((set, id), first Example)``; the later ones are
    duplicate_id rejects (REJECTS_TAG)."""
    key, examples = element
    for out in first_by_id(key, examples):
        if isinstance(out, Reject):
            yield beam.pvalue.TaggedOutput(REJECTS_TAG, out)
        else:
            yield (out.set, out.id), out


class BuildIndex(beam.CombineFn):
    """Examples' ``(grams, gram_len)`` -> ``Index`` (sorted distinct hashes): the whole
    evaluation side once, 8 bytes per distinct n-gram (1M examples of ~40 n-grams: ~320 MB,
    docs/scale.md)."""

    def create_accumulator(self):
        return [], set()

    def add_input(self, acc, item):
        grams, length = item
        acc[0].append(grams)
        acc[1].add(length)
        return acc

    def merge_accumulators(self, accs):
        arrays, lengths = [], set()
        for a, ls in accs:
            arrays += a
            lengths |= ls
        return [np.unique(np.concatenate(arrays))] if arrays else [], lengths

    def extract_output(self, acc):
        arrays, lengths = acc
        hashes = np.unique(np.concatenate(arrays)) if arrays else np.empty(0, dtype=np.int64)
        return Index(hashes=hashes.astype(np.int64), lengths=tuple(sorted(lengths)))


def removal_grams(example: Example) -> Iterator[tuple[int, tuple[str, str, int]]]:
    """``Example -> (hash, (set, id, gram length))`` for each of its ``--remove`` grams."""
    for h in example.long_grams.tolist():
        yield h, (example.set, example.id, example.long_len)


class BuildLabelledIndex(beam.CombineFn):
    """``(hash, label)`` pairs (one per hash, the smallest label) -> ``Index`` with labels."""

    def create_accumulator(self):
        return []

    def add_input(self, acc, item):
        acc.append(item)
        return acc

    def merge_accumulators(self, accs):
        return [x for a in accs for x in a]

    def extract_output(self, acc):
        acc.sort()
        labels = tuple(sorted({tuple(lab) for _, lab in acc}))
        number = {lab: i for i, lab in enumerate(labels)}
        return Index(hashes=np.array([h for h, _ in acc], dtype=np.int64),
                     lengths=tuple(sorted({lab[2] for lab in labels})), labels=labels,
                     label_of=np.array([number[tuple(lab)] for _, lab in acc], dtype=np.int32))


# -- corpus side -----------------------------------------------------------------------------


def read_documents(path) -> Iterator[Document]:
    """Every Document of one clean Parquet file, in file order (all columns kept)."""
    with FileSystems.open(path) as f:
        for row in iter_documents(f, columns=DOC_COLUMNS):
            values = dict(zip(DOC_COLUMNS, row))
            values["metadata"] = dict(values["metadata"] or [])
            yield Document(**values)


class ScanFile(beam.DoFn):
    """One clean corpus file -> ``(hash, 1)`` per distinct evaluation n-gram per document
    (main), and with ``--remove``: the file without the documents that share a long n-gram
    with an evaluation example (``("file", rel, FileEntry)`` on FILES_TAG), their Rejects
    (REJECTS_TAG), ``corpus.assemble_counts`` entries (COUNTS_TAG). SCAN_TAG: ``(documents,
    text bytes, hits)`` of the file, for the shuffle-volume numbers in the summary."""

    def __init__(self, units: UnitSpec, *, corpus: str, output: str | None):
        self.unit_spec, self.corpus, self.output = units, corpus, output

    def setup(self):
        self.units = Units(self.unit_spec)

    def process(self, rel: str, index: Index, removal: Index | None = None) -> Iterator[Any]:
        kept, component, docs, nbytes, hit_count = [], rel.split("/")[1], 0, 0, 0
        rejected = 0
        for doc in read_documents(join(self.corpus, rel)):
            docs += 1
            nbytes += doc.nbytes
            u = self.units(doc.text)
            found = index.hits(u)
            hit_count += len(found)
            for h in found.tolist():
                yield h, 1
            if removal is None:
                continue
            why = removal_reason(u, removal)
            if why is None:
                kept.append(doc)
            else:
                rejected += 1
                yield beam.pvalue.TaggedOutput(REJECTS_TAG, Reject.of(doc, Reason.CONTAMINATION,
                                                                      why))
        Metrics.counter(STAGE, "corpus.documents").inc(docs)
        Metrics.counter(STAGE, "corpus.hits").inc(hit_count)
        yield beam.pvalue.TaggedOutput(SCAN_TAG, (docs, nbytes, hit_count))
        if removal is not None and self.output is not None:
            entry = io.write_shard(self.output, rel, io.shard_table(io.CLEAN, kept))
            yield beam.pvalue.TaggedOutput(FILES_TAG, ("file", rel, entry))
            kept_bytes = sum(d.nbytes for d in kept)
            for key, value in ((("read", component), docs), (("kept", component),
                                                             (len(kept), kept_bytes))):
                yield beam.pvalue.TaggedOutput(COUNTS_TAG, ("count", key, value))
            if rejected:
                yield beam.pvalue.TaggedOutput(COUNTS_TAG, (
                    "count", ("rejected", component, Reason.CONTAMINATION), (rejected, 0)))


def removal_reason(units: np.ndarray, removal: Index) -> str | None:
    """Why a document goes (None: it stays): the first evaluation example, in (set, id) order,
    that shares one of its long n-grams."""
    found = removal.hits(units)
    if not len(found):
        return None
    first = int(removal.label_of[np.searchsorted(removal.hashes, found)].min())
    name, example_id, m = removal.labels[first]  # labels are sorted: the smallest index
    more = f" (and {len(found) - 1} more shared n-grams)" if len(found) > 1 else ""
    return f"shares a {m}-gram with {name} example {example_id!r}{more}"


class ScanShard(beam.DoFn):
    """One packed shard (``tokens`` int32 rows, training order) -> ``(hash, 1)`` per distinct
    evaluation n-gram per document: a shard's rows are one stream, cut at ``[eod]``."""

    def __init__(self, *, shards: str, eod_id: int):
        self.shards, self.eod_id = shards, eod_id

    def process(self, rel: str, index: Index) -> Iterator[Any]:
        import pyarrow.parquet as pq

        with FileSystems.open(join(self.shards, rel)) as f:
            column = pq.read_table(f, columns=["tokens"]).column("tokens").combine_chunks()
        stream = column.flatten().to_numpy().astype(np.int64)
        cuts = np.flatnonzero(stream == self.eod_id)
        docs = hit_count = 0
        for segment in np.split(stream, cuts):
            segment = segment[segment != self.eod_id]
            if not len(segment):
                continue
            docs += 1
            found = index.hits(ngrams.token_unit_hashes(segment))
            hit_count += len(found)
            for h in found.tolist():
                yield h, 1
        yield beam.pvalue.TaggedOutput(SCAN_TAG, (docs, 4 * len(stream), hit_count))


# -- the join --------------------------------------------------------------------------------


def example_hits(element) -> Iterator[tuple[tuple[str, str], int]]:
    """``(hash, {"corpus": [docs...], "eval": [(set, id), ...]})`` -> ``((set, id), 1)`` for
    each example holding a hash the corpus has (each example's grams are distinct)."""
    _, grouped = element
    if any(grouped["corpus"]):
        for key in grouped["eval"]:
            yield tuple(key), 1


def example_row(element, *, fraction: float) -> tuple[str, dict]:
    """``((set, id), {"example": [Example], "hits": [n]})`` -> ``(set, row)`` of the output."""
    (name, example_id), grouped = element
    ex = grouped["example"][0]
    hit = sum(grouped["hits"])
    grams = len(ex.grams)
    return name, {"id": example_id, "source": ex.source, "record": ex.record,
                  "units": ex.units, "ngram_len": ex.gram_len, "ngrams": grams, "hits": hit,
                  "overlap": hit / grams if grams else 0.0,
                  "contaminated": ngrams.contaminated(hit, grams, fraction)}
