"""Full-document exact dedup (PaLM, section 7: text was de-duplicated on full documents).

Documents of components with ``cleaning.exact_dedup`` (the default) whose normalised text is
identical collapse to one survivor; the others become rejects with reason ``duplicate``,
``duplicate_of`` = the survivor's id and similarity 1.0.

Decisions
---------
* **Normalisation** (``normalisation``): ``none`` (default: byte-identical text, as PaLM says
  "identical"), ``strip`` (leading/trailing whitespace ignored), ``nfc_lower`` (Unicode NFC,
  lowercased, stripped: also catches copies that differ only in case or composed accents).
* **Scope** (``scope``): ``corpus`` (default) dedups across all participating components, because
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

import hashlib
import unicodedata
from typing import Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from mixtures import Mixture
from palmkit.records import Document, Reason, Reject
from pipelines.clean import _UNSET, StageOutput, counter_name, option

STAGE = "exact_dedup"
NORMALISATIONS = ("none", "strip", "nfc_lower")
SCOPES = ("corpus", "component")

#: (rank, id, component, source, record): orders documents for the survivor choice.
Ref = tuple[int, str, str, str, int]


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


def duplicate_reject(doc: Document, survivor_id: str) -> Reject:
    return Reject.of(doc, Reason.DUPLICATE, f"identical text to {survivor_id}",
                     duplicate_of=survivor_id, similarity=1.0)


def _participates(doc: Document, mixture: Mixture) -> bool:
    return mixture.component(doc.component).cleaning.exact_dedup


def _key_ref(doc: Document, *, mixture: Mixture, normalisation: str, scope: str):
    scope_key = doc.component if scope == "component" else ""
    return text_key(doc.text, normalisation=normalisation, scope_key=scope_key), doc_ref(doc, mixture)


class _GroupFn(beam.DoFn):
    def process(self, kv):
        _, refs = kv
        pairs = duplicates_in_group(refs)
        if pairs:
            yield beam.pvalue.TaggedOutput("stats", ("group_size", len(pairs) + 1))
        yield from pairs


class _SplitFn(beam.DoFn):
    def process(self, kv):
        _, joined = kv
        survivors = list(joined["dup"])
        for doc in joined["doc"]:
            yield beam.pvalue.TaggedOutput("stats", ("docs", doc.component, bool(survivors)))
            if not survivors:
                yield doc
                continue
            Metrics.counter(STAGE, counter_name(doc.component, Reason.DUPLICATE)).inc()
            yield beam.pvalue.TaggedOutput("rejects", duplicate_reject(doc, survivors[0]))


def summarise(counts: list) -> tuple[str, dict]:
    """[(stat tuple, n)] -> the stage's manifest entry."""
    per_component: dict[str, dict[str, int]] = {}
    groups, largest = 0, 0
    for item, n in sorted(counts):
        if item[0] == "docs":
            row = per_component.setdefault(item[1], {"docs": 0, "duplicates": 0})
            row["docs"] += n
            row["duplicates"] += n if item[2] else 0
        else:
            groups += n
            largest = max(largest, item[1])
    return STAGE, {"components": per_component, "duplicate_groups": groups, "largest_group": largest}


class ExactDedup(beam.PTransform):
    """Collapse identical documents to one survivor (see the module docstring).

    Built by the corpus job as ``ExactDedup(config, mixture)``; reads
    ``config.exact_dedup_normalisation`` and ``config.exact_dedup_scope`` (defaults ``none``,
    ``corpus``); keywords override them.
    """

    def __init__(self, config=None, mixture: Mixture | None = None, *, normalisation=_UNSET,
                 scope=_UNSET, label: str | None = None):
        super().__init__(label)
        if mixture is None:
            raise TypeError("ExactDedup needs the mixture")
        normalisation = option(config, "exact_dedup_normalisation", normalisation, "none")
        scope = option(config, "exact_dedup_scope", scope, "corpus")
        normalise("", normalisation)  # fail at construction on a bad option
        if scope not in SCOPES:
            raise ValueError(f"unknown exact dedup scope {scope!r}; choose one of {SCOPES}")
        self._mixture, self._normalisation, self._scope = mixture, normalisation, scope

    def expand(self, docs):
        m = self._mixture
        dedup = docs | "Participating" >> beam.Filter(_participates, m)
        passthrough = docs | "NotDeduped" >> beam.Filter(lambda d, mx: not _participates(d, mx), m)
        groups = (
            dedup
            | "KeyByText" >> beam.Map(_key_ref, mixture=m, normalisation=self._normalisation,
                                      scope=self._scope)
            | "GroupByText" >> beam.GroupByKey()
            | "FindDuplicates" >> beam.ParDo(_GroupFn()).with_outputs("stats", main="dups")
        )
        by_ref = dedup | "KeyByRef" >> beam.Map(lambda d, mx: (doc_ref(d, mx), d), m)
        split = (
            {"doc": by_ref, "dup": groups.dups}
            | "JoinDuplicates" >> beam.CoGroupByKey()
            | "Split" >> beam.ParDo(_SplitFn()).with_outputs("rejects", "stats", main="kept")
        )
        stats = (
            (groups.stats, split.stats)
            | "AllStats" >> beam.Flatten()
            | "CountStats" >> beam.combiners.Count.PerElement()
            | "StatList" >> beam.combiners.ToList()
            | "Summarise" >> beam.Map(summarise)
        )
        kept = (passthrough, split.kept) | "Kept" >> beam.Flatten()
        return StageOutput(kept=kept, rejects=split.rejects, stats=stats)
