"""Metadata pass-through: a sources entry's ``keep`` fields land in ``Document.metadata`` (a
``map<string, string>`` Parquet column), for JSONL and Parquet; ``palmkit stats`` counts
documents per kept ``dump``."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from palmkit import stats
from palmkit.manifest import Manifest, file_entry
from palmkit.records import DOCUMENT_SCHEMA, Document, Reason, Reject, documents_to_table
from pipelines import formats
from pipelines.formats.records import kept_metadata, metadata_value, record_to_document
from pipelines.sources import SourceError, load_sources

ROWS = [
    {"id": "a", "text": "Bonjour tout le monde.", "url": "https://a.fr/x",
     "dump": "CC-MAIN-2024-10"},
    {"id": "b", "text": "日本語の文です。", "url": "https://b.jp/y", "dump": 2024, "date": None},
    {"id": "c", "text": "Hello.", "dump": ["x", {"k": 1}]},  # no url at all
]
EXPECTED = [
    {"url": "https://a.fr/x", "dump": "CC-MAIN-2024-10"},
    {"url": "https://b.jp/y", "dump": "2024"},  # a number: JSON-encoded; null date: left out
    {"dump": '["x", {"k": 1}]'},  # missing url: absent from the map
]


def read_all(sources: str) -> list:
    out = []
    for spec in load_sources(sources):
        fmt = formats.get(spec.format)
        for item in fmt.work_items(spec):
            for part in fmt.plan(item):
                out += list(fmt.read(part, max_doc_bytes=10_000))
    return out


def sources_file(tmp_path, fmt: str, path: str, keep="[url, date, dump]") -> str:
    f = tmp_path / "sources.yaml"
    f.write_text(f"components:\n  web:\n    - {{format: {fmt}, path: {path}, keep: {keep}}}\n")
    return str(f)


def test_keep_for_jsonl(tmp_path):
    (tmp_path / "web.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                                for r in ROWS), encoding="utf-8")
    docs = read_all(sources_file(tmp_path, "jsonl", "web.jsonl"))
    assert [d.metadata for d in docs] == EXPECTED


def test_keep_for_parquet(tmp_path):
    table = pa.table({"id": ["a", "b", "c"], "text": ["Bonjour.", "日本語の文です。", "Hello."],
                      "url": ["https://a.fr/x", None, "https://c/z"],
                      "dump": pa.array([2024, 2023, 2024], pa.int64()),
                      "tags": [["x", "é"], [], None]})
    pq.write_table(table, tmp_path / "web.parquet")
    docs = read_all(sources_file(tmp_path, "parquet", "web.parquet",
                                 keep="[url, dump, tags, nope]"))
    assert [d.metadata for d in docs] == [
        {"url": "https://a.fr/x", "dump": "2024", "tags": '["x", "é"]'},  # int, list: JSON
        {"dump": "2023", "tags": "[]"},  # a null column value is left out, like "nope"
        {"url": "https://c/z", "dump": "2024"}]


def test_no_keep_leaves_metadata_empty(tmp_path):
    (tmp_path / "web.jsonl").write_text(json.dumps(ROWS[0]) + "\n")
    [doc] = read_all(sources_file(tmp_path, "jsonl", "web.jsonl", keep="[]"))
    assert doc.metadata == {}


def test_values_are_strings_or_json():
    assert metadata_value("été", "f") == "été"
    assert metadata_value(b"\xffok", "f") == "\ufffdok"
    assert metadata_value(3.5, "f") == "3.5" and metadata_value(True, "f") == "true"
    assert metadata_value({"b": 1, "a": "ü"}, "f") == '{"a": "ü", "b": 1}'
    assert metadata_value(None, "f") is None


def test_a_format_sets_metadata_and_keep_adds_to_it(tmp_path):
    (tmp_path / "web.jsonl").write_text(json.dumps(ROWS[0]) + "\n")
    [spec] = load_sources(sources_file(tmp_path, "jsonl", "web.jsonl", keep="[dump]"))
    doc = record_to_document(ROWS[0], spec=spec, source="s", record=1,
                             metadata={"url": "https://warc/x", "date": "2024-01-01"})
    assert doc.metadata == {"url": "https://warc/x", "date": "2024-01-01",
                            "dump": "CC-MAIN-2024-10"}
    assert kept_metadata({}, keep=("x",)) == {}


def test_unstorable_kept_value_rejects_its_record(tmp_path):
    (tmp_path / "web.jsonl").write_text(json.dumps(ROWS[0]) + "\n")
    [spec] = load_sources(sources_file(tmp_path, "jsonl", "web.jsonl", keep="[url]"))
    out = record_to_document({"text": "t", "url": "bad \ud800"}, spec=spec, source="s", record=1)
    assert isinstance(out, Reject) and out.reason == Reason.INVALID_FIELD
    assert "kept field 'url'" in out.detail


@pytest.mark.parametrize("keep", ["url", "[1, 2]", "['']"])
def test_bad_keep_is_refused(tmp_path, keep):
    (tmp_path / "web.jsonl").write_text(json.dumps(ROWS[0]) + "\n")
    with pytest.raises(SourceError, match="'keep' lists record field names"):
        load_sources(sources_file(tmp_path, "jsonl", "web.jsonl", keep=keep))


def test_metadata_column_round_trips():
    assert DOCUMENT_SCHEMA.field("metadata").type == pa.map_(pa.string(), pa.string())
    table = documents_to_table([Document("a", "t", "web", "s", 0, metadata={"dump": "d"}),
                                Document("b", "t", "web", "s", 1)])
    assert table.column("metadata").to_pylist() == [[("dump", "d")], []]


def test_stats_count_documents_per_dump(tmp_path):
    os.makedirs(tmp_path / "clean" / "web")
    docs = [Document(f"id{i}", "some text", "web", "s", i, language="en",
                     metadata={"dump": dump} if dump else {})
            for i, dump in enumerate(["CC-2024-10", "CC-2024-10", "CC-2023-50", None])]
    rel = "clean/web/part-00000.parquet"
    pq.write_table(documents_to_table(docs), tmp_path / rel)
    Manifest(stage="corpus", config={"mixture": "palm"},
             outputs={rel: file_entry(str(tmp_path / rel), len(docs))},
             counts={"web": {"read": 4, "kept": 4, "rejected": {}}}).write(str(tmp_path))
    result = stats.corpus_stats(str(tmp_path))
    assert result["components"]["web"]["dumps"] == {"CC-2023-50": 1, "CC-2024-10": 2}
    assert "web documents per dump: CC-2023-50 1, CC-2024-10 2" in stats.format_table(result)
