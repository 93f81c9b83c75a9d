"""Run one cleaning stage in a real Beam pipeline and read back everything it produced.

Outputs go through files (not a Python list) so the same helper works with
``direct_running_mode="multi_processing"``, where DoFns run in other processes.
"""

from __future__ import annotations

import glob
import json
import os

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline

from palmkit.records import Document, make_id
from pipelines.corpus import CorpusConfig


def job_config(**fields) -> CorpusConfig:
    """A corpus job config as stages receive it (``Stage(config, mixture)``); ``fields`` set
    stage options, e.g. ``langid=LangIdOptions(threshold=0.8)``. The paths are never read."""
    return CorpusConfig(sources="sources.yaml", output="out", **fields)


def doc(component: str, text: str, i: int, **fields) -> Document:
    source = fields.pop("source", f"{component}.jsonl")
    return Document(id=fields.pop("id", make_id(source, i)), text=text, component=component,
                    source=source, record=i, **fields)


def _write(pcoll, label: str, folder: str) -> None:
    (pcoll
     | f"{label}Json" >> beam.Map(lambda x: json.dumps(x if isinstance(x, tuple) else x.to_row(),
                                                      sort_keys=True))
     | f"{label}Write" >> beam.io.WriteToText(os.path.join(folder, label)))


def _read(folder: str, label: str) -> list:
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, f"{label}-*"))):
        with open(path, encoding="utf-8") as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def run_stage(stage, docs: list[Document], folder, *, workers: int = 1) -> dict:
    """{"kept": [rows], "rejects": [rows], "stats": {key: dict}, "counters": {name: n}}."""
    folder = str(folder)
    options = (PipelineOptions(direct_num_workers=workers, direct_running_mode="multi_processing")
               if workers > 1 else PipelineOptions())
    p = TestPipeline(options=options)
    out = p | "Docs" >> beam.Create(docs) | "Stage" >> stage
    _write(out.kept, "kept", folder)
    _write(out.rejects, "rejects", folder)
    if out.stats is not None:
        _write(out.stats, "stats", folder)
    result = p.run()
    result.wait_until_finish()
    counters = {
        f"{c.key.metric.namespace}/{c.key.metric.name}": c.committed
        for c in result.metrics().query(MetricsFilter())["counters"]
    }
    return {
        "kept": _read(folder, "kept"),
        "rejects": _read(folder, "rejects"),
        "stats": dict(_read(folder, "stats")),
        "counters": counters,
    }
