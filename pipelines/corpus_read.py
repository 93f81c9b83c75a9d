"""The corpus job's read step: the plan counted at launch (``ReadPlan``), each input's share of
it (``plan_shares``), and ``ReadWorkItem``, which reads one work item (through the resume
cache, ``pipelines.resume``), counts it and logs how far this worker is through the plan.
Wired by ``pipelines.corpus.ReadSources``."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Iterator

import apache_beam as beam
from apache_beam.metrics import Metrics

from palmkit.records import Reject
from pipelines import readers
from pipelines.resume import resume_read
from pipelines.sources import SourceSpec

logger = logging.getLogger("pipelines.corpus")

COUNTS_TAG = "counts"


@dataclasses.dataclass(frozen=True)
class ReadPlan:
    """What the read step has to do, counted at launch: inputs (``readers.initial_items``, one
    per matched file, repository or TFDS source) and their estimated text bytes
    (``readers.text_bytes``: file sizes, compressed ones x4; TFDS an assumed size)."""

    inputs: int
    bytes: int
    #: each source's estimate, in the order of the specs (``shard_plan`` sizes shards from it)
    source_bytes: tuple[int, ...] = ()

    @classmethod
    def of(cls, specs: list[SourceSpec]) -> "ReadPlan":
        """Lists every source's inputs once (a remote listing can take seconds)."""
        sizes = tuple(readers.text_bytes(s) for s in specs)
        return cls(inputs=len(readers.initial_items(specs)), bytes=sum(sizes),
                   source_bytes=sizes)


def input_bytes(item: readers.WorkItem) -> int:
    """The launch estimate of one input's text bytes (summed over inputs: ``ReadPlan.bytes``)."""
    return readers.text_bytes(dataclasses.replace(item.spec, inputs=(item.path,) if item.path
                                                  else ()))


def plan_shares(item: readers.WorkItem) -> Iterator[tuple[readers.WorkItem, float, float]]:
    """An input -> ``(work item, share of the input, share of its estimated bytes)`` for each of
    its work items (Parquet row groups, TFDS ranges: equal shares), for ReadWorkItem's progress.
    Costs one size lookup per input, on the worker that plans it."""
    parts = list(readers.plan(item))
    estimate = input_bytes(item) if parts else 0
    for part in parts:
        yield part, 1 / len(parts), estimate / len(parts)


class ReadWorkItem(beam.DoFn):
    """Read one work item; count and log it. Emits Documents/Rejects, and on COUNTS_TAG one
    ``(component, records)`` per item (cheaper than counting per record).

    Each item's log line says how far this worker is through the whole read (``ReadPlan``):
    inputs and estimated bytes done of those planned at launch, and the percentage of bytes.
    With one worker (DirectRunner's default) the last line says 100%; with several
    (``--direct_running_mode=multi_processing``, Dataflow) each counts only its own items."""

    def __init__(self, max_doc_bytes: int, plan: ReadPlan | None = None,
                 cache: str | None = None):
        self.max_doc_bytes = max_doc_bytes
        self.plan = plan or ReadPlan(inputs=0, bytes=0)
        self.cache = cache  # RUN/.resume (pipelines.resume), or None: no resume

    def setup(self):
        self.items = self.records = 0
        self.inputs_done = self.bytes_done = 0.0

    def process(self, element: tuple[readers.WorkItem, float, float]) -> Iterator[Any]:
        item, input_share, byte_share = element  # from plan_shares
        n = bad = 0
        cached = False
        for out, cached in resume_read(item, max_doc_bytes=self.max_doc_bytes, root=self.cache):
            n += 1
            bad += isinstance(out, Reject)
            yield out
        Metrics.counter("corpus", f"{item.spec.component}.read").inc(n)
        if cached:
            Metrics.counter("corpus", "resume.cached_items").inc()
        self.items += 1
        self.records += n
        self.inputs_done += input_share
        self.bytes_done += byte_share
        logger.info("corpus: read %s%s: %d records (%d rejected while reading); this worker: %s",
                    readers.describe(item), " (from the resume cache)" if cached else "", n, bad,
                    self.progress())
        yield beam.pvalue.TaggedOutput(COUNTS_TAG, (item.spec.component, n))

    def progress(self) -> str:
        """``3 items, 120 records; inputs 2.5/20, bytes 1,234/4,000 (31%)``."""
        plan = self.plan
        done = (self.bytes_done / plan.bytes if plan.bytes
                else self.inputs_done / plan.inputs if plan.inputs else 1.0)
        inputs = round(self.inputs_done, 1)  # row groups and TFDS ranges are input shares
        return (f"{self.items} items, {self.records} records; inputs {inputs:g}/"
                f"{plan.inputs}, bytes {round(self.bytes_done):,d}/{plan.bytes:,d} "
                f"({done:.0%})")
