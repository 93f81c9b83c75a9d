"""Seeing a Beam job while it runs and afterwards (pipelines/progress.py, timings.py,
job_progress.py): the manifest's per-stage timings, the live channel observed mid-run, the
console line and --quiet."""

from __future__ import annotations

import io
import json
import time

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from palmkit import cli
from palmkit.manifest import Manifest
from pipelines import corpus, job_progress, progress, timings
from pipelines.clean.code_filter import CodeFilter
from pipelines.clean.exact_dedup import ExactDedup
from pipelines.clean.langid import LanguageId
from pipelines.corpus import CorpusConfig
from tests.test_corpus_job import MAX_BYTES, make_corpus
from tests.test_pack_job import corpus_and_vocab  # noqa: F401 (a module fixture)

STAGES = (LanguageId, CodeFilter, ExactDedup)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("timed")
    sources = make_corpus(root)
    config = CorpusConfig(sources=sources, output=str(root / "out"), max_doc_bytes=MAX_BYTES,
                          num_shards=2, stages=STAGES)
    return root, sources, corpus.main(config)


def test_manifest_has_timings_for_every_stage_in_pipeline_order(run):
    _, _, manifest = run
    t = manifest.extra["timings"]
    rows = {r["stage"]: r for r in t["stages"]}
    names = [r["stage"] for r in t["stages"]]
    assert names[:8] == ["read", "validate", "unique_ids", "langid", "code_filter",
                         "exact_dedup", "write_clean", "write_rejects"]
    assert names[8:] in ([], ["other"])
    counts = manifest.counts
    read = sum(c["read"] for c in counts.values())
    kept = sum(c["kept"] for c in counts.values())
    rejected = sum(sum(c["rejected"].values()) for c in counts.values())
    validation = ("invalid_json", "invalid_utf8", "missing_text", "empty", "too_large",
                  "binary", "unreadable", "programming_language", "invalid_field")
    valid = read - sum(n for c in counts.values() for r, n in c["rejected"].items()
                       if r in validation)
    assert rows["read"]["records"] == rows["validate"]["records"] == read
    assert rows["unique_ids"]["records"] == valid
    assert rows["write_clean"]["records"] == kept and rows["write_rejects"]["records"] == rejected
    for name in ("read", "validate", "langid", "code_filter", "write_clean", "write_rejects"):
        assert rows[name]["cpu_source"] == "thread_time" and rows[name]["cpu_s"] > 0, name
    for r in t["stages"]:  # grouping stages: the runner's sampled step time (may be 0 here)
        assert r["cpu_s"] >= 0 and r["bytes"] >= 0 and "wall_s" in r
        if r["cpu_s"] and r["bytes"]:
            assert r["mb_per_s_per_core"] == pytest.approx(r["bytes"] / r["cpu_s"] / 1e6, rel=1e-2,
                                                         abs=1e-3)
    assert rows["langid"]["bytes"] > 0
    assert t["wall_s"] > 0 and t["cpu_s"] >= sum(r["cpu_s"] for r in t["stages"]) - 1e-6


def test_timings_are_the_only_difference_between_two_runs(run, tmp_path):
    root, sources, manifest = run
    config = CorpusConfig(sources=sources, output=str(tmp_path / "again"),
                          max_doc_bytes=MAX_BYTES, num_shards=2, stages=STAGES)
    again = corpus.main(config)
    a = (root / "out" / "manifest.json").read_bytes()
    b = (tmp_path / "again" / "manifest.json").read_bytes()
    assert a != b  # the timings differ...
    assert timings.strip_timings(a) == timings.strip_timings(b)  # ...and only they
    assert "timings" not in json.loads(timings.strip_timings(a))["extra"]
    assert again.extra["timings"]["stages"][0]["records"] == manifest.extra["timings"][
        "stages"][0]["records"]


def test_timing_table_lists_every_stage_with_its_share():
    t = {"wall_s": 10.0, "cpu_s": 8.0, "stages": [
        {"stage": "read", "cpu_s": 2.0, "records": 1000, "bytes": 4_000_000,
         "mb_per_s_per_core": 2.0},
        {"stage": "langid", "cpu_s": 4.0, "records": 990, "bytes": 3_000_000,
         "mb_per_s_per_core": 0.75}]}
    lines = timings.timing_table(t).splitlines()
    assert lines[0].split() == ["stage", "CPU", "s", "records", "MB/s", "per", "core", "share",
                                "of", "CPU"]
    assert lines[1].split() == ["read", "2.00", "1,000", "2.00", "25%"]
    assert lines[2].split() == ["langid", "4.00", "990", "0.75", "50%"]
    assert lines[3].split() == ["(runner)", "2.00", "25%"]
    assert lines[4].startswith("job (wall 10.0 s)")


def _sleepy(x):
    time.sleep(0.02)
    return x


def _one(_element):
    return {"records": 1}


def _watch(pipeline_args: list[str], n: int = 150) -> tuple[list[dict], str]:
    p = beam.Pipeline(options=PipelineOptions(pipeline_args))
    _ = (p | "Create" >> beam.Create(list(range(n)))
         | "Sleepy" >> beam.ParDo(progress.Metered(_sleepy, stage="sleepy", flat=False,
                                                   measure=_one)))
    stream = io.StringIO()
    with progress.LiveProgress(lambda totals, _: f"sleepy {int(totals.get('sleepy/records', 0))}",
                               stream=stream, tty=True, interval=0.05) as live:
        assert progress.attach(p, live.folder) == 1
        p.run().wait_until_finish()
    return live.seen, stream.getvalue()


def test_the_poller_sees_counts_change_while_the_job_runs():
    seen, drawn = _watch([])
    records = [s.get("sleepy/records", 0) for s in seen]
    assert any(0 < r < 150 for r in records), records  # observed before the end
    assert records == sorted(records) and records[-1] == 150
    assert "\rsleepy " in drawn and drawn.endswith("sleepy 150\n")
    assert all(s["sleepy/cpu_s"] >= 0 for s in seen)


@pytest.mark.slow
def test_the_poller_sees_multi_processing_workers():
    seen, _ = _watch(["--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    records = [s.get("sleepy/records", 0) for s in seen]
    assert any(0 < r < 150 for r in records) and records[-1] == 150, records


def test_corpus_status_line():
    totals = {"read/inputs": 10, "read/bytes": 2_000_000, "read/records": 500,
              "validate/records": 500, "langid/records": 480, "validate/rejected.empty": 3,
              "langid/rejected.language": 7}
    line = job_progress.corpus_line(totals, 10.0, plan_inputs=20, plan_bytes=4_000_000,
                                    stage_names=["langid"])
    assert line.startswith("corpus: inputs 10/20, 2.0/4.0 MB (50%), 50 rec/s, read ETA 0:10")
    assert "read 500 validate 500 langid 480" in line
    assert line.endswith("rejected 10: language 7, empty 3")
    done = job_progress.corpus_line({**totals, "read/bytes": 4_000_000}, 75.0, plan_inputs=20,
                                    plan_bytes=4_000_000, stage_names=["langid"])
    assert "read done, 1:15 elapsed" in done


def test_pack_status_line_and_eta():
    line = job_progress.pack_line({"tokenize/records": 250, "tokenize/tokens": 12_345,
                                   "pack_write/examples": 3}, 5.0, documents=1000)
    assert line == ("pack: tokenized 250/1,000 documents (25%), 12,345 tokens, 50 docs/s, "
                    "ETA 0:15 | sampled 0 copies | examples written 3")
    assert progress.format_eta(3725) == "1:02:05" and progress.format_eta(None) == "?"


def test_live_channel_is_off_on_other_runners():
    assert progress.channel_possible([])
    assert progress.channel_possible(["--runner=DirectRunner"])
    assert not progress.channel_possible(["--runner=DataflowRunner"])


def test_quiet_prints_no_progress_and_the_default_does(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.01)  # a log line however short the job
    sources = make_corpus(tmp_path)
    base = ["corpus", "--sources", sources, "--max-doc-bytes", str(MAX_BYTES),
            "--num-shards", "1", "--stages", "none"]
    assert cli.main([*base, "--output", str(tmp_path / "loud")]) == 0
    out, err = capsys.readouterr()
    assert "corpus: inputs" in err  # progress log lines (stderr is not a terminal here)
    assert "share of CPU" in out and "write_clean" in out  # the timing table
    assert cli.main([*base, "--output", str(tmp_path / "quiet"), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "corpus: inputs" not in err and "\r" not in err
    assert "share of CPU" in out  # the tables are the command's result, not progress


def test_pack_manifest_has_timings_per_stage(corpus_and_vocab, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.01)
    corpus_dir, vocab = corpus_and_vocab
    assert cli.main(["pack", "--corpus", corpus_dir, "--vocab", vocab, "--output",
                     str(tmp_path / "p"), "--seq-len", "64", "--num-shards", "2"]) == 0
    out, err = capsys.readouterr()
    manifest = Manifest.read(str(tmp_path / "p"), stage="pack")
    rows = {r["stage"]: r for r in manifest.extra["timings"]["stages"]}
    assert [r["stage"] for r in manifest.extra["timings"]["stages"]][:4] == [
        "tokenize", "plan", "sample", "pack_write"]
    assert rows["tokenize"]["records"] == 2400 and rows["tokenize"]["cpu_s"] > 0
    assert rows["tokenize"]["cpu_source"] == "thread_time" and rows["tokenize"]["bytes"] > 0
    assert rows["sample"]["records"] == 2400
    assert rows["pack_write"]["records"] == manifest.counts["documents_packed"]
    assert "pack: tokenized 2,400/2,400 documents (100%)" in err  # the last progress line
    assert "share of CPU" in out and "pack_write" in out


def test_sampled_stages_are_scaled_to_the_cpu_the_job_used():
    rows = [{"stage": "read", "cpu_s": 2.0, "records": 10, "bytes": 2_000_000,
             "cpu_source": "thread_time", "mb_per_s_per_core": 1.0},
            {"stage": "dedup", "cpu_s": 6.0, "records": 10, "bytes": 3_000_000,
             "cpu_source": "sampler", "wall_s": 6.0, "mb_per_s_per_core": 0.5},
            {"stage": "other", "cpu_s": 2.0, "records": 0, "bytes": 0,
             "cpu_source": "sampler", "wall_s": 2.0, "mb_per_s_per_core": 0.0}]
    scaled = timings.apportion(rows, job_cpu=6.0)  # 8 s sampled, 4 s of CPU left for them
    assert [r["cpu_s"] for r in scaled] == [2.0, 3.0, 1.0]
    assert scaled[1]["cpu_source"] == "sampler_scaled" and scaled[1]["wall_s"] == 6.0
    assert scaled[1]["mb_per_s_per_core"] == 1.0
    assert timings.apportion(rows, job_cpu=20.0) == rows  # enough CPU: the rest is the runner


def test_a_short_job_without_a_terminal_logs_no_progress_line(tmp_path, capsys):
    sources = make_corpus(tmp_path)
    assert cli.main(["corpus", "--sources", sources, "--output", str(tmp_path / "o"),
                     "--max-doc-bytes", str(MAX_BYTES), "--num-shards", "1",
                     "--stages", "none"]) == 0
    assert "corpus: inputs" not in capsys.readouterr().err  # under LOG_EVERY_S: no noise
