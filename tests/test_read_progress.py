"""ReadWorkItem's progress lines: inputs and estimated bytes done of those planned at launch."""

from __future__ import annotations

import json
import logging
import re

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import corpus, readers
from pipelines.corpus import CorpusConfig, ReadPlan, ReadWorkItem
from pipelines.sources import load_sources

PROGRESS = re.compile(r"this worker: (\d+) items, (\d+) records; inputs ([\d.]+)/(\d+), "
                      r"bytes ([\d,]+)/([\d,]+) \((\d+)%\)")


def _sources(root) -> str:
    (root / "web").mkdir()
    for name, n in (("a.jsonl", 5), ("b.jsonl", 12)):
        (root / "web" / name).write_text(
            "".join(json.dumps({"text": f"Seite {i}: ein kurzer Text. " * 3}) + "\n"
                    for i in range(n)))
    table = pa.table({"text": [f"第{i}章 本のテキスト" for i in range(6)]})
    pq.write_table(table, root / "books.parquet", row_group_size=2)  # 3 row groups, 1 input
    (root / "sources.yaml").write_text("""components:
  web: [{format: jsonl, path: "web/*.jsonl"}]
  books: [{format: parquet, path: books.parquet}]
""")
    return str(root / "sources.yaml")


def test_plan_shares_split_an_input_into_equal_shares(tmp_path):
    specs = load_sources(_sources(tmp_path))
    plan = ReadPlan.of(specs)
    shares = [s for item in readers.initial_items(specs) for s in corpus.plan_shares(item)]
    assert plan.inputs == 3 and len(shares) == 5  # two JSONL files, three row groups
    assert abs(sum(s[1] for s in shares) - plan.inputs) < 1e-9
    assert abs(sum(s[2] for s in shares) - plan.bytes) < 1e-6


def test_progress_text():
    read = ReadWorkItem(100, ReadPlan(inputs=4, bytes=4000))
    read.setup()
    read.items, read.records, read.inputs_done, read.bytes_done = 3, 120, 2.5, 1234.4
    assert read.progress() == "3 items, 120 records; inputs 2.5/4, bytes 1,234/4,000 (31%)"


def test_one_worker_logs_progress_up_to_100_percent(tmp_path, caplog):
    sources = _sources(tmp_path)
    caplog.set_level(logging.INFO, logger="pipelines.corpus")
    manifest = corpus.main(CorpusConfig(sources=sources, output=str(tmp_path / "out"),
                                        stages=(), num_shards=1))
    lines = [r.getMessage() for r in caplog.records if "corpus: read " in r.getMessage()]
    found = [PROGRESS.search(line) for line in lines]
    assert len(lines) == 5 and all(found), lines
    items, records, done, planned, bytes_done, bytes_planned, pct = found[-1].groups()
    assert (int(items), float(done), int(planned)) == (5, 3.0, 3)
    assert int(records) == sum(c["read"] for c in manifest.counts.values()) == 23
    assert bytes_done == bytes_planned and pct == "100"
    assert [int(m.group(7)) for m in found] == sorted(int(m.group(7)) for m in found)
