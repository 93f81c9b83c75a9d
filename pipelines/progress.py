"""See a Beam job while it runs: per-stage meters, Beam metrics, and a live console line.

Meters. A stage's own per-element work is wrapped in ``Metered`` (a DoFn around a function or
another DoFn): it adds the thread CPU seconds (``time.thread_time`` deltas) spent *inside* the
wrapped code, and the records and bytes it saw, to Beam metrics in the namespace
``timing.<stage>`` (counters ``cpu_us``, ``records``, ``bytes``), which is what the Dataflow UI
shows per step. In a fused graph a ``yield`` runs the steps downstream before the generator
resumes, so only the time from each resume to the next yield is counted, never the next
stage's. ``FilterStage`` meters its ``decide`` the same way when the job asks for it
(``meter_stage``); grouping stages (exact/near dedup, quality sampling, unique ids) get their
records and bytes counted on the way in, and their time from the runner's own per-step
execution time (``pipelines.timings``). The namespace is separate from the reject counters
(``<stage>/<component>.<reason>``) so tests that compare those stay exact.

The live channel (DirectRunner only). Beam's DirectRunner blocks in ``run()`` and its
metrics are only complete at the end; in ``multi_processing`` mode the DoFns even run in other
processes. So each process that runs a metered DoFn adds its counts to one per-process total
and writes it, at most every ``FLUSH_S`` seconds, as ``<folder>/<pid>.json`` (temporary file +
``os.replace``: a reader never sees half a file). ``LiveProgress`` (in the launching process)
makes the folder, attaches it to every metered DoFn of the pipeline (``attach``, before
``run()``), and a thread sums the files every ``interval`` seconds and renders one status line:
on a terminal a carriage-return line on stderr, redrawn in place; otherwise (logs, CI) one log
line every ``LOG_EVERY_S`` seconds and a last one at the end (a job shorter than that logs
none: its count table says it all). The same code serves
``in_memory`` (the launcher's own threads write the file) and ``multi_processing`` (each SDK
worker process writes its own). On other runners (Dataflow) workers cannot reach the
launcher's disk: the channel is off and the Beam metrics are the progress. ``--quiet`` turns
the console line off (tqdm is only in the ``train`` extra, so the line is drawn here).

Timings (``pipelines.timings``) are written into the manifest after the run as
``extra["timings"]``: they are the only part of a manifest that differs between two runs on the
same inputs, and the determinism tests compare manifests without that key
(``timings.strip_timings``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

logger = logging.getLogger(__name__)

NAMESPACE = "timing."  # Beam metrics namespace prefix: timing.<stage>
FLUSH_S = 0.5  # a process writes its snapshot at most twice a second
LOG_EVERY_S = 10.0  # without a terminal: one log line this often (none for shorter jobs)
BATCH = 256  # outputs between two meter updates inside one long generator

# -- per-process totals and their snapshot file ------------------------------------------------

_LOCK = threading.Lock()
_TOTALS: dict[str, dict[str, float]] = {}  # folder -> {"stage/key": n}
_LAST_WRITE: dict[str, float] = {}
_ACTIVE: list[str | None] = [None]  # the folder this process's metered DoFns report to


def _add_totals(folder: str | None, stage: str, counts: dict[str, float], *,
                force: bool = False) -> None:
    if folder is None:
        return
    with _LOCK:
        totals = _TOTALS.setdefault(folder, {})
        for key, n in counts.items():
            if n:
                name = f"{stage}/{key}"
                totals[name] = totals.get(name, 0) + n
        now = time.monotonic()
        if force or now - _LAST_WRITE.get(folder, 0.0) >= FLUSH_S:
            _LAST_WRITE[folder] = now
            _write_snapshot(folder, totals)


def _write_snapshot(folder: str, totals: dict[str, float]) -> None:
    path = os.path.join(folder, f"{os.getpid()}.json")
    tmp = f"{path}.{threading.get_ident()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(totals, f)
        os.replace(tmp, path)
    except OSError:  # the launcher removed the folder (run over): progress is best effort
        pass


def count(stage: str, key: str, n: float = 1) -> None:
    """Add ``n`` to ``stage/key`` of the live channel (no-op when no channel is active in this
    process); used by ``pipelines.stage.reject`` for rejects by reason."""
    if _ACTIVE[0] is not None:
        _add_totals(_ACTIVE[0], stage, {key: n})


def read_snapshots(folder: str) -> dict[str, float]:
    """The sum of every process's snapshot in ``folder``."""
    out: dict[str, float] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return out
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue  # replaced while read: the next poll gets it
        for key, n in data.items():
            out[key] = out.get(key, 0) + n
    return out


# -- meters ------------------------------------------------------------------------------------


class Meter:
    """Accumulates one stage's CPU seconds and counts in one DoFn instance; ``flush`` hands them
    to Beam counters (``timing.<stage>``) and to the live channel."""

    def __init__(self, stage: str, folder: str | None = None):
        self.stage, self.folder = stage, folder
        self._pending: dict[str, float] = {}
        self._cpu = 0.0
        self._last = 0.0

    def __getstate__(self):
        return {"stage": self.stage, "folder": self.folder}

    def __setstate__(self, state):
        self.__init__(state["stage"], state["folder"])

    def start(self) -> None:
        if self.folder is not None:
            _ACTIVE[0] = self.folder

    def add(self, cpu: float = 0.0, counts: dict[str, float] | None = None) -> None:
        self._cpu += cpu
        for key, n in (counts or {}).items():
            self._pending[key] = self._pending.get(key, 0) + n
        now = time.monotonic()
        if now - self._last >= FLUSH_S:
            self._last = now
            self.flush()

    def flush(self, *, force: bool = False) -> None:
        namespace = NAMESPACE + self.stage
        if self._cpu:
            Metrics.counter(namespace, "cpu_us").inc(int(self._cpu * 1e6))
        for key in ("records", "bytes"):
            if self._pending.get(key):
                Metrics.counter(namespace, key).inc(int(self._pending[key]))
        _add_totals(self.folder, self.stage, {**self._pending, "cpu_s": self._cpu}, force=force)
        self._pending, self._cpu = {}, 0.0


def doc_size(element: Any) -> dict[str, float]:
    """A Document (or Reject) coming in: one record and its text's UTF-8 bytes."""
    text = getattr(element, "text", None)
    size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else 0
    return {"records": 1, "bytes": size}  # a text that is not a string: validation rejects it


def read_share(element: tuple) -> dict[str, float]:
    """A corpus work item ``(item, input share, bytes share)`` (``corpus.plan_shares``): its
    share of the inputs and of the text bytes planned at launch."""
    return {"inputs": element[1], "bytes": element[2]}


def records_out(out: Any) -> dict[str, float] | None:
    """One record read (a Document or Reject on the main output; tagged outputs are not)."""
    return None if isinstance(out, beam.pvalue.TaggedOutput) else {"records": 1}


def rejects_by_reason(out: Any) -> dict[str, float] | None:
    """A tagged ``Reject`` going out: ``rejected.<reason>`` (validation's rejects)."""
    value = getattr(out, "value", None)
    reason = getattr(value, "reason", None)
    return {f"rejected.{reason}": 1} if reason else None


class Metered(beam.DoFn):
    """Run ``fn`` (a function of the element, or a DoFn) and meter it as ``stage``.

    ``measure(element)`` -> counts of what came in (default: none); ``count_out(output)`` ->
    counts per output (default: none); ``cpu=False``: count only (a pass-through that counts
    what enters a stage measured otherwise). ``flat``: ``fn`` returns an iterable (``FlatMap``,
    ``DoFn.process``) rather than one value (``Map``). Side inputs and keyword arguments given
    to ``beam.ParDo`` are handed to ``fn``.
    """

    def __init__(self, fn: Callable | beam.DoFn, *, stage: str, flat: bool = True,
                 measure: Callable[[Any], dict] | None = None,
                 count_out: Callable[[Any], dict | None] | None = None, cpu: bool = True):
        self.fn, self.flat, self.cpu = fn, flat, cpu
        self.measure, self.count_out = measure, count_out
        self.meter = Meter(stage)
        self._is_dofn = isinstance(fn, beam.DoFn)

    def default_label(self):
        return f"Metered({self.meter.stage})"

    def setup(self):
        if self._is_dofn:
            self.fn.setup()
        self.meter.start()

    def start_bundle(self):
        if self._is_dofn:
            self.fn.start_bundle()

    def finish_bundle(self):
        if self._is_dofn:
            for out in self.fn.finish_bundle() or ():
                yield out
        self.meter.flush(force=True)

    def teardown(self):
        if self._is_dofn:
            self.fn.teardown()

    def process(self, element, *args, **kwargs):
        meter, count_out = self.meter, self.count_out
        counts = dict(self.measure(element)) if self.measure else {}
        call = self.fn.process if self._is_dofn else self.fn
        t0 = time.thread_time()
        result = call(element, *args, **kwargs)
        cpu = time.thread_time() - t0
        if not self.flat:
            if count_out:
                _merge(counts, count_out(result))
            meter.add(cpu if self.cpu else 0.0, counts)
            yield result
            return
        it, n = iter(result or ()), 0
        while True:
            t0 = time.thread_time()
            try:
                out = next(it)
            except StopIteration:
                cpu += time.thread_time() - t0
                break
            cpu += time.thread_time() - t0
            if count_out:
                _merge(counts, count_out(out))
            n += 1
            if n % BATCH == 0:  # a long generator (one big input file) shows progress
                meter.add(cpu if self.cpu else 0.0, counts)
                counts, cpu = {}, 0.0
            yield out
        meter.add(cpu if self.cpu else 0.0, counts)


def _merge(into: dict, counts: dict | None) -> None:
    for key, n in (counts or {}).items():
        into[key] = into.get(key, 0) + n


def _identity(x):
    return x


def count_in(stage: str, measure: Callable[[Any], dict] = doc_size) -> beam.ParDo:
    """A pass-through step counting records and bytes entering ``stage`` (no CPU)."""
    return beam.ParDo(Metered(_identity, stage=stage, flat=False, measure=measure, cpu=False))


def attach(pipeline: beam.Pipeline, folder: str | None) -> int:
    """Point every metered DoFn of ``pipeline`` at the live channel ``folder``; call before
    ``run()`` (the DoFns are serialised then). Returns how many were found."""
    found = []

    class _Visitor(beam.pipeline.PipelineVisitor):
        def visit_transform(self, node):
            fn = getattr(node.transform, "fn", None)
            meter = getattr(fn, "meter", None)
            if isinstance(meter, Meter):
                meter.folder = folder
                found.append(meter)

    pipeline.visit(_Visitor())
    return len(found)


def channel_possible(pipeline_args: Iterable[str]) -> bool:
    """The live channel works where the workers share the launcher's disk: DirectRunner (and
    its FnApiRunner), the default."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    runner = PipelineOptions(list(pipeline_args)).view_as(StandardOptions).runner
    name = runner if isinstance(runner, str) or runner is None else type(runner).__name__
    return name in (None, "DirectRunner", "direct", "FnApiRunner", "BundleBasedDirectRunner",
                    "SwitchingDirectRunner")


# -- the launcher's side -----------------------------------------------------------------------


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def rate_and_eta(done: float, total: float, elapsed: float) -> tuple[float, float | None]:
    """Units per second so far, and the seconds left at that pace (None: unknown)."""
    rate = done / elapsed if elapsed > 0 else 0.0
    if not total or done <= 0 or elapsed <= 0:
        return rate, None
    return rate, max(0.0, elapsed * (total - done) / done)


class LiveProgress:
    """The poller: a temporary channel folder, a thread that sums the snapshots every
    ``interval`` s and draws ``render(totals, elapsed)``; ``enabled=False``: nothing drawn (the
    folder and meters still work, so tests can watch ``seen``). Use as a context manager around
    ``pipeline.run()``."""

    def __init__(self, render: Callable[[dict[str, float], float], str], *, enabled: bool = True,
                 stream=None, tty: bool | None = None, interval: float = 0.5,
                 log_every: float | None = None, keep: int = 1000):
        self.render, self.enabled, self.interval = render, enabled, interval
        self.log_every = LOG_EVERY_S if log_every is None else log_every
        self._logged = 0  # log lines written (the last line at the end only follows others)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.seen: list[dict[str, float]] = []  # distinct totals observed (for tests)
        self._keep = keep
        self.folder: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = 0.0
        self._last_log = 0.0
        self._width = 0

    def __enter__(self) -> "LiveProgress":
        self.folder = tempfile.mkdtemp(prefix="palmkit-progress-")
        self._handlers = [h for h in logging.getLogger().handlers] if self.enabled and self.tty else []
        for handler in self._handlers:  # a log line first clears the status line it would join
            handler.addFilter(self._clear_line)
        self._start = self._last_log = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="palmkit-progress", daemon=True)
        self._thread.start()
        return self

    def _clear_line(self, record) -> bool:
        if self._width:
            self.stream.write("\r\033[K")
            self._width = 0
        return True

    def __exit__(self, *exc) -> None:
        for handler in self._handlers:
            handler.removeFilter(self._clear_line)
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._poll(final=exc[0] is None)
        if self.enabled and self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()

    def _poll(self, *, final: bool = False) -> None:
        totals = read_snapshots(self.folder)
        if totals and (not self.seen or totals != self.seen[-1]) and len(self.seen) < self._keep:
            self.seen.append(totals)
        if not self.enabled or not totals:
            return
        now = time.monotonic()
        line = self.render(totals, now - self._start)
        if self.tty:
            width = shutil.get_terminal_size((120, 20)).columns - 1
            line = line[:width]
            self.stream.write("\r" + line.ljust(self._width))
            self.stream.flush()
            self._width = len(line)
        elif (final and self._logged) or now - self._last_log >= self.log_every:
            self._last_log = now
            self._logged += 1
            logger.info("%s", line)
