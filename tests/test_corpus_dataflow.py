"""The corpus job's graph builds for Google Cloud Dataflow, offline (``--dry_run=True``: the
DataflowRunner translates and pickles the whole pipeline into a job but submits nothing).

Needs the ``gcp`` extra (``pip install 'palmkit[gcp]'``); skipped without it. Verified with
apache-beam[gcp]==2.77.0 in a throwaway virtualenv on 2026-11-23 (see docs/dataflow.md)."""

from __future__ import annotations

import pytest

pytest.importorskip("google.cloud.storage", reason="needs the gcp extra: pip install 'palmkit[gcp]'")
pytest.importorskip("apache_beam.runners.dataflow.internal.apiclient")

from pipelines import corpus  # noqa: E402
from pipelines.corpus import CorpusConfig  # noqa: E402
from tests.test_corpus_job import make_corpus  # noqa: E402

DATAFLOW_FLAGS = [
    "--runner=DataflowRunner",
    "--project=palmkit-offline",  # a valid-looking id and bucket: nothing is contacted
    "--region=us-central1",
    "--temp_location=gs://palmkit-offline/tmp",
    "--dry_run=True",
]


def test_dataflow_job_graph_builds_offline(tmp_path):
    sources = make_corpus(tmp_path)
    config = CorpusConfig(sources=sources, output=str(tmp_path / "out"))
    result = corpus.run_pipeline(config, DATAFLOW_FLAGS)
    transforms = result.job.proto_pipeline.components.transforms.values()
    names = {t.unique_name.split("/")[0] for t in transforms}
    assert {"ReadSources", "Validate", "Clean", "WriteClean", "WriteRejects", "Count",
            "WriteManifest"} <= names
    assert not (tmp_path / "out" / "manifest.json").exists()  # nothing ran
