"""The local runner's data-losing race (pipelines/beam_fixes.py): it exists in the pinned
Beam, the workaround turns it off, and every job applies the workaround before it runs."""

from __future__ import annotations

import threading
import time

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import worker_handlers
from apache_beam.runners.worker import data_plane

from pipelines import beam_fixes, job_progress

CHUNK = b"x" * 200_000


def write_during_slow_flushes(stream_cls, **kwargs) -> tuple[int, int]:
    """Write 20 chunks, 30 ms apart, into ``stream_cls`` whose flush takes 200 ms (the
    runner's send queue is full); return (bytes written, bytes that reached the callbacks)."""
    delivered = []
    lock = threading.Lock()

    def slow_send(data: bytes) -> None:
        time.sleep(0.2)
        with lock:
            delivered.append(len(data))

    def on_close(data: bytes) -> None:
        with lock:
            delivered.append(len(data))

    stream = stream_cls(on_close, flush_callback=slow_send, **kwargs)
    for _ in range(20):
        stream.write(CHUNK)
        stream.maybe_flush()
        time.sleep(0.03)
    stream.close()
    return 20 * len(CHUNK), sum(delivered)


def test_beams_time_based_stream_loses_writes_made_during_a_flush():
    """The bug itself, on Beam's class. If this fails, the pinned Beam fixed it: the
    workaround can go (and docs/scale.md's paragraph with it)."""
    written, delivered = write_during_slow_flushes(
        data_plane.TimeBasedBufferingClosableOutputStream, time_flush_threshold_ms=50)
    assert delivered < written


def test_the_size_based_stream_delivers_everything():
    written, delivered = write_during_slow_flushes(
        data_plane.SizeBasedBufferingClosableOutputStream, size_flush_threshold=1_000_000)
    assert delivered == written


def test_apply_makes_the_runners_channels_size_based(monkeypatch):
    monkeypatch.setattr(worker_handlers, "DATA_BUFFER_TIME_LIMIT_MS", 1000)
    before = data_plane._GrpcDataChannel(worker_handlers.DATA_BUFFER_TIME_LIMIT_MS)
    assert isinstance(before.output_stream("bundle_1", "t"),
                      data_plane.TimeBasedBufferingClosableOutputStream)
    beam_fixes.apply()
    beam_fixes.apply()  # idempotent
    after = data_plane._GrpcDataChannel(worker_handlers.DATA_BUFFER_TIME_LIMIT_MS)
    stream = after.output_stream("bundle_2", "t")
    assert type(stream) is data_plane.SizeBasedBufferingClosableOutputStream
    for channel in (before, after):
        channel.close()


def test_every_metered_job_applies_it_before_running(monkeypatch):
    """corpus and pack run through job_progress.run; contamination calls apply itself."""
    monkeypatch.setattr(worker_handlers, "DATA_BUFFER_TIME_LIMIT_MS", 1000)
    seen = []
    p = beam.Pipeline()
    _ = p | beam.Create([1, 2]) | beam.Map(lambda x: x)
    original = p.run

    def run(*a, **k):
        seen.append(worker_handlers.DATA_BUFFER_TIME_LIMIT_MS)
        return original(*a, **k)

    monkeypatch.setattr(p, "run", run)
    job_progress.run(p, render=lambda snapshot: "", stages=[], pipeline_args=[], show=False)
    assert seen == [0]



class _Emit(beam.DoFn):
    """Per input i: 40 keys, each with a 50 KB value on both sides of a join."""

    def process(self, i):
        for j in range(40):
            key = f"{i}-{j}"
            yield beam.pvalue.TaggedOutput("a", (key, "a" * 50_000))
            yield key, "b" * 50_000


def _join_on_two_workers(out: str) -> None:
    """A join whose input the runner materializes in several chunks (its two sides have
    different coders, as near dedup's have), on 2 worker processes; writes the number of
    values that reached the join to ``out``."""
    from typing import Tuple

    from apache_beam.options.pipeline_options import PipelineOptions

    opts = PipelineOptions(direct_num_workers=2, direct_running_mode="multi_processing")
    with beam.Pipeline(options=opts) as p:
        both = (p | beam.Create(list(range(64))) | beam.Reshuffle()
                | beam.ParDo(_Emit()).with_outputs("a", main="b"))
        typed = both.a | beam.Map(lambda kv: kv).with_output_types(Tuple[str, str])
        _ = ({"a": typed, "b": both.b} | beam.CoGroupByKey()
             | beam.Map(lambda kv: len(kv[1]["a"]) + len(kv[1]["b"]))
             | beam.CombineGlobally(sum)
             | beam.Map(lambda n: open(out, "w").write(str(n))))


@pytest.mark.slow  # two 2-worker pipelines, ~15 s each
@pytest.mark.parametrize("fixed", [False, True])
def test_the_real_runner_loses_join_input_unless_fixed(tmp_path, monkeypatch, fixed):
    """The race made certain instead of rare: the runner's flusher fires every 2 ms and
    each send waits 50 ms (the send queue is full, as on a loaded machine). Unfixed, the
    workers never see part of the join's input; with ``beam_fixes.apply()`` all 5,120
    values arrive."""
    enqueue = data_plane._GrpcDataChannel._enqueue_to_send

    def full_queue(self, elem):
        time.sleep(0.05)
        enqueue(self, elem)

    monkeypatch.setattr(data_plane._GrpcDataChannel, "_enqueue_to_send", full_queue)
    monkeypatch.setattr(worker_handlers, "DATA_BUFFER_TIME_LIMIT_MS", 2)
    if fixed:
        beam_fixes.apply()
    out = tmp_path / "joined"
    _join_on_two_workers(str(out))
    joined = int(out.read_text())
    if fixed:
        assert joined == 2 * 40 * 64
    else:
        assert joined < 2 * 40 * 64
