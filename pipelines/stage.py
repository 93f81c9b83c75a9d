"""The cleaning-stage contract: how a stage plugs into the corpus job.

A stage is a ``beam.PTransform`` subclass, constructed as ``Stage(config, mixture)`` where
``config`` is the job's ``pipelines.corpus.CorpusConfig`` and ``mixture`` the
``mixtures.Mixture`` in use (per-component rules: ``mixture.component(name).cleaning``,
``.languages``). Its ``expand(docs)`` takes a ``PCollection[Document]`` (validated documents of
every component, in no particular order) and returns a ``StageOutput``:

* ``kept``: ``PCollection[Document]``, flowing on to the next stage and finally to
  ``OUT/clean/<component>/``. A stage may fill fields (``language``, ``quality_score``) but
  must not change ``id``, ``component``, ``source`` or ``record``;
* ``rejects``: ``PCollection[Reject]``, flattened with the validation rejects into
  ``OUT/rejects/``. Use a ``palmkit.records.Reason`` keyword (``Reject.of(doc, reason, detail)``);
* ``stats``: ``PCollection[tuple[str, dict]]`` or ``None``. Each ``(key, dict)`` lands in
  ``manifest.extra["stages"][key]``; entries with the same key are merged: numbers are summed,
  nested dicts merged recursively, any other value must be equal (else the job fails). So a
  stage may emit per-bundle partial counts, or one combined dict. Keep them small and
  JSON-able (counts, thresholds, histograms with a few dozen buckets).

The job's accounting invariant must survive every stage: *each input document ends in exactly
one of kept or rejects* (never both, never dropped silently). The job checks it for every
component (read = kept + rejected) when it writes the manifest, and fails if it does not hold.

A stage may define ``check_sources(components: set[str])``: the job calls it before the
pipeline starts, so a stage that cannot run on these sources (e.g. quality sampling with no
curated text to train on and no model) fails at once with a message, not hours into a run.

Stages run in the order of ``CorpusConfig.stages`` (dotted paths ``"module:Class"``, imported
by ``load_stage``), each on the previous one's ``kept``. Label every step inside ``expand``;
keep per-element logic in module-level functions (testable without Beam).

What the readers already decided (so stages need not re-check): text is a non-empty UTF-8
string without NUL bytes, within the size cap. For the ``code`` component read from code trees,
``programming_language`` is always one of ``pipelines.code_languages.PALM_LANGUAGES`` (other
extensions are rejected at read time) and ``license`` is an SPDX id or ``"unknown"``
(``pipelines.licenses.classify``); code read from JSONL/Parquet carries whatever the export had
(``programming_language`` may be None or another language, ``license`` may be None).
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import apache_beam as beam


class StageOutput(NamedTuple):
    kept: beam.PCollection  # PCollection[Document]
    rejects: beam.PCollection  # PCollection[Reject]
    stats: beam.PCollection | None = None  # PCollection[tuple[str, dict]]


def load_stage(dotted: str) -> type:
    """``"pipelines.clean.dedup:ExactDedup"`` -> the class (a ``beam.PTransform`` subclass)."""
    module_name, _, attr = dotted.partition(":")
    if not attr:
        raise ValueError(f"stage {dotted!r}: expected 'module:Class'")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, beam.PTransform)):
        raise TypeError(f"stage {dotted!r} is not a beam.PTransform subclass")
    return cls


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
