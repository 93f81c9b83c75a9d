"""`palmkit memorization`: the paper's memorization probe (section 7) on a trained workdir.

    palmkit memorization --workdir out/demo/train --num-spans 500 --output mem.json

The paper's rule: sample 100-token spans of the training data, prompt the model with the first
50, greedy-decode 50, and count the span memorized when all 50 match exactly. PaLM 8B reproduced
1.6% of its spans, 540B 2.4%; spans seen once in the data 0.75%, spans seen 500+ times over 40%.

What palmkit does (docs/memorization.md):

1. Restores the workdir (``trainer.generate.load_workdir``: newest intact checkpoint, the shards
   it trained on by data fingerprint).
2. The examples the schedule fed: steps 1..step of the checkpoint's batch schedule, minus the
   ranges skipped after loss spikes, wrapped modulo the data for ``--allow-repeat`` runs
   (``fed_intervals``: disjoint ``[start, stop)`` ranges with how many times each was fed).
3. Spans: ``--num-spans`` windows of ``span_tokens`` inside one packed row (the context the model
   saw them in; a window across a row boundary never was) that contain no ``[eod]`` (inside one
   document), drawn uniformly over (fed example, offset) by rejection, deterministic by
   ``--seed``, distinct, sorted by position (``sample_spans``).
4. Greedy decode of all prompts in batches of ``--batch-size`` (``model_stub.decode.greedy``, one
   compile: the last batch is padded), exact match of the continuation.
5. Occurrences of each span in the fed data (``count_occurrences``): a 64-bit polynomial hash of
   *every* ``span_tokens`` window of every fed row, computed per chunk of rows in NumPy, and looked
   up in the sorted hashes of the sampled spans only. Memory is one chunk of rows (``chunk_rows`` x
   seq_len x 8 bytes x ~4) plus the N sampled hashes, whatever the data size; windows with the same
   hash as a span are compared token by token, so a hash collision cannot inflate a count. A row
   fed k times counts k times (what the model saw). Buckets: 1, 2-10, 11-100, 101+.
6. By component: each span's component is read from the pack's component sidecars
   (``trainer.data.SegmentComponents``: per row, the component of each segment): a span holds no
   ``[eod]``, so it lies in one segment, the one numbered by the ``[eod]`` before its offset in
   the row (``span_components``); rates per component in the manifest's order (``component_rows``).
   A pack written before the sidecars existed has none: ``by_component`` is null and
   ``component_note`` says why (``COMPONENT_NOTE``), the rest of the probe unchanged.

Output: JSON (``result`` below; byte-identical for the same workdir, data and options: timings go
to the log, not the file) and ``html_section(result)`` (``palmkit.report.memorization``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from typing import Sequence

import numpy as np

from palmkit import flags
from palmkit.errors import UserError

log = logging.getLogger(__name__)

#: (label, lowest, highest) occurrence counts of the buckets; the paper's figure uses similar ones.
BUCKETS: tuple[tuple[str, int, float], ...] = (
    ("1", 1, 1), ("2-10", 2, 10), ("11-100", 11, 100), ("101+", 101, math.inf))
PAPER = {"rule": "prompt 50 tokens of a 100-token training span, greedy-decode 50, exact match",
         "palm_8b_rate": 0.016, "palm_540b_rate": 0.024, "seen_once_rate_540b": 0.0075,
         "seen_500_plus_rate_540b": "> 0.40",
         "by_component": "code is memorized at a higher rate than the natural-language components",
         "source": "PaLM (arXiv 2204.02311), section 7"}
COMPONENT_NOTE = ("the pack has no component sidecars (components-*.parquet; packed by a palmkit "
                  "that did not write them): re-run `palmkit pack --overwrite` to split the rate by "
                  "component")
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(0x100000001B3)  # the polynomial's base (FNV-1a's 64-bit prime)


@dataclasses.dataclass
class MemorizationConfig:
    """`palmkit memorization`'s options."""

    workdir: str = flags.option(help="--workdir of a `palmkit train` run (newest intact checkpoint)")
    output: str = flags.option(help="JSON file written with the result")
    data: str | None = flags.option(None, help="pack output it trained on (default: found beside "
                                               "the workdir by its data fingerprint)")
    num_spans: int = flags.option(1000, help="spans sampled from the fed training examples")
    seed: int = flags.option(0, help="seed of the span sample")
    span_tokens: int = flags.option(100, help="tokens per span (the paper's)")
    prompt_tokens: int = flags.option(50, help="tokens of the span given as the prompt (the paper's)")
    batch_size: int = flags.option(32, help="prompts decoded together")
    count_occurrences: bool = flags.option(True, negate="--no-count-occurrences",
                                           help="skip the pass over all fed data that counts "
                                                "each span's occurrences (no buckets then)")
    html: str | None = flags.option(None, metavar="FILE", help="also write the result as an HTML "
                                    "page (the report's section, standalone)")
    verify_checksums: bool = flags.option(True, help="check shard sizes only")
    chunk_rows: int = flags.option(1024, cli=False, help="rows hashed at a time when counting")

    def __post_init__(self) -> None:
        for name, low in (("num_spans", 1), ("span_tokens", 2), ("prompt_tokens", 1),
                          ("batch_size", 1), ("chunk_rows", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise UserError(f"--{name.replace('_', '-')} {value!r}: must be an integer >= {low}")
        if self.prompt_tokens >= self.span_tokens:
            raise UserError(f"--prompt-tokens {self.prompt_tokens} must be below --span-tokens "
                            f"{self.span_tokens} (the rest is what the model must reproduce)")


# -- which examples the schedule fed ---------------------------------------------------------
def fed_intervals(*, step: int, schedule: Sequence[Sequence[int]], skips: Sequence[dict],
                  num_examples: int) -> list[tuple[int, int, int]]:
    """Disjoint ``(start, stop, times)`` example ranges fed by steps ``1..step``, sorted.

    The stream position after ``step`` is ``schedules.examples_before(step + 1, ...)`` (skipped
    examples included); the skipped ranges were never trained on; positions past the data wrap
    around (``--allow-repeat``), so a range can be fed several times."""
    from trainer import schedules

    sched = schedules.validate_batch_schedule(schedule)
    skip_objs = [schedules.Skip(**s) for s in skips if s["at_step"] <= step]
    end = schedules.examples_before(step + 1, sched, skip_objs)
    cuts = sorted((s.start_example, s.start_example + s.examples) for s in skip_objs)
    stream, pos = [], 0
    for a, b in cuts:
        if a > pos:
            stream.append((pos, min(a, end)))
        pos = max(pos, b)
    if pos < end:
        stream.append((pos, end))
    # Fold the stream onto one epoch and count coverage with a difference array over boundaries.
    delta: dict[int, int] = {}
    for a, b in stream:
        while a < b:
            s = a % num_examples
            e = min(num_examples, s + (b - a))
            delta[s] = delta.get(s, 0) + 1
            delta[e] = delta.get(e, 0) - 1
            a += e - s
    out, times, points = [], 0, sorted(delta)
    for p, q in zip(points, points[1:]):
        times += delta[p]
        if times > 0 and q > p:
            if out and out[-1][1] == p and out[-1][2] == times:
                out[-1] = (out[-1][0], q, times)
            else:
                out.append((p, q, times))
    return out


# -- sampling spans ----------------------------------------------------------------------------
def sample_spans(read_row, intervals: list[tuple[int, int, int]], *, num_spans: int, span: int,
                 seq_len: int, eod_id: int, seed: int, max_rounds: int = 64) -> list[tuple[int, int]]:
    """Up to ``num_spans`` distinct ``(example, offset)`` windows, uniform over (fed example,
    offset) among those without ``[eod]``, by rejection in rounds of candidates; sorted.
    ``read_row(i)`` returns example ``i``'s tokens. Same inputs and seed, same spans."""
    if span > seq_len:
        raise UserError(f"--span-tokens {span} is longer than the {seq_len}-token examples: a span "
                        f"must lie inside one row, the context the model saw it in")
    starts = np.array([a for a, _, _ in intervals], np.int64)
    sizes = np.array([b - a for a, b, _ in intervals], np.int64)
    total = int(sizes.sum())
    if total == 0:
        raise UserError("the checkpoint's schedule fed no examples (step 0?): nothing to probe")
    cum = np.cumsum(sizes)
    rng = np.random.default_rng(seed)
    chosen: dict[tuple[int, int], None] = {}
    rows: dict[int, np.ndarray] = {}
    for _ in range(max_rounds):
        need = num_spans - len(chosen)
        if need <= 0:
            break
        k = rng.integers(0, total, size=max(4 * need, 64))
        which = np.searchsorted(cum, k, side="right")
        examples = starts[which] + (k - (cum[which] - sizes[which]))
        offsets = rng.integers(0, seq_len - span + 1, size=len(k))
        for ex, off in zip(examples.tolist(), offsets.tolist()):
            if ex not in rows:
                rows[ex] = np.asarray(read_row(ex))
            window = rows[ex][off: off + span]
            if (window == eod_id).any() or (ex, off) in chosen:
                continue
            chosen[(ex, off)] = None
            if len(chosen) == num_spans:
                break
        if len(rows) > 4 * num_spans + 4096:  # bound the memory of rows kept for rejection
            rows.clear()
    return sorted(chosen)


# -- occurrence counts -------------------------------------------------------------------------
def _mix(tokens: np.ndarray) -> np.ndarray:
    """splitmix64 of each token id: spreads small ids over 64 bits before the polynomial."""
    z = tokens.astype(np.uint64) * _MIX + _MIX
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _powers(base: int, n: int) -> np.ndarray:
    """``base^0 .. base^(n-1)`` mod 2^64 as uint64 (Python ints: exact, then cast)."""
    out, x = [], 1
    for _ in range(n):
        out.append(x)
        x = x * base % 2**64
    return np.array(out, np.uint64)


def window_hashes(rows: np.ndarray, span: int) -> np.ndarray:
    """uint64 ``(R, T - span + 1)``: hash of every ``span``-token window of each row,
    ``sum_j mix(t[i + j]) * B^(span - 1 - j)`` mod 2^64.

    Vectorised over the whole chunk with one prefix sum: with ``Q[t] = mix(t) * B^-t`` (``B`` is
    odd, so invertible mod 2^64) and ``P`` its running sum, the window at ``i`` is
    ``B^(span - 1 + i) * (P[i + span - 1] - P[i - 1])``; uint64 arithmetic wraps mod 2^64, which
    is exactly the ring the hash lives in (about 5 array operations per token)."""
    rows = np.atleast_2d(rows)
    r, t = rows.shape
    n = t - span + 1
    if n <= 0:
        return np.zeros((r, 0), np.uint64)
    base = int(_BASE)
    with np.errstate(over="ignore"):
        q = _mix(rows) * _powers(pow(base, -1, 2**64), t)[None, :]
        prefix = np.zeros((r, t + 1), np.uint64)
        np.cumsum(q, axis=1, out=prefix[:, 1:])
        diff = prefix[:, span:] - prefix[:, :n]
        return diff * _powers(base, t)[None, span - 1: span - 1 + n]


def count_occurrences(read_rows, intervals: list[tuple[int, int, int]], spans: np.ndarray, *,
                      chunk_rows: int = 1024) -> np.ndarray:
    """Times each span (int32 ``(N, span)``) occurs as a window of a fed row, each row counted as
    often as it was fed. ``read_rows(a, b)`` returns examples ``[a, b)``. Memory: one chunk."""
    spans = np.asarray(spans, np.int32)
    span = spans.shape[1]
    keys = window_hashes(spans, span)[:, 0]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    counts = np.zeros(len(spans), np.int64)
    for a, b, times in intervals:
        for lo in range(a, b, chunk_rows):
            rows = np.asarray(read_rows(lo, min(b, lo + chunk_rows)))
            h = window_hashes(rows, span)
            flat = h.ravel()
            pos_c = np.minimum(np.searchsorted(sorted_keys, flat), len(sorted_keys) - 1)
            for at in np.flatnonzero(sorted_keys[pos_c] == flat).tolist():
                r, off = divmod(at, h.shape[1])
                window = rows[r, off: off + span]
                # every sampled span with this hash (the sample may hold one text twice)
                k = int(pos_c[at])
                while k < len(sorted_keys) and sorted_keys[k] == flat[at]:
                    if np.array_equal(spans[order[k]], window):
                        counts[order[k]] += times
                    k += 1
    return counts


# -- components --------------------------------------------------------------------------------
def span_components(rows: Sequence[np.ndarray], offsets: Sequence[int], segments: Sequence,
                    *, eod_id: int) -> list[int]:
    """Component index of each span (``offsets[k]`` into ``rows[k]``, no ``[eod]`` inside): the
    entry of its row's ``segments[k]`` (``SegmentComponents.row``) numbered by the ``[eod]``
    before the offset. A sidecar row whose segment count is not the row's (1 + its ``[eod]``
    before the last token) is refused: it belongs to other shards."""
    from palmkit.manifest import ManifestError

    out = []
    for row, off, comps in zip(rows, offsets, segments):
        if len(comps) != 1 + int(np.count_nonzero(row[:-1] == eod_id)):
            raise ManifestError(f"a component sidecar row lists {len(comps)} segments but its "
                                f"example has {1 + int(np.count_nonzero(row[:-1] == eod_id))}: "
                                f"the sidecars do not belong to these shards; re-run `palmkit pack`")
        component = int(comps[int(np.count_nonzero(row[:off] == eod_id))])
        if component < 0:  # records.NO_COMPONENT: only a shard's leading [eod], never a span
            raise ManifestError("a span lies in a sidecar segment of no component; re-run "
                                "`palmkit pack`")
        out.append(component)
    return out


def component_rows(names: Sequence[str], components: Sequence[int], exact: np.ndarray,
                   occurrences: np.ndarray | None = None) -> list[dict]:
    """``rate_row`` per component, in ``names`` order (every one, 0 spans included); with
    ``occurrences``, each row also splits its spans by ``BUCKETS`` (``by_occurrences``), so a
    component's rate can be read apart from how often its text repeats (the paper's code rate
    is higher partly because code repeats more)."""
    comps = np.asarray(components, np.int64)
    rows = []
    for k, name in enumerate(names):
        sel = comps == k
        row = {"component": name, **rate_row(int(exact[sel].sum()), int(sel.sum()))}
        if occurrences is not None:
            row["by_occurrences"] = bucket_rows(occurrences[sel], exact[sel])
        rows.append(row)
    return rows


# -- statistics --------------------------------------------------------------------------------
def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a binomial rate (sane at 0 and n, unlike the normal one)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate_row(matches: int, n: int) -> dict:
    lo, hi = wilson(matches, n)
    return {"spans": n, "memorized": matches, "rate": matches / n if n else None,
            "ci95": [round(lo, 6), round(hi, 6)]}


def bucket_rows(occurrences: np.ndarray, exact: np.ndarray) -> list[dict]:
    rows = []
    for label, lo, hi in BUCKETS:
        sel = (occurrences >= lo) & (occurrences <= hi)
        rows.append({"occurrences": label, **rate_row(int(exact[sel].sum()), int(sel.sum()))})
    return rows


# -- the job -----------------------------------------------------------------------------------
def decode_spans(model, spans: np.ndarray, *, prompt_tokens: int, batch_size: int):
    """Greedy continuation of every span's prompt: int32 ``(N, span - prompt)``, and tokens/s."""
    import jax.numpy as jnp

    from model_stub import decode

    n, span = spans.shape
    new = span - prompt_tokens
    out = np.zeros((n, new), np.int32)
    start = time.perf_counter()
    for lo in range(0, n, batch_size):
        batch = spans[lo: lo + batch_size, :prompt_tokens]
        real = len(batch)
        if real < batch_size and n > batch_size:  # same shape: no second compile for the tail
            batch = np.concatenate([batch, np.repeat(batch[:1], batch_size - real, axis=0)])
        got = decode.greedy(model.params, model.config, jnp.asarray(batch), new)
        out[lo: lo + real] = np.asarray(got)[:real]
    seconds = time.perf_counter() - start
    return out, n * new / seconds if seconds > 0 else float("nan")


def main(config: MemorizationConfig) -> dict:
    """Run the probe and write ``config.output``; returns the result (module docstring)."""
    from trainer.data import PackedExamples, SegmentComponents
    from trainer.generate import load_workdir

    model = load_workdir(config.workdir, data=config.data, need_data=True,
                         verify_checksums=config.verify_checksums)
    spec = model.spec
    examples = PackedExamples(spec)
    meta = model.meta
    intervals = fed_intervals(step=model.step, schedule=meta["batch_schedule"], skips=meta["skips"],
                              num_examples=spec.num_examples)
    positions = sample_spans(lambda i: examples.read(i, i + 1)[0], intervals,
                             num_spans=config.num_spans, span=config.span_tokens,
                             seq_len=spec.seq_len, eod_id=spec.eod_id, seed=config.seed)
    if not positions:
        raise UserError(f"no {config.span_tokens}-token window without [eod] in the fed examples "
                        f"of {spec.directory}: documents are shorter; lower --span-tokens")
    if len(positions) < config.num_spans:
        log.warning("only %d distinct spans without [eod] found (asked %d)", len(positions),
                    config.num_spans)
    rows = [examples.read(i, i + 1)[0] for i, _ in positions]
    spans = np.stack([row[o: o + config.span_tokens] for row, (_, o) in zip(rows, positions)])
    segments = SegmentComponents(spec)
    span_comp = span_components(rows, [o for _, o in positions],
                                [segments.row(i) for i, _ in positions], eod_id=spec.eod_id) \
        if segments.available else None
    del rows
    generated, tok_s = decode_spans(model, spans, prompt_tokens=config.prompt_tokens,
                                    batch_size=config.batch_size)
    target = spans[:, config.prompt_tokens:]
    exact = (generated == target).all(axis=1)
    agree = (generated == target).cumprod(axis=1).sum(axis=1)  # tokens right before the first miss
    log.info("decoded %d spans: %.0f tokens/s", len(spans), tok_s)
    occurrences = None
    if config.count_occurrences:
        tick = time.perf_counter()
        occurrences = count_occurrences(examples.read, intervals, spans, chunk_rows=config.chunk_rows)
        fed_rows = sum(b - a for a, b, _ in intervals)
        log.info("counted occurrences over %d fed rows in %.1f s", fed_rows, time.perf_counter() - tick)
    fed_total = sum((b - a) * t for a, b, t in intervals)
    result = {
        "workdir": os.path.abspath(config.workdir), "step": model.step, "preset": model.preset,
        "data": os.path.abspath(spec.directory), "seq_len": spec.seq_len,
        "options": {"num_spans": config.num_spans, "seed": config.seed,
                    "span_tokens": config.span_tokens, "prompt_tokens": config.prompt_tokens},
        "fed": {"examples": sum(b - a for a, b, _ in intervals), "examples_with_repeats": fed_total,
                "of_examples": spec.num_examples},
        "overall": rate_row(int(exact.sum()), len(spans)),
        "mean_tokens_matched": round(float(agree.mean()), 4),
        "by_occurrences": bucket_rows(occurrences, exact) if occurrences is not None else None,
        "by_component": component_rows(spec.components, span_comp, exact, occurrences)
        if span_comp is not None else None,
        "component_note": None if span_comp is not None else COMPONENT_NOTE,
        "paper": PAPER,
        "spans": [{"example": int(i), "offset": int(o), "memorized": bool(e),
                   "tokens_matched": int(a),
                   "occurrences": int(occurrences[k]) if occurrences is not None else None,
                   "component": spec.components[span_comp[k]] if span_comp is not None else None}
                  for k, ((i, o), e, a) in enumerate(zip(positions, exact, agree))],
    }
    os.makedirs(os.path.dirname(os.path.abspath(config.output)), exist_ok=True)
    with open(config.output, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    if config.html:
        from palmkit.report.memorization import html_page

        with open(config.html, "w", encoding="utf-8") as f:
            f.write(html_page(result))
    return result
