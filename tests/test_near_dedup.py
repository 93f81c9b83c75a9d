"""Near-dedup: pure functions on real source files, bounded buckets, the chaining guard, and
the Beam stage (kept / rejects / stats / counters, determinism across worker counts)."""

from __future__ import annotations

import json
import os

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

import mixtures
from palmkit.records import Document, Reason
from pipelines.clean import minhash
from pipelines.clean.near_dedup import (
    LEVENSHTEIN,
    NearDedup,
    NearDedupOptions,
    SendPayloadsDoFn,
    VerifyDoFn,
    bucket_candidates,
    resolve_component,
    route_for_resolve,
    summarise,
)
from pipelines.clean.near_dedup_checks import IntegrityError
from pipelines.stage import STATS
from tests.clean_stage_helpers import job_config

#: The sample corpus's code tree: two releases each of packaging and six, real near-duplicates.
REPOS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "data", "sample", "code", "repos")
PARAMS = NearDedupOptions().minhash
PERMS = minhash.permutations(PARAMS)


def real(rel: str) -> str:
    """A real source file of the bundled sample code tree (``data/sample/code/repos/REL``)."""
    with open(os.path.join(REPOS, rel), encoding="utf-8") as f:
        return f.read()


def drop_lines(text: str, every: int, offset: int) -> str:
    """Delete every ``every``-th non-empty line (starting at ``offset``): a real-looking edit."""
    lines = text.splitlines(keepends=True)
    return "".join(l for i, l in enumerate(lines) if not (i % every == offset and l.strip()))


def doc(i: str, text: str, component: str = "code") -> Document:
    return Document(id=i, text=text, component=component, source=f"/data/{i}.py", record=0)


# ---------------------------------------------------------------- pure functions


def test_similarity_is_exact_above_threshold_and_a_bound_below():
    a = real("packaging-24.0/src/packaging/specifiers.py")
    b = a.replace("def contains(", "def contains_(", 1).replace("Specifier", "Specifer", 3)
    exact = 1 - __import__("Levenshtein").distance(a, b) / max(len(a), len(b))
    assert minhash.levenshtein_similarity(a, b, 0.9) == pytest.approx(exact)
    # Length ratio 0.5 < 0.9: answered from the lengths alone, below the threshold.
    assert minhash.levenshtein_similarity(a, a[: len(a) // 2], 0.9) == pytest.approx(0.5, abs=1e-3)
    unrelated = real("packaging-24.0/src/packaging/markers.py")
    assert minhash.levenshtein_similarity(a, unrelated, 0.9) < 0.9


def test_threshold_boundary_is_exact_in_floating_point():
    # int((1 - 0.9) * 2390) == 238, so with a naive cutoff every pair beyond it came back as
    # distance 239 = similarity exactly 0.9 and passed, whatever its real distance (a first
    # benchmark run removed 828 files below 0.9 to their survivor, 553 of them below 0.5).
    for length in (2390, 1000, 17):
        for threshold in (0.9, 0.85):
            d = minhash.max_distance(length, threshold)
            a = "a" * length
            at, past = "b" * d + a[d:], "b" * (d + 1) + a[d + 1 :]
            assert minhash.levenshtein_similarity(a, at, threshold) >= threshold
            assert minhash.levenshtein_similarity(a, past, threshold) < threshold


def test_tokens_ignore_punctuation_but_keep_digits_and_case():
    assert np.array_equal(minhash.token_hashes("x = 'a'"), minhash.token_hashes('x = "a"'))
    assert not np.array_equal(minhash.token_hashes("v = 1"), minhash.token_hashes("v = 2"))
    assert not np.array_equal(minhash.token_hashes("Foo"), minhash.token_hashes("foo"))
    assert minhash.token_hashes("  \n ").size == 0 and minhash.shingle_hashes("", 3).size == 1


def test_signature_is_deterministic_and_estimates_jaccard():
    a, b = (real(f"packaging-{v}/src/packaging/specifiers.py") for v in ("23.2", "24.0"))
    sig_a = minhash.signature(a, PARAMS, PERMS)
    assert sig_a.dtype == np.uint32 and sig_a.size == PARAMS.num_perm
    assert np.array_equal(sig_a, minhash.signature(a, PARAMS, minhash.permutations(PARAMS)))
    sa, sb = (set(minhash.shingle_hashes(t, PARAMS.shingle_size).tolist()) for t in (a, b))
    exact = len(sa & sb) / len(sa | sb)
    est = minhash.jaccard_estimate(sig_a, minhash.signature(b, PARAMS, PERMS))
    assert abs(est - exact) < 0.12  # 100 permutations: std <= 0.05


def test_giant_bucket_stays_linear_and_connected():
    n = 5000  # e.g. 5,000 copies of one license header: same size, same band
    members = [(120, f"id{i:05d}") for i in range(n)]
    pairs = list(bucket_candidates((b"\x00\x00code\x00", members), min_ratio={"code": 0.9}, max_partners=8))
    assert len(pairs) <= 8 * n and len(set(pairs)) == len(pairs)
    parent = {m: m for _, m in members}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(b)] = find(a)
    assert len({find(m) for _, m in members}) == 1


def test_small_bucket_gives_all_pairs_and_length_ratio_prunes():
    members = [(100, "a"), (101, "b"), (99, "c"), (10, "tiny")]
    pairs = set(bucket_candidates((b"\x00\x01code\x00", members), min_ratio={"code": 0.9}, max_partners=8))
    assert pairs == {("a", "b"), ("a", "c"), ("b", "c")}  # "tiny" can never reach 0.9


def test_chaining_guard_keeps_the_far_end_of_a_chain():
    a = real("six-1.16.0/six.py")
    b = drop_lines(a, 14, 3)  # ~7% of lines removed: A~B
    c = drop_lines(b, 13, 5)  # another ~7%: B~C, but A vs C below 0.9
    cfg = NearDedupOptions()
    sims = {k: minhash.levenshtein_similarity(x, y) for k, x, y in (("ab", a, b), ("bc", b, c), ("ac", a, c))}
    assert sims["ab"] >= 0.9 and sims["bc"] >= 0.9 and sims["ac"] < 0.9, sims
    out = {d.id: (s.id if s else None, sim) for d, s, sim in
           resolve_component([doc("A", a), doc("B", b), doc("C", c)], options=cfg, mode=LEVENSHTEIN)}
    assert out["A"][0] is None and out["C"][0] is None  # C is not removed for A
    assert out["B"][0] == "A" and out["B"][1] == pytest.approx(sims["ab"])


# ---------------------------------------------------------------- the Beam stage


def mixture():
    return mixtures.from_dict({
        "name": "test",
        "components": {
            "code": {"share": 0.5, "cleaning": {"code_near_dedup": True}},
            "web": {"share": 0.3},
            "books": {"share": 0.2, "cleaning": {"text_near_dedup": True}},
        },
    })


def stage_inputs() -> list[Document]:
    tags = real("packaging-24.0/src/packaging/tags.py")
    edited = tags.replace("platforms", "platfs", 2).replace("    def __hash__(self) -> int:",
                                                            "    def __hash__(self):")
    prose = " ".join(f"word{i} of chapter one, said the narrator" for i in range(300))
    return [
        doc("six_1_16", real("six-1.16.0/six.py")),  # the longer release: the survivor
        doc("six_1_15", real("six-1.15.0/six.py")),
        doc("version", real("packaging-24.0/src/packaging/version.py")),
        doc("specifiers", real("packaging-24.0/src/packaging/specifiers.py")),
        doc("tags", tags),
        doc("tags_edited", edited),
        doc("web_copy", real("six-1.16.0/six.py"), component="web"),
        doc("book", prose, component="books"),
        doc("book_copy", prose.replace("narrator", "narrater", 1), component="books"),
    ]


def test_stage_removes_real_near_duplicates_and_keeps_different_modules():
    docs = stage_inputs()
    with TestPipeline() as p:
        out = p | beam.Create(docs) | NearDedup(job_config(), mixture())
        assert_that(out.kept | beam.Map(lambda d: d.id), equal_to(
            ["six_1_16", "version", "specifiers", "tags", "web_copy", "book"]), label="Kept")
        assert_that(
            out.rejects | beam.Map(lambda r: (r.id, r.reason, r.duplicate_of, r.similarity >= 0.8)),
            equal_to([
                ("six_1_15", Reason.NEAR_DUPLICATE, "six_1_16", True),
                ("tags_edited", Reason.NEAR_DUPLICATE, "tags", True),
                ("book_copy", Reason.NEAR_DUPLICATE, "book", True),
            ]),
            label="Rejects",
        )
        stats = out.stats | beam.Map(lambda kv: (
            kv[0], kv[1]["removed"], kv[1]["components"], kv[1]["verified_pairs"],
            kv[1]["rounds_to_converge"],
            kv[1]["candidate_pairs"] == kv[1]["payloads_sent"] == kv[1]["pairs_compared"] > 0))
        assert_that(stats, equal_to([("near_dedup", 3, 3, 3, 0, True)]), label="Stats")
    counters = p.result.metrics().query()["counters"]
    by_name = {c.key.metric.name: c.committed for c in counters if c.key.metric.namespace == "near_dedup"}
    assert by_name == {"code.near_duplicate": 2, "books.near_duplicate": 1}


def stats_of(outputs) -> dict:
    """The ``(key, n)`` stats rows among a DoFn's outputs, summed."""
    out: dict = {}
    for o in outputs:
        if isinstance(o, beam.pvalue.TaggedOutput) and o.tag == STATS:
            key, n = o.value
            out[key] = out.get(key, 0) + n
    return out


def test_a_join_group_that_arrives_without_its_document_fails_the_stage():
    """A runner that hands a group over in pieces (the document in one call, its partners or
    payloads in another) would keep near-duplicates silently; it is counted and fails."""
    from palmkit.records import to_wire

    options, modes = NearDedupOptions(), {"code": LEVENSHTEIN}
    a, b = doc("a", real("six-1.16.0/six.py")), doc("b", real("six-1.15.0/six.py"))
    send, verify = SendPayloadsDoFn(options, modes), VerifyDoFn(options, modes)
    send.setup(), verify.setup()
    whole = list(send.process(("a", {"doc": [to_wire(a)], "partner": ["b"]})))
    payload = next(o.value for o in whole if getattr(o, "tag", None) == "sent")
    assert stats_of(whole) == {"payloads_sent": 1}
    compared = list(verify.process(("b", {"doc": [to_wire(b)], "firsts": [payload[1]]})))
    assert ("a", "b") in compared and stats_of(compared) == {"pairs_compared": 1}
    good = [("candidate_pairs", 1), ("payloads_sent", 1), ("pairs_compared", 1)]
    assert summarise(good)["verified_pairs"] == 0  # the edge count comes from its own step
    # The pieces: partners without the document, payloads without it, a label without it.
    orphans = (stats_of(send.process(("a", {"doc": [], "partner": ["b"]})))
               | stats_of(verify.process(("b", {"doc": [], "firsts": [payload[1]]})))
               | stats_of(route_for_resolve(("b", {"doc": [], "root": ["a"]}))))
    assert orphans == {"unmatched.partners": 1, "unmatched.payloads": 1, "unmatched.labels": 1}
    for key, n in orphans.items():
        with pytest.raises(IntegrityError, match="in pieces"):
            summarise(good + [(key, n)])
    with pytest.raises(IntegrityError, match="1 candidate pairs, 1 payloads sent, 0 compared"):
        summarise(good[:2])  # a payload lost on the way
    assert "unmatched.labels" not in summarise(good + [("unmatched.labels", 0)])
    # A component resolved in two pieces: two resolve groups for one root label.
    one_component = good + [("unmatched.roots", 1), ("components", 1)]
    assert summarise(one_component)["components"] == 1
    with pytest.raises(IntegrityError, match="'unmatched.roots': -1"):
        summarise(good + [("unmatched.roots", 1), ("components", 2)])
    # A node labelled twice: the final neighbour grouping of the components came in pieces.
    twice = stats_of(route_for_resolve(("b", {"doc": [to_wire(b)], "root": ["a", "b"]})))
    assert twice == {"unmatched.labels_repeated": 1}
    assert stats_of(route_for_resolve(("b", {"doc": [to_wire(b)], "root": ["a"]}))) == {}
    with pytest.raises(IntegrityError, match="'unmatched.labels_repeated': 1"):
        summarise(good + list(twice.items()))


def one_end_only(pair):
    """A broken ``pair_ends``: only the smaller id learns its partner (a lost half of a join)."""
    yield pair


def test_stage_fails_when_a_join_loses_part_of_its_input(monkeypatch):
    from pipelines.clean import near_dedup

    monkeypatch.setattr(near_dedup, "pair_ends", one_end_only)
    with pytest.raises(Exception, match="groups without their document"):
        with TestPipeline() as p:
            _ = p | beam.Create(stage_inputs()) | NearDedup(job_config(), mixture())


def run_to_files(docs, out_dir: str, options: PipelineOptions) -> tuple[list, list]:
    with beam.Pipeline(options=options) as p:
        out = p | beam.Create(docs) | NearDedup(job_config(), mixture())
        _ = out.kept | "Ids" >> beam.Map(lambda d: d.id) | "W1" >> beam.io.WriteToText(f"{out_dir}/kept")
        _ = (out.rejects | "Rows" >> beam.Map(lambda r: json.dumps([r.id, r.duplicate_of, r.similarity]))
             | "W2" >> beam.io.WriteToText(f"{out_dir}/rejects"))
    read = lambda prefix: sorted(  # noqa: E731
        line.strip() for name in os.listdir(out_dir) if name.startswith(prefix)
        for line in open(os.path.join(out_dir, name)))
    return read("kept"), read("rejects")


@pytest.mark.slow
def test_same_output_with_one_or_two_worker_processes(tmp_path):
    docs = stage_inputs()
    one = run_to_files(docs, str(tmp_path / "one"), PipelineOptions())
    two = run_to_files(docs, str(tmp_path / "two"), PipelineOptions(
        direct_num_workers=2, direct_running_mode="multi_processing"))
    assert one == two and len(one[1]) == 3


@pytest.mark.parametrize("text", ["déjà vu 日本語 " * 50, "\udc80 lone surrogate", None, b"raw"])
def test_documents_cross_joins_as_compressed_bytes_unchanged(text):
    """The joins hold ``to_wire`` bytes (text zlib-compressed by ``Document.__reduce__``);
    documents not yet validated may carry any text type."""
    from palmkit.records import from_wire, to_wire

    doc = Document(id="d1", text=text, component="code", source="s", record=3,
                   language="en", path="a/b.py", license="MIT")
    wire = to_wire(doc)
    assert from_wire(wire) == doc
    if isinstance(text, str) and len(text) > 100:
        assert len(wire) < len(text.encode("utf-8", "surrogatepass")) / 3
