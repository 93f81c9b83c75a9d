"""Pure packing/sampling functions: hand-computed answers on tiny inputs, and properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines import packing
from pipelines.pack import HistogramFn

EOD = 0


def arr(*xs):
    return np.array(xs, dtype=np.int32)


def test_pack_hand_computed():
    # [eod] + docs [1 2 3] [4] [5 6 7 8] [9 9] + eods = 15 tokens -> 3 rows of 4, 3 dropped.
    ex, dropped = packing.pack([arr(1, 2, 3), arr(4), arr(5, 6, 7, 8), arr(9, 9)], seq_len=4, eod_id=EOD)
    assert ex.dtype == np.int32
    assert ex.tolist() == [[0, 1, 2, 3], [0, 4, 0, 5], [6, 7, 8, 0]]
    assert dropped == 3  # the tail "9 9 [eod]"


def test_pack_exact_fit_drops_nothing():
    ex, dropped = packing.pack([arr(1, 2), arr(3)], seq_len=6, eod_id=EOD)
    assert ex.tolist() == [[0, 1, 2, 0, 3, 0]] and dropped == 0


def test_pack_document_longer_than_row_is_split_across_rows():
    ex, dropped = packing.pack([arr(*range(1, 9))], seq_len=3, eod_id=EOD)
    assert ex.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert dropped == 1  # its "[eod]"


def test_pack_empty_and_too_short():
    ex, dropped = packing.pack([], seq_len=4, eod_id=EOD)
    assert ex.shape == (0, 4) and dropped == 0
    ex, dropped = packing.pack([arr(1)], seq_len=4, eod_id=EOD)
    assert ex.shape == (0, 4) and dropped == 3


def test_concatenated_shards_never_join_two_documents():
    # The training stream is shard 0's rows then shard 1's: the document cut by shard 0's
    # dropped tail must not run into shard 1's first document.
    a, b = [arr(1, 2, 3), arr(4, 5, 6, 7, 13)], [arr(8, 9), arr(10, 11, 12)]
    ex0, d0 = packing.pack(a, seq_len=3, eod_id=EOD)  # 0 1 2 | 3 0 4 | 5 6 7 || 13 0 dropped
    ex1, d1 = packing.pack(b, seq_len=3, eod_id=EOD)  # 0 8 9 | 0 10 11 || 12 0 dropped
    assert (d0, d1) == (2, 2)
    spans = [s.tolist() for s in packing.split_at_eod(np.concatenate([ex0, ex1]), EOD)]
    # [4 5 6 7] is a prefix of shard 0's last document, not joined to shard 1's [8 9].
    assert spans == [[1, 2, 3], [4, 5, 6, 7], [8, 9], [10, 11]]


docs_strategy = st.lists(
    st.lists(st.integers(1, 255_999), min_size=1, max_size=40).map(lambda x: np.array(x, np.int32)),
    min_size=0, max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(docs=docs_strategy, seq_len=st.integers(1, 64))
def test_split_at_eod_gives_back_documents_in_order(docs, seq_len):
    ex, dropped = packing.pack(docs, seq_len=seq_len, eod_id=EOD)
    assert ex.shape[1] == seq_len  # no padding: every row is full
    total = sum(len(d) + 1 for d in docs) + bool(docs)  # + the leading [eod]
    assert ex.size + dropped == total and dropped < seq_len
    got = packing.split_at_eod(ex, EOD)
    stream = np.concatenate([[EOD]] + [np.append(d, EOD) for d in docs]).astype(np.int32) \
        if docs else np.zeros(0, np.int32)
    assert ex.reshape(-1).tolist() == stream[: ex.size].tolist()
    # All whole documents that fit come back exactly, in order; then at most one prefix.
    n_whole = max(0, int((stream[: ex.size] == EOD).sum()) - 1)
    assert [g.tolist() for g in got[:n_whole]] == [d.tolist() for d in docs[:n_whole]]
    assert len(got) <= n_whole + 1
    if len(got) > n_whole:
        assert docs[n_whole][: len(got[n_whole])].tolist() == got[n_whole].tolist()


def _histogram(items):
    """``pack.HistogramFn`` as Beam runs it: inputs spread over two accumulators, then merged."""
    fn = HistogramFn()
    accs = [fn.create_accumulator(), fn.create_accumulator()]
    for i, item in enumerate(items):
        accs[i % 2] = fn.add_input(accs[i % 2], item)
    return fn.extract_output(fn.merge_accumulators(accs))


def test_histogram_counts_tokens_per_bucket_of_the_selection_key():
    low, high = 5 << (64 - packing.HIST_BITS), (packing.HIST_SIZE - 1) << (64 - packing.HIST_BITS)
    hist = _histogram([(low, 3), (low + 1, 4), (high, 10), (0, 1)])
    assert hist.dtype == np.int64 and hist.shape == (packing.HIST_SIZE,)
    assert (hist[0], hist[5], hist[-1], hist.sum()) == (1, 7, 10, 18)


def _histograms(sizes_by_component, seed=0):
    hists, keys = {}, {}
    for c, sizes in sizes_by_component.items():
        ks = [packing.selection_key(seed, f"{c}-{i}") for i in range(len(sizes))]
        keys[c] = list(zip(ks, sizes))
        hists[c] = _histogram(keys[c])
    return hists, keys


def _sampled(plan, keys):
    out = {}
    for c, kn in keys.items():
        takes = [plan.take(c, k, n) for k, n in kn]
        out[c] = sum(n * whole + prefix for (k, n), (whole, prefix) in zip(kn, takes))
    return out


def test_default_budget_repeats_nothing_and_hits_shares():
    rng = np.random.default_rng(0)
    sizes = {c: rng.integers(50, 2000, size=n).tolist()
             for c, n in {"web": 3000, "code": 800, "books": 100}.items()}
    shares = {"web": 0.6, "code": 0.3, "books": 0.1}
    hists, keys = _histograms(sizes)
    plan = packing.plan_sampling(hists, shares)
    totals = {c: sum(s) for c, s in sizes.items()}
    assert plan.budget == min(math.floor(totals[c] / shares[c]) for c in shares)
    assert plan.repeats == ()
    assert all(p.rate <= 1.0 and p.epochs <= 1 for p in plan.components.values())
    got = _sampled(plan, keys)
    for c in shares:  # within one token per document of the cut bucket
        assert abs(got[c] - plan.components[c].planned_tokens) <= 5, c
    total = sum(got.values())
    for c, s in shares.items():
        assert abs(got[c] / total - s) < 0.005, (c, got[c] / total)


def test_explicit_budget_repeats_whole_epochs_plus_remainder():
    hists, keys = _histograms({"a": [100] * 50, "b": [10] * 1000})
    plan = packing.plan_sampling(hists, {"a": 0.5, "b": 0.5}, total_tokens=40_000)
    pa_, pb = plan.components["a"], plan.components["b"]
    assert (pa_.tokens, pa_.epochs) == (5000, 4) and pa_.rate == 4.0
    assert (pb.tokens, pb.epochs) == (10_000, 2) and pb.rate == 2.0
    assert set(plan.repeats) == {"a", "b"}
    got = _sampled(plan, keys)
    assert got == {"a": 20_000, "b": 20_000}

    plan = packing.plan_sampling(hists, {"a": 0.5, "b": 0.5}, total_tokens=15_000)
    got = _sampled(plan, keys)
    assert plan.components["a"].epochs == 1 and abs(got["a"] - 7500) <= 1
    assert plan.components["b"].epochs == 0 and abs(got["b"] - 7500) <= 1


def test_a_few_large_documents_still_hit_the_share_with_one_prefix():
    # 5 "chapters" of 10,000 tokens and 1,000 small documents: shares 30/70 need 3 chapters
    # and a part of a fourth; whole documents alone would be 10,000 tokens (~13%) off.
    hists, keys = _histograms({"books": [10_000] * 5, "web": [50] * 1000})
    plan = packing.plan_sampling(hists, {"books": 0.3, "web": 0.7})
    got = _sampled(plan, keys)
    total = sum(got.values())
    assert abs(got["books"] / total - 0.3) < 1e-4 and abs(got["web"] / total - 0.7) < 1e-4
    takes = [plan.take("books", k, n) for k, n in keys["books"]]
    # Budget = 50,000 / 0.7 = 71,428 (web limits): books wants 21,428 = 2 chapters + a prefix.
    assert plan.budget == 71_428 and plan.components["books"].target == 21_428
    assert sum(whole for whole, _ in takes) == 2
    assert [p for _, p in takes if p] == [1_428]


def test_share_zero_component_is_dropped_and_missing_data_is_an_error():
    hists, _ = _histograms({"a": [5] * 10, "b": [5] * 10})
    plan = packing.plan_sampling(hists, {"a": 1.0, "b": 0.0})
    assert set(plan.components) == {"a"} and plan.take("b", 123, 10) == (0, 0)
    with pytest.raises(ValueError, match="no tokens"):
        packing.plan_sampling({"a": hists["a"]}, {"a": 0.5, "c": 0.5})


def test_keys_are_deterministic_and_seed_dependent():
    assert packing.order_key(1, "doc", 0) == packing.order_key(1, "doc", 0)
    assert packing.order_key(1, "doc", 0) != packing.order_key(2, "doc", 0)
    assert packing.order_key(1, "doc", 0) != packing.order_key(1, "doc", 1)
    assert packing.selection_key(1, "doc") != packing.order_key(1, "doc", 0)
    buckets = [packing.bucket_of(packing.selection_key(0, str(i))) for i in range(20000)]
    assert 0.45 < np.mean(np.array(buckets) < packing.HIST_SIZE // 2) < 0.55  # uniform-ish


# -- components per segment (the shards' component sidecars) ----------------------------------
def test_row_components_hand_computed():
    # [eod] d0(7 tokens) [eod] d1 [eod] d2 [eod] d3 [eod] d4(2) [eod]: 18 tokens, rows of 4:
    #   row 0 = lead [eod], d0 x3        -> [-1, 0]   (the leading [eod] is no document's)
    #   row 1 = d0 x4                    -> [0]       (d0 spans rows 0, 1 and 2)
    #   row 2 = d0's [eod], d1 [eod], d2 -> [0, 1, 2] (an [eod] belongs to the document it ends)
    #   row 3 = d2's [eod], d3 [eod], d4 -> [2, 1, 0] (the last row: d4 cut by the dropped tail)
    lengths, comps = [7, 1, 1, 1, 2], [0, 1, 2, 1, 0]
    assert packing.row_components(lengths, comps, seq_len=4) == [[-1, 0], [0], [0, 1, 2], [2, 1, 0]]
    ex, dropped = packing.pack([arr(*[5] * n) for n in lengths], seq_len=4, eod_id=EOD)
    assert dropped == 2 and [int(r.max()) for r in packing.segment_ids(ex, EOD)] == [2, 1, 3, 3]


def test_row_components_many_short_documents_in_one_row_and_a_dropped_one():
    # rows of 8: lead [eod], four 1-token documents with their [eod]s fill row 0 exactly up to
    # d3's token; d3's [eod] and d4 (5 tokens) are the dropped tail: d4 is in no row.
    got = packing.row_components([1, 1, 1, 1, 5], [0, 1, 0, 1, 2], seq_len=8)
    assert got == [[-1, 0, 1, 0, 1]]
    assert packing.row_components([], [], seq_len=8) == []
    assert packing.row_components([3], [1], seq_len=8) == []  # shorter than one row
    with pytest.raises(ValueError, match="2 lengths but 1 components"):
        packing.row_components([1, 2], [0], seq_len=4)


@settings(max_examples=60, deadline=None)
@given(docs=docs_strategy, seq_len=st.integers(1, 48), data=st.data())
def test_row_components_are_the_components_of_each_tokens_segment(docs, seq_len, data):
    """Against pack + segment_ids: per row, one entry per segment, and the component of every
    token (the document it belongs to, an [eod] the one it ends) at ``segment_ids - 1``."""
    comps = data.draw(st.lists(st.integers(0, 5), min_size=len(docs), max_size=len(docs)))
    got = packing.row_components([len(d) for d in docs], comps, seq_len=seq_len)
    ex, _ = packing.pack(docs, seq_len=seq_len, eod_id=EOD)
    owner = np.array([-1] + [c for d, c in zip(docs, comps) for _ in range(len(d) + 1)])
    owner = owner[: ex.size].reshape(ex.shape) if ex.size else owner[:0].reshape(0, seq_len)
    seg = packing.segment_ids(ex, EOD)
    assert len(got) == len(ex)
    for r in range(len(ex)):
        assert len(got[r]) == int(seg[r].max())
        assert np.array_equal(np.asarray(got[r])[seg[r] - 1], owner[r])


def test_component_order_is_sorted_names_with_a_share():
    assert packing.component_order({"web": 0.5, "code": 0.2, "books": 0.0, "news": 0.3}) == \
        ("code", "news", "web")
