"""A user stage that fails inside the pipeline (tests that a failed run keeps the old output)."""

import apache_beam as beam

from pipelines.stage import StageOutput


def _boom(doc):
    raise RuntimeError("stage failed on purpose")


class Boom(beam.PTransform):
    def __init__(self, config, mixture):
        super().__init__()

    def expand(self, docs):
        kept = docs | "Fail" >> beam.Map(_boom)
        return StageOutput(kept=kept, rejects=docs.pipeline | "NoRejects" >> beam.Create([]))
