"""Readers: one work item in, a stream of ``Document | Reject`` out. Pure generators, no Beam
transforms: each call goes to the item's source format (``pipelines.formats.FORMATS``).

A work item is the unit Beam distributes: a JSONL file, one Parquet row group, one repository
directory, or a range of 10,000 TFDS records. ``initial_items`` lists one per matched input at
launch, ``plan`` expands it into the items that are read (Parquet footers and TFDS lengths are
read there, inside the pipeline), ``read`` yields exactly one output per input record: a
``Document`` (validated later) or a ``Reject`` for records that cannot even be parsed. Every
record read therefore shows up exactly once.

Failure policy (the job never crashes on bad data; one bad record rejects that record only);
each format's module gives its own cases (``pipelines/formats/*.py``):

* a field of the wrong type -> ``invalid_field`` naming it and its JSON type
  (``pipelines.formats.records``); a ``text`` that is not a string is validation's
  ``missing_text``;
* a file, row group or range that breaks while it is read -> everything decoded before the
  damage kept, ``unreadable`` rejects for the rest (one for the rest of a JSONL file or TFDS
  range, one per row for Parquet, whose footer gives their number); the manifest's ``read``
  counts outputs;
* a file name that is not valid UTF-8 is read as any other; ``source`` and details write its
  undecodable bytes as ``\\xNN`` (``display_path``) so that Parquet can store them;
* code trees never follow a link or open a FIFO (``pipelines.formats.code_tree``).

Paths go through Beam's ``FileSystems`` (``pipelines.fs``), so gs:// works everywhere.
"""

from __future__ import annotations

from typing import Iterator

from pipelines import formats
from pipelines.formats.base import Output, SourceSpec, WorkItem


def initial_items(specs: list[SourceSpec]) -> list[WorkItem]:
    """One item per matched input (one per TFDS source), to be expanded by ``plan``."""
    return [item for spec in specs for item in formats.get(spec.format).work_items(spec)]


def plan(item: WorkItem) -> Iterator[WorkItem]:
    """Split an input into work items: Parquet by row group, TFDS by ranges of records."""
    return formats.get(item.spec.format).plan(item)


def read(item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
    """Every record of ``item``, each exactly once, as a Document or a Reject."""
    return formats.get(item.spec.format).read(item, max_doc_bytes=max_doc_bytes)


def describe(item: WorkItem) -> str:
    """``item`` in logs: ``web/a.jsonl``, ``stack.parquet row group 3``, ``tfds:x/train[0:10]``."""
    return formats.get(item.spec.format).describe_item(item)


def text_bytes(spec: SourceSpec) -> int:
    """Estimated text bytes of a source at launch, to size the output shards."""
    return formats.get(spec.format).text_bytes(spec)
