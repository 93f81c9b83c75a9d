"""Every document id is unique: a later record with an earlier record's id is a ``duplicate_id``
reject.

Ids are the join key of exact and near dedup (and of the pack job's sampling), so two records
that share one would silently share a fate. Ids the readers make (``make_id(source, record)``)
are unique by construction; only ids taken from the records themselves can collide (two files
numbering their records from 0, one dataset listed twice). Policy: among the records with the
same id, the one first in ``(source, record)`` order keeps it (files in path order, then line or
row); each later one is rejected with reason ``duplicate_id``, its detail naming the keeper.
Nothing is renamed, so the ids users see are their own.

Cost: only documents whose id came from the record are shuffled, as ``(id, (source, record))``
(no text); the ids that are duplicated, usually few, reach the filter as a side input.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import apache_beam as beam

from palmkit.records import Document, Reason, Reject, make_id

Origin = tuple[str, int]  # (source, record)


def has_record_id(doc: Document) -> bool:
    """True when the id was taken from the record (only those can collide)."""
    return doc.id != make_id(doc.source, doc.record)


def keeper(origins: Iterable[Origin]) -> tuple[Origin, int] | None:
    """``(first origin, number of records)`` for an id held by more than one record."""
    origins = sorted(origins)
    return (origins[0], len(origins)) if len(origins) > 1 else None


def first_holders(kv: tuple[str, Iterable[Origin]]) -> Iterator[tuple[str, Origin]]:
    doc_id, origins = kv
    found = keeper(origins)
    if found is not None:
        yield doc_id, found[0]


def split_duplicate(doc: Document, holders: dict[str, Origin]) -> Iterator[Document | Reject]:
    """``doc`` itself, or a ``duplicate_id`` reject when an earlier record holds its id."""
    first = holders.get(doc.id)
    if first is None or first == (doc.source, doc.record):
        yield doc
        return
    yield beam.pvalue.TaggedOutput(
        "rejects", Reject.of(doc, Reason.DUPLICATE_ID,
                             f"id {doc.id!r} is already the id of {first[0]}:{first[1]}",
                             duplicate_of=doc.id))


class UniqueIds(beam.PTransform):
    """Documents -> documents with unique ids (main) and ``duplicate_id`` rejects ("rejects")."""

    def expand(self, docs):
        holders = (
            docs
            | "WithRecordIds" >> beam.Filter(has_record_id)
            | "IdOrigin" >> beam.Map(lambda d: (d.id, (d.source, d.record)))
            | "GroupById" >> beam.GroupByKey()
            | "FirstHolders" >> beam.FlatMap(first_holders)
        )
        return docs | "Split" >> beam.FlatMap(
            split_duplicate, beam.pvalue.AsDict(holders)).with_outputs("rejects", main="docs")
