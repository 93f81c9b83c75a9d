"""Per-stage CPU time and throughput of a finished Beam job, for its manifest and its table.

After ``run()``, ``collect(result, stages, ...)`` reads two kinds of numbers:

* the meters' Beam counters ``timing.<stage>/cpu_us|records|bytes`` (``pipelines.progress``):
  thread CPU seconds of the stage's own per-element code, exclusive of the stages fused after
  it (``cpu_source: "thread_time"``);
* the runner's per-step execution time (``ptransform_execution_time:total_msecs``, which
  Beam's portable runners report for every step, the DirectRunner's FnApiRunner included): a
  state sampler attributes the worker thread's time, at each sample, to the step whose code it
  is in, so in a fused graph each step gets its own share and not its consumers'. Summed over
  the steps whose label starts with one of a stage's prefixes, it is the stage's ``wall_s``
  (thread seconds, summed over workers; it includes waiting on I/O). Stages without a CPU
  meter (grouping stages, whose code lives in pipelines/clean/) use it as their CPU time
  (``cpu_source: "sampler"``). Runners that do not report it (Dataflow reports its own in its
  UI) leave ``wall_s`` out. Sampled time is thread wall time: on a loaded machine it exceeds
  CPU time, so where the sampled stages add up to more than the job's CPU left over by the
  metered ones, they are scaled down to it (``apportion``, ``cpu_source: "sampler_scaled"``).

``extra["timings"]`` = ``{"wall_s", "cpu_s", "stages": [{"stage", "cpu_s", "records", "bytes",
"mb_per_s_per_core", "wall_s"?, "cpu_source"}, ...]}`` in pipeline order, plus a last
``"other"`` row for steps in no stage (flattens, counting, the manifest step). The job's
``wall_s`` is the launcher's clock around ``run()``; its ``cpu_s`` the launcher's and its
finished child processes' CPU (``os.times``), at least the sum of the stages.

Timings are the only non-deterministic part of a manifest: ``strip_timings`` gives back the
manifest bytes without them, which is what the determinism tests compare.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Iterable, Sequence

from palmkit.tables import format_rows

EXEC_MSECS = "ptransform_execution_time:total_msecs"
OTHER = "other"


class Clock:
    """Wall and CPU seconds (this process and its reaped children) since construction."""

    def __init__(self):
        self.wall0, self.cpu0 = time.monotonic(), _cpu_now()

    def elapsed(self) -> tuple[float, float]:
        return time.monotonic() - self.wall0, _cpu_now() - self.cpu0


def _cpu_now() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _user_counters(result) -> dict[tuple[str, str], int]:
    from apache_beam.metrics.metric import MetricsFilter

    out: dict[tuple[str, str], int] = {}
    try:
        counters = result.metrics().query(MetricsFilter())["counters"]
    except Exception:  # a runner without metrics support: no timings, the job still succeeds
        return out
    for c in counters:
        ns = c.key.metric.namespace
        if ns.startswith("timing."):
            key = (ns[len("timing."):], c.key.metric.name)
            out[key] = out.get(key, 0) + int(c.committed or 0)
    return out


def step_msecs(result) -> dict[str, float]:
    """Step label -> execution milliseconds, where the runner reports them ({} otherwise)."""
    monitoring = getattr(result, "monitoring_metrics", None)
    if monitoring is None:
        return {}
    try:
        counters = monitoring().query()["counters"]
    except Exception:
        return {}
    out: dict[str, float] = {}
    for c in counters:
        if EXEC_MSECS in c.key.metric.name and c.key.step:
            out[c.key.step] = out.get(c.key.step, 0) + float(c.committed or 0)
    return out


def stage_rows(counters: dict[tuple[str, str], int], msecs: dict[str, float],
               stages: Sequence[tuple[str, Sequence[str]]]) -> list[dict[str, Any]]:
    """One row per stage (in the order given: ``(name, label prefixes)``) and ``other``."""
    claimed: set[str] = set()
    rows = []
    for name, prefixes in stages:
        steps = [s for s in msecs if s not in claimed and any(s.startswith(p) for p in prefixes)]
        claimed.update(steps)
        wall = sum(msecs[s] for s in steps) / 1000 if msecs else None
        metered = counters.get((name, "cpu_us"), 0) / 1e6
        row = _row(name, metered if metered else (wall or 0.0),
                   counters.get((name, "records"), 0), counters.get((name, "bytes"), 0))
        row["cpu_source"] = "thread_time" if metered else "sampler"
        if wall is not None:
            row["wall_s"] = round(wall, 3)
        rows.append(row)
    rest = [s for s in msecs if s not in claimed]
    if rest:
        wall = sum(msecs[s] for s in rest) / 1000
        row = _row(OTHER, wall, 0, 0)
        row.update(cpu_source="sampler", wall_s=round(wall, 3))
        rows.append(row)
    return rows


def _row(stage: str, cpu: float, records: int, nbytes: int) -> dict[str, Any]:
    return {"stage": stage, "cpu_s": round(cpu, 6), "records": int(records),
            "bytes": int(nbytes),
            "mb_per_s_per_core": round(nbytes / cpu / 1e6, 3) if cpu > 0 and nbytes else 0.0}


def apportion(rows: list[dict[str, Any]], job_cpu: float) -> list[dict[str, Any]]:
    """Sampled step time is thread *wall* time: on a loaded machine (or while a thread waits)
    it exceeds CPU time. When the sampled rows add up to more than the CPU the job used beyond
    its metered stages, scale them down to that budget (``cpu_source: "sampler_scaled"``):
    their shares stay those the sampler saw, and the stages add up to the job's CPU."""
    metered = sum(r["cpu_s"] for r in rows if r["cpu_source"] == "thread_time")
    sampled = sum(r["cpu_s"] for r in rows if r["cpu_source"] == "sampler")
    budget = job_cpu - metered
    if sampled <= 0 or budget <= 0 or sampled <= budget:
        return rows
    out = []
    for r in rows:
        if r["cpu_source"] == "sampler":
            r = {**_row(r["stage"], r["cpu_s"] * budget / sampled, r["records"], r["bytes"]),
                 **{k: v for k, v in r.items() if k == "wall_s"}, "cpu_source": "sampler_scaled"}
        out.append(r)
    return out


def collect(result, stages: Sequence[tuple[str, Sequence[str]]], clock: Clock) -> dict[str, Any]:
    """``extra["timings"]`` of a finished run (see the module docstring)."""
    rows = stage_rows(_user_counters(result), step_msecs(result), stages)
    wall, cpu = clock.elapsed()
    rows = apportion(rows, cpu)
    cpu = max(cpu, sum(r["cpu_s"] for r in rows))
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "stages": rows}


def add_to_manifest(folder: str, timings: dict[str, Any]) -> bool:
    """Write ``timings`` into ``folder/manifest.json`` (``extra["timings"]``), atomically; False
    when there is no manifest (``--dry_run``)."""
    from palmkit.manifest import MANIFEST_NAME, Manifest
    from palmkit.paths import join
    from pipelines import fs

    from apache_beam.io.filesystems import FileSystems

    path = join(folder, MANIFEST_NAME)
    if not FileSystems.exists(path):
        return False
    manifest = Manifest.from_json(fs.read_text(path), origin=path)
    manifest.extra["timings"] = timings
    fs.write_text_atomic(path, manifest.to_json())
    return True


def strip_timings(data: bytes) -> bytes:
    """Manifest bytes without ``extra.timings`` (written as ``Manifest.to_json`` writes)."""
    obj = json.loads(data)
    obj.get("extra", {}).pop("timings", None)
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def timing_table(timings: dict[str, Any]) -> str:
    """The stage timing table printed after the count table."""
    total = timings.get("cpu_s") or sum(r["cpu_s"] for r in timings["stages"]) or 1.0
    rows = [[r["stage"], f"{r['cpu_s']:.2f}", r["records"], f"{r['mb_per_s_per_core']:.2f}",
             f"{r['cpu_s'] / total:.0%}"] for r in timings["stages"]]
    rest = timings["cpu_s"] - sum(r["cpu_s"] for r in timings["stages"])
    if rest > 0:  # the runner itself: graph, pickling, shuffles, worker start-up
        rows.append(["(runner)", f"{rest:.2f}", "", "", f"{rest / total:.0%}"])
    rows.append(["job (wall %.1f s)" % timings["wall_s"], f"{timings['cpu_s']:.2f}", "", "", ""])
    return format_rows(["stage", "CPU s", "records", "MB/s per core", "share of CPU"], rows)


def stages_by_prefix(names: Iterable[tuple[str, str]]) -> list[tuple[str, tuple[str, ...]]]:
    """``[(stage, one label prefix)]`` -> the ``stages`` argument of ``collect``."""
    return [(name, (prefix,)) for name, prefix in names]
