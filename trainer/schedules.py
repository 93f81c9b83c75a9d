"""PaLM's schedules (section 5) as pure functions of the step, and the step -> examples map.

Steps are 1-based (``k = 1`` is the first update), as in the paper's formulas:

* learning rate: ``lr(k) = peak`` for ``k <= constant_steps``, then ``peak * sqrt(constant_steps / k)``.
  With the defaults (peak 1e-2, 10,000 constant steps) that is exactly the paper's ``1/sqrt(k)``
  after step 10,000, and it is continuous at the switch for any other choice;
* second-moment decay: ``beta2(k) = 1 - k^-0.8`` (optax's Adafactor computes the same from its own
  0-based count: ``1 - (count + 1)^-0.8``; ``tests/test_trainer_schedules.py`` checks they agree);
* weight decay: ``lr(k)^2`` times the parameters, every step ("dynamic weight decay");
* batch size: a piecewise-constant schedule ``((0, 512), (50_000, 1024), (115_000, 2048))`` (PaLM
  540B), read as "from step ``s`` on (0-based start of the step count), the batch is ``b``".

The data position is a pure function of the step, the schedule and the recorded skips: the examples
of step ``k`` are the ``batch_size(k)`` examples that start at ``examples_before(k)``, which is the
sum of the batch sizes of steps ``1..k-1`` plus every example skipped (after a loss spike) at or
before step ``k``. Nothing here depends on what happened at run time except the skip list, which is
saved with every checkpoint and in ``W/skips.json``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

BatchSchedule = tuple[tuple[int, int], ...]

#: PaLM 540B (section 5 of the paper): 512 sequences, 1024 from step 50k, 2048 from 115k.
PALM_540B_BATCH_SCHEDULE: BatchSchedule = ((0, 512), (50_000, 1024), (115_000, 2048))


@dataclasses.dataclass(frozen=True)
class Skip:
    """At step ``at_step`` (before reading its batch) skip ``examples`` examples of the stream.

    ``start_example`` is where the skipped range begins (``examples_before(at_step)`` without this
    skip); the remaining fields only document the spike that caused it."""

    at_step: int
    examples: int
    start_example: int
    batches: int = 0
    spike_step: int = 0
    spike_loss: float = 0.0
    median_loss: float = 0.0
    restored_step: int = 0


def learning_rate(k, *, peak: float = 1e-2, constant_steps: int = 10_000):
    """``peak`` for ``k <= constant_steps``, then ``peak * sqrt(constant_steps / k)``.

    Works on Python numbers and on JAX arrays (optax passes its count as an array)."""
    if isinstance(k, (int, float)):
        return peak if k <= constant_steps else peak * math.sqrt(constant_steps / k)
    import jax.numpy as jnp

    k = jnp.maximum(jnp.asarray(k, jnp.float32), 1.0)
    return peak * jnp.minimum(1.0, jnp.sqrt(constant_steps / k))


def beta2(k, *, exponent: float = 0.8):
    """Adafactor's second-moment decay ``1 - k^-0.8``: 0 at step 1, 0.9984 at 3,000, 0.99992 at 10^5."""
    return 1.0 - float(k) ** (-exponent)


def parse_batch_schedule(text: str) -> BatchSchedule:
    """``"0:512,50000:1024,115000:2048"`` -> ``((0, 512), (50000, 1024), (115000, 2048))``."""
    pairs = []
    for part in text.split(","):
        try:
            step, size = part.split(":")
            pairs.append((int(step), int(size)))
        except ValueError:
            raise ValueError(f"batch schedule {text!r}: expected STEP:SIZE[,STEP:SIZE...]") from None
    return validate_batch_schedule(pairs)


def validate_batch_schedule(pairs: Sequence[Sequence[int]]) -> BatchSchedule:
    sched = tuple((int(s), int(b)) for s, b in pairs)
    if not sched or sched[0][0] != 0:
        raise ValueError(f"batch schedule {sched}: the first entry must start at step 0")
    if any(b <= 0 for _, b in sched) or any(a[0] >= b[0] for a, b in zip(sched, sched[1:])):
        raise ValueError(f"batch schedule {sched}: sizes must be positive, steps increasing")
    return sched


def batch_size(k: int, schedule: BatchSchedule) -> int:
    """Batch size of (1-based) step ``k``: the last entry whose start is < k."""
    size = schedule[0][1]
    for start, b in schedule:
        if start < k:
            size = b
    return size


def examples_in_steps(n: int, schedule: BatchSchedule) -> int:
    """Examples consumed by steps ``1..n`` (no skips). O(len(schedule)), not O(n)."""
    total = 0
    bounds = [s for s, _ in schedule[1:]] + [max(n, 0)]
    for (start, size), end in zip(schedule, bounds):
        lo, hi = start, min(end, n)
        if hi > lo:
            total += (hi - lo) * size
    return total


def examples_before(k: int, schedule: BatchSchedule, skips: Sequence[Skip] = ()) -> int:
    """Global index of the first example of step ``k``."""
    return examples_in_steps(k - 1, schedule) + sum(s.examples for s in skips if s.at_step <= k)


def step_examples(k: int, schedule: BatchSchedule, skips: Sequence[Skip] = ()) -> tuple[int, int]:
    """``[start, stop)`` global example range of step ``k``."""
    start = examples_before(k, schedule, skips)
    return start, start + batch_size(k, schedule)


def process_slice(start: int, stop: int, *, index: int, count: int) -> tuple[int, int]:
    """The part of a global batch ``[start, stop)`` that data-parallel process ``index`` reads.

    Contiguous equal slices in process order, the layout ``make_array_from_process_local_data``
    expects for a batch sharded over the leading axis."""
    size = stop - start
    if size % count:
        raise ValueError(f"batch of {size} does not split over {count} processes")
    per = size // count
    return start + index * per, start + (index + 1) * per


def skip_for_spike(*, restored_step: int, batches: int, schedule: BatchSchedule,
                   skips: Sequence[Skip], spike_step: int, spike_loss: float,
                   median_loss: float) -> Skip:
    """The skip recorded after rolling back to ``restored_step``: the ``batches`` batches that the
    steps after it would have read (they include the batch that caused the spike)."""
    at = restored_step + 1
    start = examples_before(at, schedule, skips)
    n = sum(batch_size(at + i, schedule) for i in range(batches))
    return Skip(at_step=at, examples=n, start_example=start, batches=batches,
                spike_step=spike_step, spike_loss=float(spike_loss),
                median_loss=float(median_loss), restored_step=restored_step)
