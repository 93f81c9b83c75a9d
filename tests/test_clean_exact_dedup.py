"""Exact dedup: normalisations, survivor choice, scope, and the stage across runs and workers."""

from __future__ import annotations

import pytest

import mixtures
import apache_beam as beam

from palmkit.records import Document, Reason, to_wire
from pipelines.stage import REJECTS
from pipelines.clean import exact_dedup as ed
from palmkit.errors import UserError
from tests.clean_stage_helpers import doc, job_config, run_stage

PALM = mixtures.get("palm")
NO_DEDUP = mixtures.from_dict({"name": "t", "components": {
    "web": {"share": 0.5}, "dialogue": {"share": 0.5, "cleaning": {"exact_dedup": False}}}})


def test_normalisations():
    a, b = "Grüße aus Köln\n", "  GRU\u0308SSE AUS KÖLN"  # decomposed u-umlaut, other case
    assert ed.text_key(a) != ed.text_key(a.strip())
    assert ed.text_key(a, normalisation="strip") == ed.text_key(a.strip(), normalisation="strip")
    assert ed.normalise(b, "nfc_lower") == "grüsse aus köln"
    assert ed.text_key("Ab", normalisation="nfc_lower") == ed.text_key(" aB ", normalisation="nfc_lower")
    assert len(ed.text_key(a)) == 16
    with pytest.raises(ValueError, match="normalisation"):
        ed.normalise("x", "lower")


def _split(members):
    """split_group's kept ids and (rejected id, survivor) pairs, in order."""
    kept, dups = [], []
    for out in ed.split_group((b"k", members)):
        if isinstance(out, Document):
            kept.append(out.id)
        elif isinstance(out, beam.pvalue.TaggedOutput) and out.tag == REJECTS:
            dups.append((out.value.id, out.value.duplicate_of))
    return kept, dups


def _member(d):
    return (*ed.doc_ref(d, PALM), to_wire(d))


def test_survivor_is_smallest_ref_and_prefers_unsampled_components():
    docs = [doc("wikipedia", "same", 3, id="c"), doc("books", "same", 1, id="a"),
            doc("books", "same", 2, id="b")]
    assert _split([_member(d) for d in docs]) == (["a"], [("c", "a"), ("b", "a")])
    web = doc("web", "same", 0, id="a-web")
    wiki = doc("wikipedia", "same", 0, id="z-wiki")
    assert _split([_member(web), _member(wiki)]) == (["z-wiki"], [("a-web", "z-wiki")])
    assert _split([_member(web)]) == (["a-web"], [])
    assert list(ed.split_group((b"k", []))) == []


class _Paged:
    """A GroupByKey value that can be iterated again but never indexed or measured, as
    Dataflow's paged iterables: holding it as a list would need ``len`` or a copy."""

    def __init__(self, n: int):
        self.n, self.passes = n, 0
        self.wires = [to_wire(doc("web", "same", i, id=f"id{i:08d}")) for i in range(3)]

    def __iter__(self):
        self.passes += 1
        return ((1, f"id{(i * 7919) % self.n:08d}", self.wires[i % 3]) for i in range(self.n))


def test_a_large_group_is_read_twice_as_it_comes():
    group = _Paged(200_003)
    kept = rejected = 0
    for out in ed.split_group((b"k", group)):
        if isinstance(out, Document):
            kept += 1
        elif isinstance(out, beam.pvalue.TaggedOutput) and out.tag == REJECTS:
            rejected += 1
            assert out.value.duplicate_of == "id00000000"
    assert (kept, rejected, group.passes) == (1, 200_002, 2)


def corpus():
    # 3 copies of A spread over the list (different bundles), 2 of B across components.
    docs = [doc("web", f"unique page {i}", i) for i in range(40)]
    docs[3] = doc("web", "text A", 3, id="web-3")
    docs[21] = doc("web", "text A", 21, id="web-21")
    docs[39] = doc("web", "text A", 39, id="web-039")
    docs.append(doc("books", "text B", 0, id="z-book"))
    docs.append(doc("web", "text B", 40, id="a-web"))
    docs.append(doc("wikipedia", "text C", 0, id="wiki-c"))
    docs.append(doc("news", "text C", 0, id="news-c"))
    return docs


def test_stage_survivors_duplicate_of_and_stats_across_workers(tmp_path):
    docs = corpus()
    one = run_stage(ed.ExactDedup(job_config(), PALM), docs, tmp_path / "one")
    dups = {r["id"]: (r["duplicate_of"], r["similarity"], r["reason"]) for r in one["rejects"]}
    assert dups == {
        "web-21": ("web-039", 1.0, Reason.DUPLICATE),  # smallest id: "web-039" < "web-21" < "web-3"
        "web-3": ("web-039", 1.0, Reason.DUPLICATE),
        "a-web": ("z-book", 1.0, Reason.DUPLICATE),  # the unsampled component's copy survives
        "wiki-c": ("news-c", 1.0, Reason.DUPLICATE),
    }
    assert len(one["kept"]) == len(docs) - 4
    assert one["counters"] == {"exact_dedup/web.duplicate": 3, "exact_dedup/wikipedia.duplicate": 1}
    stats = one["stats"]["exact_dedup"]
    assert stats["duplicate_groups"] == 3 and stats["largest_group"] == 3
    assert stats["components"]["web"] == {"docs": 41, "duplicates": 3}
    two = run_stage(ed.ExactDedup(job_config(), PALM), docs, tmp_path / "two", workers=2)
    assert (two["kept"], two["rejects"], two["stats"]) == (one["kept"], one["rejects"], one["stats"])


def test_component_scope_and_opt_out(tmp_path):
    docs = corpus()
    component = job_config(exact_dedup=ed.ExactDedupOptions(scope="component"))
    out = run_stage(ed.ExactDedup(component, PALM), docs, tmp_path / "scope")
    assert {r["id"] for r in out["rejects"]} == {"web-21", "web-3"}
    docs = [doc("web", "hi", 0, id="w0"), doc("web", "hi", 1, id="w1"),
            doc("dialogue", "hi", 0, id="d0"), doc("dialogue", "hi", 1, id="d1")]
    out = run_stage(ed.ExactDedup(job_config(), NO_DEDUP), docs, tmp_path / "optout")
    assert [r["id"] for r in out["rejects"]] == ["w1"]
    assert sorted(r["id"] for r in out["kept"]) == ["d0", "d1", "w0"]


def test_bad_options_fail_at_construction():
    with pytest.raises(UserError, match="^--exact-dedup-scope must be one of corpus, component"):
        ed.ExactDedupOptions(scope="global")
    with pytest.raises(UserError, match="^--exact-dedup-normalisation must be one of"):
        ed.ExactDedupOptions(normalisation="casefold")
