"""The corpus job: read -> validate -> cleaning stages -> deterministic Parquet + manifest.

Run it::

    palmkit corpus --sources data/sample/sources.yaml --output out/corpus
    python -m pipelines.corpus --sources SOURCES.yaml --output OUT [Beam flags]

It writes ``OUT/clean/<component>/part-*.parquet`` (``palmkit.records.DOCUMENT_SCHEMA``),
``OUT/rejects/part-*.parquet`` (``REJECT_SCHEMA``) and, last, ``OUT/manifest.json`` (stage
``corpus``: every file's rows/bytes/SHA-256, per component ``read``/``kept``/``rejected``
by reason, the configuration and library versions). One Beam pipeline; DirectRunner by default,
any Beam runner through the usual flags (``--runner=DataflowRunner ...``, see docs/dataflow.md).

Graph::

    work items -> Plan (Parquet row groups, TFDS ranges) -> Reshuffle -> Read -> Validate
      -> UniqueIds -> stage 1 -> ... -> stage n -> WriteClean       \
      rejects of read/validate/stages -> WriteRejects  -> Manifest (written last, in-pipeline)
      counts (read per work item, kept, rejected)      /

Every input record ends in exactly one of clean or rejects; the manifest step checks
``read == kept + sum(rejected)`` per component and fails the job otherwise. Each outcome is also
a Beam counter ``corpus/<component>.<read|kept|reason>``.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # `python -m pipelines.corpus ARGS` is `palmkit corpus ARGS`; handing
    from palmkit import cli  # over before anything is defined loads this file once, not twice

    sys.exit(cli.main(["corpus", *sys.argv[1:]]))

import contextlib
import dataclasses
import functools
import logging
from typing import Any, Iterable, Iterator

import apache_beam as beam
import pyarrow as pa
from apache_beam.options.pipeline_options import PipelineOptions, TestOptions
from apache_beam.runners.runner import PipelineResult, PipelineState

import mixtures
from palmkit import flags
from palmkit.manifest import MANIFEST_NAME, Manifest, join
from palmkit.paths import is_remote
from palmkit import spill
from palmkit.records import Document, Reject, to_wire
from pipelines import io, job_progress, progress, readers, timings
from pipelines import resume
from pipelines.resume import cache_root
from pipelines.beam_options import check_pipeline_args
from pipelines.clean.code_filter import CodeFilter, CodeFilterOptions
from pipelines.clean.exact_dedup import ExactDedup, ExactDedupOptions
from pipelines.clean.heuristics import Heuristics, HeuristicsOptions
from pipelines.clean.langid import LangIdOptions, LanguageId
from pipelines.clean.near_dedup import NearDedup, NearDedupOptions
from pipelines.clean.quality import QualityOptions, QualitySampling
from pipelines.sources import SourceSpec, load_sources
from pipelines.stage import timing_name as progress_name
from pipelines.stage import (FilterStage, MeteredStage, StageOutput, load_stage, require,
                             require_at_least, stage_name)
from pipelines.corpus_manifest import (COLLAPSE_FRACTION, assemble_counts,  # noqa: F401
                                       build_manifest, collapse_warnings, kept_outcome,
                                       reject_outcome, sum_pairs, write_manifest)
from pipelines.corpus_read import (COUNTS_TAG, ReadPlan, ReadWorkItem, input_bytes,  # noqa: F401
                                   plan_shares)
from pipelines.unique_ids import UniqueIds
from pipelines.validate import DEFAULT_MAX_DOC_BYTES, validate

logger = logging.getLogger(__name__)

#: Cleaning stages run by default (see pipelines/stage.py), in this order: cheap per-document
#: filters first (heuristics after language ID, whose label picks the stop words); the license
#: filter before exact dedup (else a permissive file could lose to a byte-identical copy in a
#: GPL repository that is then rejected); near-dedup on what survives
#: exact dedup; quality sampling last, on de-duplicated web pages. Each stage acts only on the
#: components whose mixture rules ask for it.
DEFAULT_STAGES: tuple[type, ...] = (LanguageId, Heuristics, CodeFilter, ExactDedup, NearDedup,
                                     QualitySampling)

REJECTS_TAG = "rejects"
SPILL_DIR = ".spill"  # in the run's folder while a local job runs (palmkit/spill.py)
VERSIONED = ("apache-beam", "pyarrow", "pyyaml", "tensorflow-datasets", "zstandard")


def parse_stages(text: str) -> tuple[type, ...]:
    """``--stages``: comma-separated ``module:Class`` names (``none``: no stage) -> classes."""
    return tuple(load_stage(name) for name in (p.strip() for p in text.split(","))
                 if name and name != "none")


def _stage_list(stages: tuple[type, ...]) -> str:
    return ",".join(map(stage_name, stages)) or "none"


@dataclasses.dataclass(frozen=True)
class CorpusConfig:
    """The corpus job's configuration; every field is a ``palmkit corpus`` flag (its default and
    help are written here once; the stages' own options are their nested dataclasses)."""

    sources: str = flags.option(help="sources YAML file (see pipelines/sources.py)")
    output: str = flags.option(help="output folder or URL (gs://...)")
    mixture: str = flags.option("palm", help="built-in mixture name or YAML file")
    max_doc_bytes: int = flags.option(
        DEFAULT_MAX_DOC_BYTES, help="documents above this many UTF-8 bytes are rejected as "
                                    "too_large")
    num_shards: int | None = flags.option(
        None, help="Parquet shards per component and for rejects (unset: sized per component "
                   "from the input at launch, --shard-bytes of text per shard; one shard is "
                   "sorted in one worker's memory, keep it under ~1 GB)")
    shard_bytes: int = flags.option(io.SHARD_BYTES,
                                    help="without --num-shards: text bytes per shard")
    overwrite: bool = flags.option(False, help="replace an existing corpus in --output")
    resume: bool = flags.option(
        True, help="start from zero instead of continuing an interrupted or failed run of this "
                   "command: by default every input already read is taken from "
                   "OUTPUT/.resume (pipelines/resume.py; deleted after success)")
    stages: tuple[type, ...] = flags.option(
        DEFAULT_STAGES, parse=parse_stages, late=True, metavar="MODULE:CLASS,...",
        show_default=_stage_list, group="cleaning stages",
        help="comma-separated cleaning stages, run in this order; 'none' for read + validate "
             "only")
    seed: int = flags.option(0, group="cleaning stages",
                             help="seed of quality sampling and of its classifier's training")
    langid: LangIdOptions = flags.nested(LangIdOptions, help="language ID (LanguageId)")
    code_filter: CodeFilterOptions = flags.nested(CodeFilterOptions, prefix="",
                                                  help="code license filter (CodeFilter)")
    exact_dedup: ExactDedupOptions = flags.nested(ExactDedupOptions,
                                                  help="exact dedup (ExactDedup)")
    near_dedup: NearDedupOptions = flags.nested(NearDedupOptions, help="near dedup (NearDedup)")
    quality: QualityOptions = flags.nested(QualityOptions,
                                           help="web quality sampling (QualitySampling)")
    heuristics: HeuristicsOptions = flags.nested(
        HeuristicsOptions, help="Gopher heuristic filters (Heuristics; components with "
                                "cleaning: {heuristics: true})")

    def __post_init__(self):
        """Refuse values no run can use, before anything starts (one line each); each stage's
        options check their own fields."""
        require_at_least("--max-doc-bytes", self.max_doc_bytes)
        if self.num_shards is not None:
            require_at_least("--num-shards", self.num_shards)
        require_at_least("--shard-bytes", self.shard_bytes)
        require(all(isinstance(s, type) and issubclass(s, beam.PTransform) for s in self.stages),
                "--stages", f"must be stage classes (beam.PTransform subclasses; "
                f"parse_stages reads 'module:Class' names), got {self.stages!r}")

    def to_manifest(self, mixture: mixtures.Mixture) -> dict[str, Any]:
        """What the manifest records: no output path (moving a corpus must not change it)."""
        recorded = {} if self.mixture in mixtures.BUILTIN else {
            "mixture_definition": mixtures.to_data(mixture)}  # a user's file may move or change
        return {
            "mixture": mixture.name,
            **recorded,
            "max_doc_bytes": self.max_doc_bytes,
            "num_shards": self.num_shards,
            "shard_bytes": self.shard_bytes,
            "stages": [stage_name(s) for s in self.stages],
            "seed": self.seed,
            # each stage's options, nested: {"langid": {"model": None, "threshold": 0.5, ...}}
            **{name: value for name, value in dataclasses.asdict(self).items()
               if isinstance(value, dict)},
        }


# -- per-element functions --------------------------------------------------------------------


def split_valid(record: Document | Reject, *, max_bytes: int) -> Iterator[Any]:
    """Validate Documents; Rejects (from readers or validation) go to REJECTS_TAG."""
    out = record if isinstance(record, Reject) else validate(record, max_bytes=max_bytes)
    if isinstance(out, Reject):
        yield beam.pvalue.TaggedOutput(REJECTS_TAG, out)
    else:
        yield out


def shard_key(record: Document | Reject, *, kind: str, num_shards: dict[str, int]) -> tuple:
    """((group, shard index), (sort key, wire bytes)): the group holds compressed (or, while
    spilling, referenced: ``palmkit.spill``) records, sorted by key without decoding them."""
    group = record.component if kind == io.CLEAN else io.REJECTS
    return ((group, io.shard_of(record.id, num_shards[group])),
            (io.sort_key(kind, record), to_wire(record)))


def write_shard(element: tuple, *, kind: str, output: str, num_shards: dict[str, int]) -> tuple:
    (group, index), keyed_wires = element
    rel = io.shard_path(kind, group, index, num_shards[group])
    spill.release_free_memory()  # before the job's largest allocation (a row group at a time)
    entry = io.write_sorted_shard(output, rel, kind, keyed_wires)
    logger.info("corpus: wrote %s (%d rows, %d bytes)", rel, entry.rows, entry.bytes)
    return ("file", rel, entry)



# -- composite transforms ---------------------------------------------------------------------


class ReadSources(beam.PTransform):
    """Work items -> Documents and Rejects (main) + per-item read counts (COUNTS_TAG)."""

    def __init__(self, specs: list[SourceSpec], *, max_doc_bytes: int, cache: str | None = None,
                 plan: ReadPlan | None = None):
        super().__init__()
        self.specs, self.max_doc_bytes, self.cache = specs, max_doc_bytes, cache
        self.plan = plan or ReadPlan.of(specs)

    def expand(self, pbegin):
        return (
            pbegin
            | "Inputs" >> beam.Create(readers.initial_items(self.specs))
            | "Plan" >> beam.FlatMap(plan_shares)  # (item, input share, bytes share)
            | "Spread" >> beam.Reshuffle()
            | "Read" >> beam.ParDo(progress.Metered(  # CPU, inputs, bytes, records: progress.py
                ReadWorkItem(self.max_doc_bytes, self.plan, cache=self.cache),
                stage="read", measure=progress.read_share, count_out=progress.records_out))
            .with_outputs(COUNTS_TAG, main="records")
        )


class Validate(beam.PTransform):
    """Documents and Rejects -> valid Documents (main) and all Rejects (REJECTS_TAG)."""

    def __init__(self, max_bytes: int):
        super().__init__()
        self.max_bytes = max_bytes

    def expand(self, records):
        metered = progress.Metered(split_valid, stage="validate", measure=progress.doc_size,
                                   count_out=progress.rejects_by_reason)
        return records | "Check" >> beam.ParDo(metered, max_bytes=self.max_bytes).with_outputs(
            REJECTS_TAG, main="docs")


class RunStages(beam.PTransform):
    """Chain the cleaning stages; returns a StageOutput whose rejects/stats are flattened."""

    def __init__(self, stages: list[beam.PTransform]):
        super().__init__()
        self.stages = stages

    def expand(self, docs):
        rejects, stats = [], []
        for i, stage in enumerate(self.stages):
            out = docs | f"Stage{i}_{type(stage).__name__}" >> MeteredStage(stage)
            docs = out.kept
            rejects.append(out.rejects)
            if out.stats is not None:
                stats.append(out.stats)
        pipeline = docs.pipeline
        return StageOutput(
            kept=docs,
            rejects=_flatten(pipeline, rejects, "Rejects"),
            stats=_flatten(pipeline, stats, "Stats"),
        )


def _flatten(pipeline, pcolls: list, label: str):
    if not pcolls:
        return pipeline | f"No{label}" >> beam.Create([])
    return tuple(pcolls) | f"Flatten{label}" >> beam.Flatten()


class WriteShards(beam.PTransform):
    """Records -> one deterministic Parquet file per (group, shard), every shard written;
    emits ``("file", relative_path, FileEntry)``."""

    def __init__(self, *, kind: str, output: str, num_shards: dict[str, int], groups: list[str]):
        super().__init__()
        self.kind, self.output, self.num_shards, self.groups = kind, output, num_shards, groups

    def expand(self, records):
        empty = [((g, i), None) for g in self.groups for i in range(self.num_shards[g])]
        meter = dict(stage=f"write_{self.kind}", flat=False)  # timings: pipelines/progress.py
        keyed = records | "Key" >> beam.ParDo(progress.Metered(
            shard_key, measure=progress.doc_size, **meter), kind=self.kind,
            num_shards=self.num_shards)
        markers = records.pipeline | "EveryShard" >> beam.Create(empty)
        return (
            (keyed, markers)
            | "Merge" >> beam.Flatten()
            | "Group" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(progress.Metered(write_shard, **meter), kind=self.kind,
                                    output=self.output, num_shards=self.num_shards)
        )


class CountOutcomes(beam.PTransform):
    """(read counts, kept docs, rejects) -> ``("count", key, value)`` entries."""

    def expand(self, pcolls):
        read_counts, kept, rejects = pcolls
        read = (read_counts
                | "ReadTotals" >> beam.CombinePerKey(sum)
                | "ReadEntry" >> beam.MapTuple(lambda comp, n: ("count", ("read", comp), n)))
        outcomes = ((kept | "Kept" >> beam.Map(kept_outcome),
                     rejects | "Rejected" >> beam.Map(reject_outcome))
                    | "Outcomes" >> beam.Flatten()
                    | "Totals" >> beam.CombinePerKey(sum_pairs)
                    | "Entry" >> beam.MapTuple(lambda key, v: ("count", key, v)))
        return (read, outcomes) | "All" >> beam.Flatten()


# -- the job ----------------------------------------------------------------------------------


def shard_plan(config: CorpusConfig, specs: list[SourceSpec],
               plan: ReadPlan | None = None) -> dict[str, int]:
    """Shards per component and for rejects, fixed before the pipeline starts (names must be
    known): ``config.num_shards`` for all, or sized from the inputs' bytes at launch."""
    sizes = (plan or ReadPlan.of(specs)).source_bytes  # each format's estimate (TFDS: assumed)
    text_bytes: dict[str, int] = {}
    for spec, n in zip(specs, sizes):
        text_bytes[spec.component] = text_bytes.get(spec.component, 0) + n
    return io.plan_shards(text_bytes, fixed=config.num_shards, shard_bytes=config.shard_bytes)


def build(pipeline: beam.Pipeline, *, config: CorpusConfig, specs: list[SourceSpec],
          mixture: mixtures.Mixture, stages: list[beam.PTransform],
          num_shards: dict[str, int] | None = None, plan: ReadPlan | None = None) -> None:
    """Add the whole corpus job to ``pipeline`` (``num_shards``: default ``shard_plan``;
    ``plan``: the inputs listed at launch, default listed here)."""
    components = sorted({s.component for s in specs})
    plan = plan or ReadPlan.of(specs)
    num_shards = num_shards or shard_plan(config, specs, plan)
    memo = join(cache_root(config.output), "decisions.sqlite")
    for stage in stages:  # pipelines/resume.py: what a rerun reuses
        if isinstance(stage, FilterStage) and config.resume and not is_remote(config.output):
            stage.memo = (memo, resume.stage_fingerprint(stage))
        elif isinstance(stage, QualitySampling):  # its classifiers are files in RUN/.resume
            stage.memo, stage.reuse = cache_root(config.output), config.resume
    read = pipeline | "ReadSources" >> ReadSources(
        specs, max_doc_bytes=config.max_doc_bytes, plan=plan,
        cache=cache_root(config.output) if config.resume else None)
    valid = read.records | "Validate" >> Validate(config.max_doc_bytes)
    unique = valid.docs | "UniqueIds" >> MeteredStage(UniqueIds(), "unique_ids")
    cleaned = unique.docs | "Clean" >> RunStages(stages)
    rejects = ((valid[REJECTS_TAG], unique.rejects, cleaned.rejects)
               | "AllRejects" >> beam.Flatten())
    shards = dict(output=config.output, num_shards=num_shards)
    files_clean = cleaned.kept | "WriteClean" >> WriteShards(kind=io.CLEAN, groups=components,
                                                             **shards)
    files_rej = rejects | "WriteRejects" >> WriteShards(kind=io.REJECTS, groups=[io.REJECTS],
                                                        **shards)
    counts = (read[COUNTS_TAG], cleaned.kept, rejects) | "Count" >> CountOutcomes()
    stats = cleaned.stats | "StatsEntry" >> beam.MapTuple(lambda k, v: ("stats", k, v))
    inputs = {"sources": [s.describe() for s in specs]}
    _ = (
        (files_clean, files_rej, counts, stats)
        | "Report" >> beam.Flatten()
        | "Gather" >> beam.combiners.ToList()
        | "WriteManifest" >> beam.Map(write_manifest, output=config.output,
                                      config={**config.to_manifest(mixture),
                                              "shards": num_shards}, inputs=inputs,
                                      components=components)
    )


@contextlib.contextmanager
def local_memory(run_dir: str):
    """How a job on this machine keeps its memory near its input's size (docs/scale.md): the
    texts that wait at fusion breaks go to ``RUN/.spill`` (``palmkit.spill``), and Arrow
    allocates from malloc, which returns a written row group's memory to the system (its
    default mimalloc pool kept 70-200 MB of them: 278 MB corpus 1,138 -> 1,073 MB peak)."""
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        with spill.enabled(join(run_dir, SPILL_DIR)):
            yield
    finally:
        pa.set_memory_pool(previous)


def log_resume(run_dir: str) -> None:
    """Say at launch what an interrupted run left for this one (``pipelines.resume``)."""
    done = resume.WorkCache(cache_root(run_dir)).keys("read")
    if done:
        logger.info("corpus: resuming: %d work items read by an interrupted run are taken from "
                    "%s (an input changed since then is read again); --no-resume to start "
                    "from zero", len(done), cache_root(run_dir))


def run_pipeline(config: CorpusConfig, pipeline_args: Iterable[str] = (), *,
                 show_progress: bool = False) -> PipelineResult:
    """Check everything that can be checked before starting (mixture vs sources, every input
    path, stages, output folder), then run the pipeline and wait for it."""
    mixture = mixtures.get(config.mixture)
    specs = load_sources(config.sources)
    mixture.check_components({s.component for s in specs}, what=config.sources)
    stages = [stage(config, mixture) for stage in config.stages]
    for stage in stages:  # optional pre-flight check of a stage (see pipelines/stage.py)
        if hasattr(stage, "check_sources"):
            stage.check_sources({s.component for s in specs})
    staging = io.prepare_output(config.output, overwrite=config.overwrite, resume=config.resume)
    if config.resume:
        log_resume(staging)
    logger.info("corpus: %d sources, %d inputs -> %s", len(specs),
                sum(len(s.inputs) or 1 for s in specs), config.output)
    pipeline = beam.Pipeline(options=PipelineOptions(list(pipeline_args)))
    plan = ReadPlan.of(specs)  # once: shard sizes, read progress, the live line
    build(pipeline, config=dataclasses.replace(config, output=staging), specs=specs,
          mixture=mixture, stages=stages, plan=plan)
    render = functools.partial(job_progress.corpus_line, plan_inputs=plan.inputs,
                               plan_bytes=plan.bytes,
                               stage_names=[progress_name(s) for s in stages])
    local = not is_remote(staging)
    with local_memory(staging) if local else contextlib.nullcontext():
        result, timing = job_progress.run(pipeline, render=render, pipeline_args=pipeline_args,
                                          stages=job_progress.corpus_stages(stages),
                                          show=show_progress)
        if local:
            logger.info("corpus: %.1f MB of texts waited on disk (%s)",
                        spill.folder_bytes(join(staging, SPILL_DIR)) / 1e6, SPILL_DIR)
    if result.state == PipelineState.DONE:
        timings.add_to_manifest(staging, timing)
    if result.state == PipelineState.DONE:
        resume.finish(staging)
    if result.state == PipelineState.DONE and staging != config.output:
        written = Manifest.from_json(io.read_text(join(staging, MANIFEST_NAME)))
        io.publish(config.output, staging, files=written.outputs)
    return result


def main(config: CorpusConfig, pipeline_args: Iterable[str] = (), *,
         progress: bool = False) -> Manifest | None:
    """Run the job; return its manifest (None for remote outputs and ``--dry_run``: read a remote
    manifest with ``Manifest.from_json``). ``progress``: draw the live line (the CLI, unless
    ``--quiet``)."""
    pipeline_args = list(pipeline_args)
    check_pipeline_args(pipeline_args, job="corpus", own_flags=list(flags.flag_names(CorpusConfig)))
    result = run_pipeline(config, pipeline_args, show_progress=progress)
    if result.state != PipelineState.DONE:
        raise RuntimeError(f"corpus pipeline ended in state {result.state}")
    dry_run = PipelineOptions(pipeline_args).view_as(TestOptions).dry_run
    if is_remote(config.output) or dry_run:
        return None
    return Manifest.read(config.output, stage="corpus")

