"""The cleaning-stage contract: how a stage plugs into the corpus job, and what stages share.

A stage is a ``beam.PTransform`` subclass, constructed as ``Stage(config, mixture)`` where
``config`` is the job's ``pipelines.corpus.CorpusConfig`` and ``mixture`` the
``mixtures.Mixture`` in use (per-component rules: ``mixture.component(name).cleaning``,
``.languages``). Its ``expand(docs)`` takes a ``PCollection[Document]`` (validated documents of
every component, in no particular order) and returns a ``StageOutput``:

* ``kept``: ``PCollection[Document]``, flowing on to the next stage and finally to
  ``OUT/clean/<component>/``. A stage may fill fields (``language``, ``quality_score``) but
  must not change ``id``, ``component``, ``source`` or ``record``;
* ``rejects``: ``PCollection[Reject]``, flattened with the validation rejects into
  ``OUT/rejects/``. Use ``reject(stage, doc, reason, detail)``: a ``palmkit.records.Reason``
  keyword, counted as the Beam counter ``<stage>/<component>.<reason>``;
* ``stats``: ``PCollection[tuple[str, dict]]`` or ``None``. Each ``(key, dict)`` lands in
  ``manifest.extra["stages"][key]``; entries with the same key are merged: numbers are summed,
  nested dicts merged recursively, any other value must be equal (else the job fails). So a
  stage may emit per-bundle partial counts, or one combined dict. Keep them small and
  JSON-able (counts, thresholds, histograms with a few dozen buckets). ``SummariseStats``
  turns ``(key, n)`` rows into the one dict.

The job's accounting invariant must survive every stage: *each input document ends in exactly
one of kept or rejects* (never both, never dropped silently). The job checks it for every
component (read = kept + rejected) when it writes the manifest, and fails if it does not hold.

Options. A stage's options are one frozen dataclass in its module (``LangIdOptions``,
``QualityOptions``, ...), each field declared with ``palmkit.flags.option(default, help=...)``:
the field's default is the only place the default is written. ``CorpusConfig`` holds it as a
nested field (``langid: LangIdOptions = flags.nested(LangIdOptions)``), which gives the flags
(``--langid-threshold``) and the manifest's record of it; the stage reads ``config.langid``.
Range checks live in the options class's ``__post_init__`` (``require_*`` below: a
``UserError`` naming the flag). Adding an option is adding one field. A user's stage
(``--stages mymodule:MyStage``) has no options section of its own; it reads the job's fields
(``config.seed``) or is configured in its own module.

Filtering stages. A stage that judges each document on its own subclasses ``FilterStage`` and
writes ``decide(doc) -> (doc, None | (reason, detail))``; the base owns the DoFn, the counter,
the ``Reject`` and the stats row. Stages that group documents (exact and near dedup, quality
sampling, which trains a classifier) write their own ``expand`` with ``reject``, ``stat`` and
``SummariseStats``.

Timings and progress. The job applies each stage through ``MeteredStage``: the records and
text bytes entering it are counted (Beam counters ``timing.<name>/records|bytes`` and the live
console line, ``pipelines/progress.py``), a ``FilterStage``'s ``decide`` also has its thread CPU
time counted, and grouping stages get their time from the runner's per-step execution time, so a
stage's own code needs no hook. ``reject`` also feeds the live line's rejects by reason.

A stage may define ``check_sources(components: set[str])``: the job calls it before the
pipeline starts, so a stage that cannot run on these sources (e.g. quality sampling with no
curated text to train on and no model) fails at once with a message, not hours into a run.

Stages run in the order of ``CorpusConfig.stages`` (classes; ``--stages`` names them as
``"module:Class"``, imported by ``load_stage``, and the manifest records those names), each on
the previous one's ``kept``. Label every step inside ``expand``; keep per-element logic in
module-level functions (testable without Beam).

What the readers already decided (so stages need not re-check): text is a non-empty UTF-8
string without NUL bytes, within the size cap. For the ``code`` component read from code trees,
``programming_language`` is always one of ``pipelines.code_languages.PALM_LANGUAGES`` (other
extensions are rejected at read time) and ``license`` is an SPDX id or ``"unknown"``
(``pipelines.licenses.classify``); code read from JSONL/Parquet carries whatever the export had
(``programming_language`` may be None or another language, ``license`` may be None).
"""

from __future__ import annotations

import importlib
import math
import time
from typing import Any, Callable, Hashable, Iterable, NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from palmkit.errors import UserError
from palmkit.records import Document, Reject
from pipelines import progress

REJECTS, STATS = "rejects", "stats"  # tagged outputs of a stage's DoFns

#: What ``FilterStage.decide`` returns: the document (with any fields the stage fills) and
#: ``None`` to keep it, or ``(Reason keyword, detail)`` to reject it.
Decision = tuple[Document, "tuple[str, str] | None"]


class StageOutput(NamedTuple):
    kept: beam.PCollection  # PCollection[Document]
    rejects: beam.PCollection  # PCollection[Reject]
    stats: beam.PCollection | None = None  # PCollection[tuple[str, dict]]


# -- naming stages -----------------------------------------------------------------------------


def load_stage(dotted: str) -> type:
    """``"pipelines.clean.exact_dedup:ExactDedup"`` -> the class (a ``beam.PTransform``
    subclass); ``ValueError`` naming the stage when there is no such module or class."""
    module_name, _, attr = dotted.strip().partition(":")
    if not attr:
        raise ValueError(f"stage {dotted!r}: expected 'module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and (module_name + ".").startswith(e.name + "."):  # the stage's own module
            raise ValueError(f"stage {dotted!r}: no module named {e.name!r}") from None
        raise  # a module the stage imports is missing: its traceback helps
    cls = getattr(module, attr, None)
    if cls is None:
        raise ValueError(f"stage {dotted!r}: module {module_name} has no {attr!r}")
    if not (isinstance(cls, type) and issubclass(cls, beam.PTransform)):
        raise TypeError(f"stage {dotted!r} is not a beam.PTransform subclass")
    return cls


def stage_name(cls: type) -> str:
    """The class -> ``"module:Class"`` (what ``load_stage`` reads and the manifest records)."""
    return f"{cls.__module__}:{cls.__qualname__}"


# -- option checks (in the options classes' __post_init__) -------------------------------------


def require(ok: bool, flag: str, what: str) -> None:
    """Refuse a value no run can use: a one-line ``UserError`` that names the flag."""
    if not ok:
        raise UserError(f"{flag} {what}")


def require_between(flag: str, value: float, low: float, high: float) -> None:
    require(math.isfinite(value) and low <= value <= high, flag,
            f"must be between {low} and {high}, got {value}")


def require_at_least(flag: str, value: int, low: int = 1) -> None:
    require(value >= low, flag, f"must be >= {low}, got {value}")


def require_positive(flag: str, value: float) -> None:
    require(math.isfinite(value) and value > 0, flag, f"must be a positive number, got {value}")


def require_one_of(flag: str, value: str, choices: Iterable[str]) -> None:
    choices = tuple(choices)
    require(value in choices, flag, f"must be one of {', '.join(choices)}, got {value!r}")


# -- what every stage emits ---------------------------------------------------------------------


def counter_name(component: str, reason: str) -> str:
    """Beam counter name for a rejection: ``<component>.<reason>`` (namespace = stage)."""
    return f"{component}.{reason}"


def reject(stage: str, doc: Document, reason: str, detail: str, **fields: Any):
    """Count a rejection (counter ``<stage>/<component>.<reason>``) and tag the ``Reject`` for
    the stage's rejects output (``fields``: ``duplicate_of``, ``similarity``)."""
    Metrics.counter(stage, counter_name(doc.component, reason)).inc()
    progress.count(stage, f"rejected.{reason}")  # the live console line (pipelines/progress.py)
    return beam.pvalue.TaggedOutput(REJECTS, Reject.of(doc, reason, detail, **fields))


def stat(key: Hashable, n: int = 1):
    """Tag ``(key, n)`` for the stage's stats (summed per key by ``SummariseStats``)."""
    return beam.pvalue.TaggedOutput(STATS, (key, n))


def _stats_row(counts: list, stage: str, summarise: Callable[..., dict], *args, **kwargs):
    return stage, summarise(sorted(counts), *args, **kwargs)


class SummariseStats(beam.PTransform):
    """``(key, n)`` rows -> one ``(stage, summarise([(key, total)], *args, **kwargs))`` row.

    Totals are summed per key and handed over sorted by key; ``args``/``kwargs`` may hold side
    inputs (``beam.pvalue.AsSingleton``). An empty input still gives one row (of ``[]``).
    """

    def __init__(self, stage: str, summarise: Callable[..., dict], *args, **kwargs):
        super().__init__()
        self.stage, self.summarise, self.args, self.kwargs = stage, summarise, args, kwargs

    def expand(self, rows):
        return (
            rows
            | "SumPerKey" >> beam.CombinePerKey(sum)
            | "Gather" >> beam.combiners.ToList()  # [(key, total)]: a few dozen keys
            | "Summarise" >> beam.Map(_stats_row, self.stage, self.summarise,
                                      *self.args, **self.kwargs)
        )


# -- one-method filters ---------------------------------------------------------------------------


class FilterStage(beam.PTransform):
    """A stage that judges each document on its own (datatrove's ``BaseFilter``).

    A subclass sets ``name`` (stats key and counter namespace) and writes ``decide``; it may
    also write ``applies`` (other documents pass untouched and uncounted), ``setup`` (once per
    worker: load a model), and ``stats_key`` + ``summarise`` for its manifest row. Its
    ``__init__(config, mixture)`` reads its options from ``config`` and calls
    ``super().__init__(mixture)``. The stage object itself travels to the workers inside the
    DoFn (without the pipeline it was applied to), so those methods use its attributes.
    """

    name = ""

    def __init__(self, mixture, *, label: str | None = None):
        super().__init__(label)
        if mixture is None:
            raise TypeError(f"{type(self).__name__} needs the mixture")
        self.mixture = mixture

    def applies(self, doc: Document) -> bool:
        return True

    def setup(self) -> None:
        """Once per worker before the first document (e.g. load a model)."""

    def decide(self, doc: Document) -> Decision:
        raise NotImplementedError

    def stats_key(self, doc: Document, why: tuple[str, str] | None) -> Hashable | None:
        """The stats row this decision counts under (None: none)."""
        return None

    def summarise(self, counts: list[tuple[Any, int]]) -> dict:
        """[(stats key, n)] sorted by key -> the manifest row."""
        raise NotImplementedError

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("pipeline", None)  # set when applied; workers need only the options
        return state

    def expand(self, docs):
        out = docs | "Decide" >> beam.ParDo(_DecideFn(self)).with_outputs(REJECTS, STATS,
                                                                           main="kept")
        stats = None
        if type(self).stats_key is not FilterStage.stats_key:
            stats = out[STATS] | "Stats" >> SummariseStats(self.name, self.summarise)
        return StageOutput(kept=out.kept, rejects=out[REJECTS], stats=stats)


class _DecideFn(beam.DoFn):
    """Runs ``decide``; when the job meters the stage (``MeteredStage``), its thread CPU time
    goes to the ``timing.<name>`` counters (``meter``, found by ``progress.attach``)."""

    def __init__(self, stage: FilterStage):
        self.stage = stage
        timing = getattr(stage, "timing_name", None)
        self.meter = progress.Meter(timing) if timing else None
        self.memo_spec = getattr(stage, "memo", None)  # (path, key): set by the job to resume

    def setup(self):
        self.stage.setup()
        if self.meter is not None:
            self.meter.start()
        self.memo = None
        if self.memo_spec is not None:  # decisions of an interrupted run (pipelines/resume.py)
            from pipelines.resume import DecisionMemo

            self.memo = DecisionMemo(*self.memo_spec)

    def finish_bundle(self):
        if self.meter is not None:
            self.meter.flush(force=True)
        if self.memo is not None:
            self.memo.flush()

    def _decide(self, doc: Document):
        if self.memo is None:
            return self.stage.decide(doc)
        found = self.memo.get(doc)
        if found is None:
            found = self.stage.decide(doc)
            self.memo.put(doc, *found)
        return found

    def process(self, doc: Document):
        stage = self.stage
        if not stage.applies(doc):
            yield doc
            return
        if self.meter is None:
            decided, why = self._decide(doc)
        else:
            t0 = time.thread_time()
            decided, why = self._decide(doc)
            self.meter.add(time.thread_time() - t0)
        key = stage.stats_key(decided, why)
        if key is not None:
            yield stat(key)
        if why is None:
            yield decided
        else:
            yield reject(stage.name, decided, *why)


def timing_name(stage: beam.PTransform) -> str:
    """A stage's name in timings and progress: its ``name`` (FilterStage), else its module's
    ``STAGE`` (``exact_dedup``), else the class name."""
    name = getattr(stage, "name", "") or ""
    if not name:
        module = importlib.import_module(type(stage).__module__)
        name = getattr(module, "STAGE", "") or type(stage).__name__
    return name if isinstance(name, str) else type(stage).__name__


class MeteredStage(beam.PTransform):
    """Apply ``stage`` counting the records and text bytes that enter it (``timing.<name>``
    counters and the live progress line); a ``FilterStage`` also has its ``decide`` CPU time
    metered. Stages that group documents get their time from the runner's per-step execution
    time (``pipelines.timings``), so their own code (pipelines/clean/) needs no hook."""

    def __init__(self, stage: beam.PTransform, name: str | None = None):
        super().__init__()
        self.stage, self.name = stage, name or timing_name(stage)

    def expand(self, docs):
        if isinstance(self.stage, FilterStage):
            self.stage.timing_name = self.name  # read by _DecideFn, built in the stage's expand
        counted = docs | "CountIn" >> progress.count_in(self.name)
        return counted | "Run" >> self.stage


def merge_stats(a: dict[str, Any], b: dict[str, Any], *, key: str = "") -> dict[str, Any]:
    """Merge two stats dicts: numbers add, dicts merge, other values must agree."""
    out = dict(a)
    for k, v in b.items():
        if k not in out:
            out[k] = v
        elif isinstance(v, bool) or isinstance(out[k], bool):
            if out[k] != v:
                raise ValueError(f"stage stats {key}.{k}: conflicting values {out[k]!r}, {v!r}")
        elif isinstance(v, (int, float)) and isinstance(out[k], (int, float)):
            out[k] = out[k] + v
        elif isinstance(v, dict) and isinstance(out[k], dict):
            out[k] = merge_stats(out[k], v, key=f"{key}.{k}")
        elif out[k] != v:
            raise ValueError(f"stage stats {key}.{k}: conflicting values {out[k]!r}, {v!r}")
    return out
