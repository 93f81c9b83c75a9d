"""Full-document exact dedup (PaLM, section 7: text was de-duplicated on full documents).

Documents of components with ``cleaning.exact_dedup`` (the default) whose normalised text is
identical collapse to one survivor; the others become rejects with reason ``duplicate``,
``duplicate_of`` = the survivor's id and similarity 1.0.

Decisions
---------
* **Normalisation** (``--exact-dedup-normalisation``): ``none`` (default: byte-identical text, as PaLM says
  "identical"), ``strip`` (leading/trailing whitespace ignored), ``nfc_lower`` (Unicode NFC,
  lowercased, stripped: also catches copies that differ only in case or composed accents).
* **Scope** (``--exact-dedup-scope``): ``corpus`` (default) dedups across all participating components, because
  PaLM de-duplicated its training set and a document in two components would be trained on twice
  (once per component share). ``component`` dedups within each component only.
* **Survivor**: the smallest ``(rank, id)``, where rank is 1 for components sampled by quality
  (``cleaning.quality_sampling``) and 0 otherwise. Within a component that is simply the
  smallest id; across components a Wikipedia article copied onto a web page survives as the
  Wikipedia document, which is always kept, instead of as the web copy, which quality sampling
  might then drop (losing the text altogether). Ties on id are broken by component, source, record.
* **Cost**: the text is hashed (blake2b, 128 bits: among 10^12 documents the chance of any false
  match is ~1.5e-15) and only (key, small reference) pairs are grouped, so a group of a million
  copies of one boilerplate page holds ~100 MB of references, not the million texts. The
  duplicates' references are then joined back to the documents by reference (CoGroupByKey), so
  every document is shuffled once with its text; grouping whole documents by key would shuffle
  the same bytes but hold a whole group's texts in one worker's memory.

Stats (``exact_dedup``): documents and duplicates per component, duplicate groups and the
largest group.
"""

from __future__ import annotations

import dataclasses
import hashlib
import typing
import unicodedata
from typing import Iterable, Literal

import apache_beam as beam

from mixtures import Mixture
from palmkit import flags
from palmkit.records import Document, Reason, from_wire, to_wire
from pipelines.stage import (REJECTS, STATS, StageOutput, SummariseStats, reject, require_one_of,
                             stat)

STAGE = "exact_dedup"
Normalisation = Literal["none", "strip", "nfc_lower"]
Scope = Literal["corpus", "component"]
NORMALISATIONS = typing.get_args(Normalisation)
SCOPES = typing.get_args(Scope)

#: (rank, id, component, source, record): orders documents for the survivor choice.
Ref = tuple[int, str, str, str, int]


@dataclasses.dataclass(frozen=True)
class ExactDedupOptions:
    """``ExactDedup``'s options: ``CorpusConfig.exact_dedup``, flags ``--exact-dedup-*``."""

    normalisation: Normalisation = flags.option(
        "none", help="text normalisation before exact dedup: none (byte-identical), strip, "
                     "nfc_lower")
    scope: Scope = flags.option("corpus", help="de-duplicate across components or within each")

    def __post_init__(self):
        require_one_of("--exact-dedup-normalisation", self.normalisation, NORMALISATIONS)
        require_one_of("--exact-dedup-scope", self.scope, SCOPES)


def normalise(text: str, mode: str = "none") -> str:
    if mode == "none":
        return text
    if mode == "strip":
        return text.strip()
    if mode == "nfc_lower":
        return unicodedata.normalize("NFC", text).lower().strip()
    raise ValueError(f"unknown normalisation {mode!r}; choose one of {NORMALISATIONS}")


def text_key(text: str, *, normalisation: str = "none", scope_key: str = "") -> bytes:
    """128-bit blake2b of the normalised text (prefixed by ``scope_key``: the component)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(scope_key.encode("utf-8", "surrogatepass") + b"\x00")
    h.update(normalise(text, normalisation).encode("utf-8", "surrogatepass"))
    return h.digest()


def doc_ref(doc: Document, mixture: Mixture) -> Ref:
    rank = 1 if mixture.component(doc.component).cleaning.quality_sampling else 0
    return (rank, doc.id, doc.component, doc.source, doc.record)


def duplicates_in_group(refs: Iterable[Ref]) -> list[tuple[Ref, str]]:
    """[(duplicate's ref, survivor's id)] for every member except the smallest ref."""
    ordered = sorted(refs)
    survivor = ordered[0][1]
    return [(ref, survivor) for ref in ordered[1:]]


def _participates(doc: Document, mixture: Mixture) -> bool:
    return mixture.component(doc.component).cleaning.exact_dedup


def _key_ref(doc: Document, *, mixture: Mixture, options: ExactDedupOptions) -> tuple[bytes, Ref]:
    """(text key, ref): the text key is per component when ``scope`` is ``component``."""
    scope_key = doc.component if options.scope == "component" else ""
    key = text_key(doc.text, normalisation=options.normalisation, scope_key=scope_key)
    return key, doc_ref(doc, mixture)


def find_duplicates(group: tuple[bytes, Iterable[Ref]]):
    """(text key, [ref]) -> (duplicate's ref, survivor's id) per duplicate, and the group's
    size as a stat."""
    _, refs = group
    pairs = duplicates_in_group(refs)
    if pairs:
        yield stat(("group_size", len(pairs) + 1))
    yield from pairs


def split_duplicates(joined: tuple[Ref, dict[str, list]]):
    """(ref, {doc: [wire bytes of a Document], dup: [survivor id]}) -> the document, kept or
    rejected."""
    _, groups = joined
    survivors = list(groups["dup"])
    for wire in groups["doc"]:
        doc = from_wire(wire)
        yield stat(("docs", doc.component, bool(survivors)))
        if not survivors:
            yield doc
            continue
        yield reject(STAGE, doc, Reason.DUPLICATE, f"identical text to {survivors[0]}",
                     duplicate_of=survivors[0], similarity=1.0)


def summarise(counts: list) -> dict:
    """[(stats key, n)] -> the stage's manifest row: per component docs and duplicates,
    duplicate groups and the largest group."""
    per_component: dict[str, dict[str, int]] = {}
    groups, largest = 0, 0
    for item, n in counts:
        if item[0] == "docs":
            row = per_component.setdefault(item[1], {"docs": 0, "duplicates": 0})
            row["docs"] += n
            row["duplicates"] += n if item[2] else 0
        else:
            groups += n
            largest = max(largest, item[1])
    return {"components": per_component, "duplicate_groups": groups, "largest_group": largest}


class ExactDedup(beam.PTransform):
    """Collapse identical documents to one survivor (see the module docstring).

    Built by the corpus job as ``ExactDedup(config, mixture)``; options: ``config.exact_dedup``
    (``ExactDedupOptions``).
    """

    def __init__(self, config, mixture: Mixture, *, label: str | None = None):
        super().__init__(label)
        if mixture is None:
            raise TypeError("ExactDedup needs the mixture")
        self._mixture, self._options = mixture, config.exact_dedup

    def expand(self, docs):
        m = self._mixture
        dedup = docs | "Participating" >> beam.Filter(_participates, m)
        passthrough = docs | "NotDeduped" >> beam.Filter(lambda d, mx: not _participates(d, mx), m)
        groups = (
            dedup
            | "KeyByText" >> beam.Map(_key_ref, mixture=m, options=self._options)  # (key, ref)
            | "GroupByText" >> beam.GroupByKey()  # (key, [ref])
            | "FindDuplicates" >> beam.FlatMap(find_duplicates).with_outputs(
                STATS, main="dups")  # (duplicate's ref, survivor id)
        )
        # (ref, wire bytes): the join holds compressed documents (palmkit.records.to_wire)
        by_ref = dedup | "KeyByRef" >> beam.Map(lambda d, mx: (doc_ref(d, mx), to_wire(d)), m)
        split = (
            {"doc": by_ref, "dup": groups.dups}
            | "JoinDuplicates" >> beam.CoGroupByKey()  # (ref, {doc: [wire], dup: [survivor id]})
            | "Split" >> beam.FlatMap(split_duplicates).with_outputs(REJECTS, STATS, main="kept")
        )
        stats = ((groups[STATS], split[STATS])
                 | "AllStats" >> beam.Flatten()
                 | "Stats" >> SummariseStats(STAGE, summarise))
        kept = (passthrough, split.kept) | "Kept" >> beam.Flatten()
        return StageOutput(kept=kept, rejects=split[REJECTS], stats=stats)
