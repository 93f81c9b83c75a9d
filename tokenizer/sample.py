"""Draw the vocabulary's training sample from a cleaned ``palmkit corpus`` folder.

Two streaming passes over ``OUT/clean/<component>/*.parquet`` (record batches; only the ``id``,
``text`` and ``language`` columns are read, never the whole corpus as Python objects):

1. ``scan``: documents and UTF-8 bytes per (component, language).
2. ``iter_chunks``: keep each document with a probability fixed per (component, language) by
   ``plan``, decided by a keyed hash of ``(seed, document id)``. The choice therefore depends on
   the seed and the id only: not on file order, sharding or batch size.

``plan`` gives each component ``sample_bytes × share`` (shares of the mixture renormalised over the
components present; a component with too little text gives all it has and the shortfall is
reported, not redistributed, so the sample never over-represents a component). Inside a component
language ``l`` gets a share proportional to ``bytes_l ** (1 / language_temperature)`` (a language
with less text than its share gives all it has and the rest goes to the others of the component):
temperature 1 keeps the natural distribution, larger values flatten it (e.g. 3 is common in
multilingual vocabularies; 77.98% English in PaLM would drop to about 40% of a two-language
component at T = 3 against a 20% language). A small held-out slice (disjoint from training, by the
same hash) measures compression after training.

Documents become SentencePiece "sentences" of at most ``chunk_bytes`` bytes, cut at line ends
(a line longer than that is cut at a UTF-8 boundary), so multi-line pieces (``"):\\n"``,
indentation) can be learned and no sentence is silently dropped by ``max_sentence_length``.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import struct
from typing import Iterator, Mapping

import pyarrow.compute as pc
import pyarrow.parquet as pq

from palmkit.corpus_files import clean_files
from palmkit.manifest import Manifest, ManifestError
from palmkit.paths import join
from palmkit.records import UNDETERMINED

Key = tuple[str, str]  # (component, language)
BATCH_ROWS = 2048


def component_files(manifest: Manifest, corpus: str) -> dict[str, list[str]]:
    """``clean/<component>/*.parquet`` files listed in a corpus manifest, by component (paths)."""
    files = {c: [join(corpus, rel) for rel in rels] for c, rels in clean_files(manifest).items()}
    if not files:
        raise ManifestError(f"{corpus}: the manifest lists no clean/<component>/*.parquet files")
    return files


def batches(path: str, columns: list[str]):
    yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=columns)


def _language(value) -> str:
    return value or UNDETERMINED


def scan(files: Mapping[str, list[str]]) -> dict[Key, tuple[int, int]]:
    """(documents, UTF-8 bytes) per (component, language), reading lengths in Arrow."""
    sizes: dict[Key, list[int]] = collections.defaultdict(lambda: [0, 0])
    for component, paths in files.items():
        for path in paths:
            for batch in batches(path, ["text", "language"]):
                nbytes = pc.binary_length(batch.column("text")).to_pylist()
                for lang, n in zip(batch.column("language").to_pylist(), nbytes):
                    entry = sizes[(component, _language(lang))]
                    entry[0] += 1
                    entry[1] += n
    return {k: (v[0], v[1]) for k, v in sorted(sizes.items())}


@dataclasses.dataclass(frozen=True)
class Rate:
    heldout: float  # P(document is held out)
    train: float  # P(document is trained on | not held out)
    wanted_bytes: float  # training bytes asked for (for the shortfall report)


def plan(
    sizes: Mapping[Key, tuple[int, int]],
    shares: Mapping[str, float],
    *,
    sample_bytes: int,
    language_temperature: float = 1.0,
    heldout_bytes: int = 0,
) -> dict[Key, Rate]:
    """Keep-probabilities per (component, language); see the module docstring."""
    by_comp: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for (comp, lang), (_, nbytes) in sizes.items():
        if shares.get(comp, 0.0) > 0 and nbytes > 0:
            by_comp[comp][lang] = nbytes
    total_share = sum(shares[c] for c in by_comp)
    rates = {}
    for comp, langs in by_comp.items():
        weights = {lang: b ** (1.0 / language_temperature) for lang, b in langs.items()}
        wanted = _water_fill(sample_bytes * shares[comp] / total_share, weights, langs)
        for lang, available in langs.items():
            held = min(0.2, heldout_bytes * wanted[lang] / sample_bytes / available)
            train = min(1.0, wanted[lang] / (available * (1.0 - held)))
            rates[(comp, lang)] = Rate(heldout=held, train=train, wanted_bytes=wanted[lang])
    return rates


def _water_fill(quota: float, weights: dict[str, float], available: dict[str, int]) -> dict[str, float]:
    """Split ``quota`` by ``weights``; a language with too little text gives all it has and its
    unused quota goes to the others (in proportion to their weights)."""
    wanted: dict[str, float] = {}
    open_ = dict(weights)
    while open_:
        norm = sum(open_.values())
        full = [lang for lang, w in open_.items() if quota * w / norm >= available[lang]]
        if not full:
            wanted.update({lang: quota * w / norm for lang, w in open_.items()})
            break
        for lang in full:
            wanted[lang] = float(available[lang])
            quota -= available[lang]
            del open_[lang]
    return wanted


def uniform(seed: int, doc_id: str) -> float:
    """A number in [0, 1) fixed by (seed, id): 53 bits of BLAKE2b."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8, key=struct.pack("<q", seed))
    return (int.from_bytes(digest.digest(), "little") >> 11) / float(1 << 53)


def chunk_text(text: str, max_bytes: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes, at line ends if possible."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return [text]
    chunks: list[str] = []
    current: list[bytes] = []
    size = 0
    for line in data.splitlines(keepends=True):
        if size + len(line) > max_bytes and current:
            chunks.append(b"".join(current).decode("utf-8"))
            current, size = [], 0
        while len(line) > max_bytes:  # one over-long line: cut at a character boundary
            cut = max_bytes
            while line[cut] & 0xC0 == 0x80:
                cut -= 1
            chunks.append(line[:cut].decode("utf-8"))
            line = line[cut:]
        current.append(line)
        size += len(line)
    if current:
        chunks.append(b"".join(current).decode("utf-8"))
    return chunks


@dataclasses.dataclass
class SampleStats:
    """What went into the sample, filled while SentencePiece consumes ``iter_chunks``."""

    docs: dict[Key, int] = dataclasses.field(default_factory=lambda: collections.Counter())
    bytes: dict[Key, int] = dataclasses.field(default_factory=lambda: collections.Counter())
    chunks: int = 0
    docs_split: int = 0  # documents longer than chunk_bytes, fed as several sentences
    heldout: dict[Key, list[str]] = dataclasses.field(
        default_factory=lambda: collections.defaultdict(list)
    )

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes.values())


def iter_chunks(
    files: Mapping[str, list[str]],
    rates: Mapping[Key, Rate],
    *,
    seed: int,
    chunk_bytes: int,
    stats: SampleStats,
) -> Iterator[str]:
    """Training sentences of the sample; held-out documents go to ``stats.heldout``."""
    for component, paths in sorted(files.items()):
        for path in paths:
            for batch in batches(path, ["id", "text", "language"]):
                columns = (batch.column(n).to_pylist() for n in ("id", "text", "language"))
                for doc_id, text, lang in zip(*columns):
                    key = (component, _language(lang))
                    rate = rates.get(key)
                    if rate is None or not text:
                        continue
                    u = uniform(seed, doc_id)
                    if u < rate.heldout:
                        stats.heldout[key].append(text)
                        continue
                    if (u - rate.heldout) / (1.0 - rate.heldout) >= rate.train:
                        continue
                    chunks = chunk_text(text, chunk_bytes)
                    stats.docs[key] += 1
                    stats.bytes[key] += len(text.encode("utf-8"))  # chunks keep every byte
                    stats.chunks += len(chunks)
                    stats.docs_split += len(chunks) > 1
                    yield from chunks
