"""Per-step metrics (W/metrics.jsonl, TensorBoard, a tqdm bar), MFU and the loss-spike detector.

MFU is the paper's (appendix B): ``tokens/s * (6N + 12 L H Q T) / (peak FLOP/s per chip * chips)``.
The peak comes from ``--peak-flops`` or from the device kind: TPU v4 275 TFLOP/s, H100/H200 989
TFLOP/s (bf16 dense, ``model_stub.flops.PEAK_FLOPS``). A CPU has no datasheet figure that means
anything here, so on CPU the trainer *measures* it once at start-up (``measure_matmul_flops``: the
best of 10 float32 2048x2048 matmuls under jit, ~0.3 s): this project's 2-core AMD EPYC gave
~420 GFLOP/s idle but 66-70 GFLOP/s while other jobs ran, so a fixed number would print MFU
above 100% on a quiet machine or far too low on a busy one.

``metrics.jsonl`` always describes the trajectory of the current parameters: a resume or a rollback
to step ``c`` first drops the lines after ``c`` (the abandoned steps are described in ``skips.json``).
"""

from __future__ import annotations

import collections
import json
import math
import os
import functools
import statistics
import time
from typing import Sequence

from model_stub.flops import PEAK_FLOPS



def measure_matmul_flops(n: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of the best of ``repeats`` float32 ``n x n`` matmuls on the default device."""
    import jax
    import jax.numpy as jnp

    a = jnp.ones((n, n), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        f(a).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


@functools.lru_cache(maxsize=1)
def _cpu_peak() -> float:
    return measure_matmul_flops()


def peak_flops_per_device(device_kind: str, platform: str, override: float | None = None) -> float:
    """Peak FLOP/s of one device from its ``device_kind`` (e.g. "TPU v4", "NVIDIA H100 80GB HBM3")."""
    if override:
        return float(override)
    kind = device_kind.lower()
    if "v4" in kind and platform == "tpu":
        return PEAK_FLOPS["tpu-v4"]
    if "h200" in kind:
        return PEAK_FLOPS["h200"]
    if "h100" in kind:
        return PEAK_FLOPS["h100-sxm"]
    if platform == "cpu":
        return _cpu_peak()
    raise ValueError(f"no peak FLOP/s known for {device_kind!r}: pass --peak-flops")


class SpikeDetector:
    """A loss is a spike when it is not finite or exceeds ``factor`` x the median of the last
    ``window`` losses (checked once at least ``min_history`` are known). The median ignores one
    bad step, unlike the mean, and a falling loss never trips it."""

    def __init__(self, *, factor: float, window: int, min_history: int, history: Sequence[float] = ()):
        self.factor, self.min_history = factor, min_history
        self.history = collections.deque(history, maxlen=window)

    def median(self) -> float:
        return statistics.median(self.history) if self.history else math.nan

    def is_spike(self, loss: float) -> bool:
        if not math.isfinite(loss):
            return True
        return len(self.history) >= self.min_history and loss > self.factor * self.median()

    def add(self, loss: float) -> None:
        self.history.append(float(loss))


def truncate_jsonl(path: str, last_step: int) -> None:
    """Keep only the lines with ``step <= last_step`` (temp file + rename)."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        keep = [line for line in f if line.strip() and json.loads(line)["step"] <= last_step]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(keep)
    os.replace(tmp, path)


def read_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class MetricsLogger:
    """Writes one JSON line and TensorBoard scalars per step, and drives a tqdm bar."""

    def __init__(self, workdir: str, *, first_step: int, last_step: int, progress: bool = True):
        from tensorboardX import SummaryWriter
        from tqdm import tqdm

        self.path = os.path.join(workdir, "metrics.jsonl")
        truncate_jsonl(self.path, first_step - 1)
        self._file = open(self.path, "a", encoding="utf-8")
        # purge_step hides events after a resume/rollback point written by an abandoned run.
        self._tb = SummaryWriter(os.path.join(workdir, "tensorboard"), purge_step=first_step)
        self._bar = tqdm(total=last_step, initial=first_step - 1, disable=not progress,
                         unit="step", dynamic_ncols=True)

    def restart(self, step: int) -> None:
        """After a rollback to ``step``: drop later lines and move the bar back."""
        self._file.close()
        truncate_jsonl(self.path, step)
        self._file = open(self.path, "a", encoding="utf-8")
        self._bar.n = step
        self._bar.refresh()

    def log(self, row: dict) -> None:
        self._file.write(json.dumps(row, sort_keys=True) + "\n")
        self._file.flush()
        for key, value in row.items():
            if key != "step" and isinstance(value, (int, float)):
                self._tb.add_scalar(f"train/{key}", value, row["step"])
        self._bar.update(1)
        self._bar.set_postfix(loss=f"{row['loss']:.3f}", lr=f"{row['lr']:.2e}",
                              mfu=f"{row['mfu']:.1%}", refresh=False)

    def message(self, text: str) -> None:
        self._bar.write(text)

    def close(self) -> None:
        self._file.close()
        self._tb.close()
        self._bar.close()
