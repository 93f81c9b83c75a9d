"""Work around a data-losing race in Beam's local runner (FnApiRunner), Beam 2.77.

The runner sends each bundle's input to its SDK workers through
``data_plane.TimeBasedBufferingClosableOutputStream``: a buffer that a background thread
flushes every ``DATA_BUFFER_TIME_LIMIT_MS`` (1000 ms). ``flush()`` takes a lock, ``write()``
does not, and ``flush()`` copies the buffer, hands the copy to the send queue (which blocks
while the queue holds 100 MB) and then clears the buffer: whatever ``write()`` appended in the
meantime is cleared unsent. Nothing fails; the worker simply never sees that input.

When it strikes: the DirectRunner with ``--direct_num_workers`` > 1 (multi_processing or
multi_threading), whose stages read inputs of many MB, on a loaded machine (the flusher must
fire while the writing thread is between chunks). On the 1.1 GB scale corpus it lost one
~6-10 MB chunk of near dedup's join input in 3 of 4 two-worker runs made two at a time, and in
2 of 9 earlier ones (docs/benchmarks.md); near dedup's integrity check caught each. One
worker (the default) runs in process over an in-memory channel and never uses this class.

The fix: the runner's channels flush by size only (``DATA_BUFFER_TIME_LIMIT_MS = 0`` makes
``ClosableOutputStream.create`` build the size-based stream, which has no second thread).
Time-based flushing only lowers latency for streaming pipelines; a batch bundle's input is
written whole and closed. SDK workers flush by time only under the experiment
``data_buffer_time_limit_ms=N``, which palmkit never sets (and a user should not: the same
class). Dataflow, Flink and Spark run their own runner harness, not this code.

``tests/test_beam_fixes.py`` reproduces the race on the Beam class itself, so a Beam upgrade
that fixes it (or changes the names patched here) shows up as a failing test.
"""

from __future__ import annotations

from apache_beam.runners.portability.fn_api_runner import worker_handlers

# The value the runner uses for its data channels (Beam's default: 1000).
RUNNER_DATA_BUFFER_TIME_LIMIT_MS = 0


def apply() -> None:
    """Make the local runner's data channels flush by size only; idempotent. Call before
    ``Pipeline.run()``: the runner reads the constant when it starts its gRPC servers."""
    worker_handlers.DATA_BUFFER_TIME_LIMIT_MS = RUNNER_DATA_BUFFER_TIME_LIMIT_MS
