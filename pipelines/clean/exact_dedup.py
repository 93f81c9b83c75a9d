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
  might then drop (losing the text altogether). Ids are unique corpus-wide by the time this
  stage runs (``pipelines.unique_ids`` comes first), so ``(rank, id)`` never ties.
* **Cost**: the text is hashed (blake2b, 128 bits: among 10^12 documents the chance of any false
  match is ~1.5e-15) and the documents are grouped by it once, as ``(rank, id, compressed
  document)`` (``to_wire``; ~60 bytes while a local job spills). The group is read twice as it
  comes (its smallest ``(rank, id)``, then every member), never sorted or copied, so on
  Dataflow, which pages a large group's values in, a million copies of one boilerplate page
  are never held at once. Until 2026-12-03 the stage grouped (key, reference) pairs and joined
  the verdicts back to the documents by reference (a second shuffle): the same bytes moved,
  but the DirectRunner holds each grouping decoded, ~1 KB per element whatever its size, and
  for 200-byte dialogue turns the two groupings cost 8x their text.

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

#: (rank, id): orders documents for the survivor choice (ids are unique corpus-wide by the
#: time this stage runs: ``pipelines.unique_ids`` comes first in the corpus job).
Ref = tuple[int, str]


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
    return (rank, doc.id)


def _ref_of(member: tuple) -> Ref:
    return member[0], member[1]


def _participates(doc: Document, mixture: Mixture) -> bool:
    return mixture.component(doc.component).cleaning.exact_dedup


def _key_member(doc: Document, *, mixture: Mixture,
                options: ExactDedupOptions) -> tuple[bytes, tuple[int, str, bytes]]:
    """(text key, (rank, id, wire bytes of the document)): the text key is per component when
    ``scope`` is ``component``."""
    scope_key = doc.component if options.scope == "component" else ""
    key = text_key(doc.text, normalisation=options.normalisation, scope_key=scope_key)
    return key, (*doc_ref(doc, mixture), to_wire(doc))


def split_group(group: tuple[bytes, Iterable[tuple[int, str, bytes]]]):
    """(text key, [(rank, id, wire)]) -> the member of smallest ref ``(rank, id)`` kept, every
    other one a ``duplicate`` reject naming it, and the group's size as a stat when it has
    duplicates. Two passes over the group (its smallest ref, then every member) and nothing
    kept: a GroupByKey's values are re-iterable, and on Dataflow a large group's are paged
    in, so a group of 10^7 copies costs one member at a time, not a sorted list of them."""
    _, members = group
    survivor = min(members, key=_ref_of, default=None)
    if survivor is None:
        return
    survivor_ref, kept, n = _ref_of(survivor), False, 0
    for member in members:
        doc = from_wire(member[2])
        if not kept and _ref_of(member) == survivor_ref:
            kept = True
            yield stat(("docs", doc.component, False))
            yield doc
            continue
        n += 1
        yield stat(("docs", doc.component, True))
        yield reject(STAGE, doc, Reason.DUPLICATE, f"identical text to {survivor_ref[1]}",
                     duplicate_of=survivor_ref[1], similarity=1.0)
    if n:
        yield stat(("group_size", n + 1))


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
        # One GroupByKey of (text key, (rank, id, wire)): the group is read twice as it
        # comes (its smallest ref, then the rest), so no second join brings the verdicts back
        split = (
            dedup
            | "KeyByText" >> beam.Map(_key_member, mixture=m, options=self._options)
            | "GroupByText" >> beam.GroupByKey()  # (key, [(rank, id, wire)])
            | "Split" >> beam.FlatMap(split_group).with_outputs(REJECTS, STATS, main="kept")
        )
        stats = split[STATS] | "Stats" >> SummariseStats(STAGE, summarise)
        kept = (passthrough, split.kept) | "Kept" >> beam.Flatten()
        return StageOutput(kept=kept, rejects=split[REJECTS], stats=stats)
