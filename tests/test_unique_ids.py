"""Duplicate ids: the first record in (source, record) order keeps an id, later ones are
duplicate_id rejects naming it; reader-made ids never collide."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from palmkit.manifest import Manifest
from palmkit.records import Document, Reason, make_id
from pipelines import unique_ids
from pipelines.corpus import CorpusConfig, main


def test_keeper_is_the_first_origin_and_needs_two_records():
    assert unique_ids.keeper([("b.jsonl", 1), ("a.jsonl", 9), ("a.jsonl", 3)]) == (("a.jsonl", 3), 3)
    assert unique_ids.keeper([("a.jsonl", 1)]) is None


def test_reader_made_ids_are_not_shuffled():
    made = Document(id=make_id("a.jsonl", 4), text="x", component="web", source="a.jsonl", record=4)
    own = Document(id="7", text="x", component="web", source="a.jsonl", record=4)
    assert not unique_ids.has_record_id(made) and unique_ids.has_record_id(own)


def test_corpus_job_rejects_later_duplicate_ids(tmp_path):
    (tmp_path / "web").mkdir()
    for name, ids in (("a.jsonl", [1, 2, 2, 3]), ("b.jsonl", [1, 4, None])):
        (tmp_path / "web" / name).write_text("".join(
            json.dumps({"id": i, "text": f"text {name} {n}"} if i is not None else
                       {"text": f"text {name} {n}"}) + "\n" for n, i in enumerate(ids)))
    (tmp_path / "mix.yaml").write_text("name: one\ncomponents:\n  web: {share: 1.0}\n")
    (tmp_path / "s.yaml").write_text("components:\n  web: [{format: jsonl, path: web/*.jsonl}]\n")
    out = tmp_path / "out"
    m = main(CorpusConfig(sources=str(tmp_path / "s.yaml"), output=str(out),
                          mixture=str(tmp_path / "mix.yaml"), stages=(), num_shards=1))
    web = m.counts["web"]
    assert web["read"] == 7 and web["kept"] == 5 and web["rejected"] == {Reason.DUPLICATE_ID: 2}
    kept = pq.read_table(out / "clean" / "web" / "part-00000-of-00001.parquet").to_pylist()
    ids = sorted(r["id"] for r in kept)
    assert len(ids) == len(set(ids)) and {"1", "2", "3", "4"} <= set(ids)
    assert {(r["id"], r["source"], r["record"]) for r in kept if r["id"] in ("1", "2")} == {
        ("1", "web/a.jsonl", 1), ("2", "web/a.jsonl", 2)}
    rej = pq.read_table(out / "rejects" / "part-00000-of-00001.parquet").to_pylist()
    assert sorted((r["source"], r["record"]) for r in rej) == [("web/a.jsonl", 3), ("web/b.jsonl", 1)]
    assert all("web/a.jsonl:" in r["detail"] and r["reason"] == Reason.DUPLICATE_ID for r in rej)
    assert Manifest.read(str(out), stage="corpus").counts == m.counts
