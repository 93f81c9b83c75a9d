"""Pure functions of the pack job: token-budget planning, deterministic sampling and shuffling,
and packing into fixed-length examples. NumPy only, no Beam: every decision the job makes is a
function of (seed, document id, token counts), so it is the same on any number of workers.

Sampling to a share
-------------------
Each component ``c`` holds ``n_c`` tokens and should supply ``share_c * T`` of a budget ``T``.
Its *rate* ``r_c = share_c * T / n_c`` splits into whole epochs ``floor(r_c)`` (every document
repeated) and a remainder ``f_c`` (a subset holding ``f_c * n_c`` tokens). The subset is chosen
by a per-document key ``u = hash(seed, id)``: documents are ordered by ``u`` and the prefix that
reaches the target is kept. To find that prefix without sorting a component on one worker, the
job builds a histogram of tokens over the top ``HIST_BITS`` bits of ``u`` (65,536 buckets, an
associative combine): buckets below the cut are taken whole, and each document in the cut
bucket contributes the same fraction of its tokens (a prefix, followed by ``[eod]`` like any
document), so the remainder hits its target to within a few tokens (one per document in the cut
bucket) at any scale: even a component of a few large documents (book chapters) gets its share.
The price is at most one bucket of truncated documents per component (at demo scale, one).

Default budget: the largest ``T`` that repeats no component, ``min_c n_c / share_c`` (PaLM
chose its shares so that nothing repeats at 780B tokens).

Shuffling and packing
---------------------
Every kept copy ``(id, epoch)`` gets an order key ``hash(seed, "order", id, epoch)``; its shard
is ``key % num_shards`` and a shard's documents are sorted by key. A shard is packed as
``[eod], doc, [eod], doc, [eod], ...`` cut into rows of exactly ``seq_len`` tokens; only the
final partial row is dropped (and counted). No padding anywhere.

Why the leading ``[eod]``: the training stream is the shards in index order, and a shard's
dropped tail cuts its last document short. Without a separator at the start of the next shard,
that truncated document ran straight into the next shard's first document (7 such joins in a
real 8-shard pack, one per shard boundary). With it, every span between two ``[eod]`` in the
whole stream is one document or a prefix of one, never two. Cost: one token per shard.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Mapping, Sequence

import numpy as np

from palmkit.records import NO_COMPONENT, TOKEN_DTYPE

HIST_BITS = 16
HIST_SIZE = 1 << HIST_BITS


def _hash64(*parts: object) -> int:
    data = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def selection_key(seed: int, doc_id: str) -> int:
    """Uniform 64-bit key that decides whether a document is in a component's remainder."""
    return _hash64(seed, "select", doc_id)


def order_key(seed: int, doc_id: str, epoch: int) -> int:
    """Uniform 64-bit key that fixes a copy's shard and its position in the shard."""
    return _hash64(seed, "order", doc_id, epoch)


def bucket_of(key: int) -> int:
    return key >> (64 - HIST_BITS)


# -- planning ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ComponentPlan:
    tokens: int  # tokens available (one epoch)
    target: int  # tokens wanted: share * budget
    rate: float  # target / tokens
    epochs: int  # whole epochs (every document repeated)
    cut_bucket: int  # remainder: documents whose bucket < cut_bucket are taken once more,
    cut_fraction: float  # and those in cut_bucket contribute this fraction of their tokens
    remainder_tokens: int  # tokens the remainder is planned to take

    @property
    def planned_tokens(self) -> int:
        return self.epochs * self.tokens + self.remainder_tokens


@dataclasses.dataclass(frozen=True)
class SamplingPlan:
    budget: int
    components: dict[str, ComponentPlan]
    repeats: tuple[str, ...]  # components that repeat documents (rate > 1)

    def take(self, component: str, key: int, n_tokens: int) -> tuple[int, int]:
        """``(whole copies, prefix tokens of one more copy)`` of a document of ``n_tokens``
        tokens whose selection key is ``key``."""
        plan = self.components.get(component)
        if plan is None:
            return 0, 0
        bucket = bucket_of(key)
        if bucket < plan.cut_bucket:
            return plan.epochs + 1, 0
        if bucket == plan.cut_bucket:
            return plan.epochs, math.floor(plan.cut_fraction * n_tokens)
        return plan.epochs, 0


def _cut(hist: np.ndarray, target: int) -> tuple[int, float, int]:
    """``(bucket, fraction, planned tokens)``: whole buckets below ``bucket`` plus ``fraction``
    of each document in it reach ``target``."""
    if target <= 0:
        return 0, 0.0, 0
    cum = np.cumsum(hist)
    i = int(np.searchsorted(cum, target, side="left"))  # first prefix reaching the target
    if i >= len(cum):
        return HIST_SIZE, 0.0, int(cum[-1])
    below = int(cum[i - 1]) if i > 0 else 0
    return i, (target - below) / int(hist[i]), target


def plan_sampling(
    histograms: Mapping[str, np.ndarray],
    shares: Mapping[str, float],
    *,
    total_tokens: int | None = None,
) -> SamplingPlan:
    """Rates, epochs and remainder cuts that make the output match ``shares``.

    ``histograms`` maps each component to its per-bucket token counts. Components with share 0
    are dropped. Without ``total_tokens`` the budget is the largest that repeats nothing.
    """
    totals = {c: int(h.sum()) for c, h in histograms.items()}
    active = {c: s for c, s in shares.items() if s > 0}
    empty = sorted(c for c in active if totals.get(c, 0) == 0)
    if empty:
        raise ValueError(
            f"components {empty} have a share in the mixture but no tokens in the corpus; "
            "give them share 0 in a custom mixture or add data"
        )
    if total_tokens is None:
        budget = min(math.floor(totals[c] / s) for c, s in active.items())
    else:
        budget = int(total_tokens)
    components = {}
    for c, s in sorted(active.items()):
        target = round(s * budget)
        rate = target / totals[c]
        epochs = int(target // totals[c])
        cut, fraction, rem = _cut(histograms[c], target - epochs * totals[c])
        components[c] = ComponentPlan(
            tokens=totals[c], target=target, rate=rate, epochs=epochs, cut_bucket=cut,
            cut_fraction=fraction, remainder_tokens=rem,
        )
    repeats = tuple(c for c, p in components.items() if p.rate > 1.0)
    return SamplingPlan(budget=budget, components=components, repeats=repeats)


# -- packing -------------------------------------------------------------------------------------


def pack(
    docs: Sequence[np.ndarray], *, seq_len: int, eod_id: int
) -> tuple[np.ndarray, int]:
    """Lay out ``[eod] doc [eod] doc [eod] ...`` and cut it into rows of exactly ``seq_len``.

    Returns ``(examples[int32, (n, seq_len)], dropped_tokens)``: only the final partial row is
    dropped. Array work only (one fill, one copy per document, one reshape): hundreds of
    millions of tokens/s. An empty shard has no tokens (not even the leading ``[eod]``).
    """
    if seq_len <= 0:
        raise ValueError("seq_len must be positive")
    if not docs:
        return np.zeros((0, seq_len), dtype=TOKEN_DTYPE), 0
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    ends = 1 + np.cumsum(lengths + 1)  # position after each document's [eod]
    flat = np.empty(int(ends[-1]), dtype=TOKEN_DTYPE)
    flat[0] = eod_id
    flat[ends - 1] = eod_id
    starts = ends - 1 - lengths
    for d, s, n in zip(docs, starts, lengths):
        flat[s : s + n] = d
    n_rows = len(flat) // seq_len
    kept = n_rows * seq_len
    return flat[:kept].reshape(n_rows, seq_len), int(len(flat) - kept)


def split_at_eod(examples: np.ndarray, eod_id: int) -> list[np.ndarray]:
    """The token spans between ``[eod]`` markers of consecutive rows, in order.

    For one packed shard: its documents in order, the last possibly cut by the dropped tail
    (the span before the leading ``[eod]`` is empty and not returned). Given rows that start
    mid-document, the first span is that document's remainder.
    """
    flat = examples.reshape(-1)
    pieces = np.split(flat, np.flatnonzero(flat == eod_id) + 1)
    spans = [p[:-1] for p in pieces[:-1]]  # each ends with its [eod]
    if flat.size and flat[0] == eod_id:
        spans = spans[1:]  # nothing before the leading [eod]
    return spans + ([pieces[-1]] if len(pieces[-1]) else [])


# -- which component each segment came from (the shards' component sidecars) ------------------


def component_order(shares: Mapping[str, float]) -> tuple[str, ...]:
    """The components a pack draws from (share > 0), sorted: the order of the manifest's
    ``extra.components``, whose indices the sidecars hold (``plan_sampling``'s order too)."""
    return tuple(sorted(c for c, s in shares.items() if s > 0))


def row_components(lengths: Sequence[int], components: Sequence[int], *,
                   seq_len: int) -> list[list[int]]:
    """Per kept row of ``pack(docs, seq_len=seq_len, ...)``, the component of each of its
    segments in order (``records.COMPONENTS_SCHEMA``), from the documents' token ``lengths`` and
    ``components`` (small ints) alone, in the shard's order.

    The flat layout is ``[eod] doc [eod] doc [eod] ...``: extent 0 is the leading ``[eod]``
    (``NO_COMPONENT``), extent ``j + 1`` is document ``j`` with the ``[eod]`` that ends it. A row
    holds the extents that intersect ``[r * seq_len, (r + 1) * seq_len)``, which are exactly its
    ``segment_ids`` 1, 2, ... (a new segment starts after each ``[eod]``, and at the row start).
    Only kept rows (the dropped partial tail has none); an empty shard has none."""
    if seq_len <= 0:
        raise ValueError("seq_len must be positive")
    if len(lengths) != len(components):
        raise ValueError(f"{len(lengths)} lengths but {len(components)} components")
    if not len(lengths):
        return []
    lengths = np.asarray(lengths, dtype=np.int64)
    bounds = np.concatenate([[0, 1], 1 + np.cumsum(lengths + 1)])  # extent j: [b[j], b[j + 1])
    owner = np.concatenate([[NO_COMPONENT], np.asarray(components, dtype=np.int64)])
    row_start = np.arange(int(bounds[-1]) // seq_len, dtype=np.int64) * seq_len
    first = np.searchsorted(bounds[1:], row_start, side="right")  # first extent ending after
    last = np.searchsorted(bounds[:-1], row_start + seq_len, side="left")  # past the last one
    return [owner[a:b].tolist() for a, b in zip(first.tolist(), last.tolist())]


# -- segment ids and positions (``palmkit pack --segment-ids``) ----------------------------------


def segment_ids(examples: np.ndarray, eod_id: int) -> np.ndarray:
    """Per-row document index, 1-based: ``1 + (number of [eod] strictly before the position in
    its row)``. An ``[eod]`` belongs to the document it ends, so the row-leading ``[eod]`` of a
    shard is segment 1 on its own and the first document is segment 2. This is exactly
    ``model_stub.palm.eod_segment_ids(tokens) + 1``: the same attention mask (only equality
    matters); 1-based as in MaxText and T5X, where 0 means padding (palmkit never pads)."""
    is_eod = (examples == eod_id).astype(np.int32)
    return (np.cumsum(is_eod, axis=-1) - is_eod + 1).astype(TOKEN_DTYPE)


def segment_positions(examples: np.ndarray, eod_id: int) -> np.ndarray:
    """Position of each token within its segment (``segment_ids``), from 0; a row that starts
    mid-document starts at 0 too (a row is all the model sees)."""
    seg = segment_ids(examples, eod_id)
    n, t = seg.shape
    index = np.broadcast_to(np.arange(t, dtype=np.int64), (n, t))
    starts = np.ones_like(seg, dtype=bool)
    starts[:, 1:] = seg[:, 1:] != seg[:, :-1]
    first = np.maximum.accumulate(np.where(starts, index, 0), axis=-1)
    return (index - first).astype(TOKEN_DTYPE)
