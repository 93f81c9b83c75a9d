"""Read + validate throughput of the corpus job (MB of document text per second per core).

    nice python benchmarks/bench_corpus_read.py --target-mb 200

Builds a scaled-up corpus in --workdir by replicating data/sample's JSONL/Parquet files (under
new names, so ids differ) until the compressed inputs hold ~--target-mb of text, then measures:

1. ``python``: the pure readers + validate loop in one process (the per-core ceiling);
2. ``beam``: ``ReadSources | Validate`` on the DirectRunner (FnApiRunner, one worker), counting
   valid bytes in-pipeline, so Beam's per-element cost (pickling through Reshuffle, bundles) is in.

Figures are MB of UTF-8 document text (uncompressed) per second of wall time, per core used.
Results are recorded in docs/benchmarks.md, section "Corpus: read + validate".
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from palmkit.records import Document  # noqa: E402
from pipelines import beam_fixes, readers  # noqa: E402
from pipelines.corpus import ReadSources, Validate  # noqa: E402
from pipelines.sources import load_sources  # noqa: E402
from pipelines.validate import DEFAULT_MAX_DOC_BYTES, validate  # noqa: E402

SAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "sample")
FORMATS = {"dialogue": "jsonl", "web": "jsonl", "wikipedia": "jsonl", "news": "jsonl",
           "books": "parquet"}
TEXT_FIELD = {"news": "content"}


def text_bytes(path_specs) -> int:
    total = 0
    for item in readers.initial_items(path_specs):
        for work in readers.plan(item):
            for rec in readers.read(work, max_doc_bytes=DEFAULT_MAX_DOC_BYTES):
                if isinstance(rec, Document) and isinstance(rec.text, str):
                    total += len(rec.text.encode())
    return total


def build_corpus(workdir: str, target_mb: int) -> str:
    """Replicate the sample's text components until ~target_mb of text; return sources.yaml."""
    shutil.rmtree(workdir, ignore_errors=True)
    lines = ["components:"]
    one_copy = 0
    for comp, fmt in FORMATS.items():
        os.makedirs(os.path.join(workdir, comp))
        field = TEXT_FIELD.get(comp, "text")
        lines.append(f"  {comp}: [{{format: {fmt}, path: '{comp}/*', text_field: {field}}}]")
    for comp in FORMATS:
        for name in sorted(os.listdir(os.path.join(SAMPLE, comp))):
            shutil.copy(os.path.join(SAMPLE, comp, name), os.path.join(workdir, comp, f"c0000-{name}"))
    sources = os.path.join(workdir, "sources.yaml")
    with open(sources, "w") as f:
        f.write("\n".join(lines) + "\n")
    one_copy = text_bytes(load_sources(sources))
    copies = max(1, round(target_mb * 1e6 / one_copy))
    for comp in FORMATS:
        for name in sorted(os.listdir(os.path.join(workdir, comp))):
            src = os.path.join(workdir, comp, name)
            for c in range(1, copies):
                os.link(src, os.path.join(workdir, comp, name.replace("c0000-", f"c{c:04d}-")))
    print(f"corpus: {copies} copies x {one_copy / 1e6:.2f} MB text = "
          f"{copies * one_copy / 1e6:.0f} MB in {workdir}")
    return sources


def bench_python(sources: str) -> tuple[int, int, float]:
    t0 = time.perf_counter()
    n = nbytes = 0
    for item in readers.initial_items(load_sources(sources)):
        for work in readers.plan(item):
            for rec in readers.read(work, max_doc_bytes=DEFAULT_MAX_DOC_BYTES):
                out = rec if not isinstance(rec, Document) else validate(
                    rec, max_bytes=DEFAULT_MAX_DOC_BYTES)
                if isinstance(out, Document):
                    n += 1
                    nbytes += len(out.text.encode())
    return n, nbytes, time.perf_counter() - t0


def bench_beam(sources: str, result_path: str, args: list[str]) -> tuple[int, int, float]:
    specs = load_sources(sources)
    t0 = time.perf_counter()
    beam_fixes.apply()  # args may ask for several workers (pipelines/beam_fixes.py)
    with beam.Pipeline(options=PipelineOptions(args)) as p:
        valid = (p | "ReadSources" >> ReadSources(specs, max_doc_bytes=DEFAULT_MAX_DOC_BYTES)
                 ).records | "Validate" >> Validate(DEFAULT_MAX_DOC_BYTES)
        _ = (valid.docs
             | "Size" >> beam.Map(lambda d: (1, d.nbytes))
             | "Sum" >> beam.CombineGlobally(lambda xs: tuple(map(sum, zip(*xs))) or (0, 0))
             | "Save" >> beam.Map(lambda t: open(result_path, "w").write(f"{t[0]} {t[1]}")))
    elapsed = time.perf_counter() - t0
    n, nbytes = map(int, open(result_path).read().split())
    return n, nbytes, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-mb", type=int, default=200)
    parser.add_argument("--workdir", default="/tmp/palmkit-bench-corpus")
    parser.add_argument("--skip-python", action="store_true")
    args, beam_args = parser.parse_known_args()
    sources = build_corpus(args.workdir, args.target_mb)
    rows = []
    if not args.skip_python:
        rows.append(("python (readers + validate)", *bench_python(sources)))
    rows.append(("beam DirectRunner, 1 worker", *bench_beam(
        sources, os.path.join(args.workdir, "beam-result.txt"), beam_args)))
    print(f"{'mode':32s} {'docs':>9s} {'MB text':>8s} {'s':>7s} {'MB/s':>7s} {'docs/s':>8s}")
    for name, n, nbytes, secs in rows:
        print(f"{name:32s} {n:9d} {nbytes / 1e6:8.1f} {secs:7.1f} {nbytes / 1e6 / secs:7.1f} "
              f"{n / secs:8.0f}")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
