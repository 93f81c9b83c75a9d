"""Readers, sources files, license detection and extension -> language: pure functions, real
files in tmp_path (JSONL plain/.gz/.zst, Parquet row groups, a code tree with real license texts,
a TFDS array_record dataset built here without TensorFlow)."""

from __future__ import annotations

import functools
import gzip
import json
import os
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from palmkit.records import Document, Reason, Reject, make_id
from pipelines import code_languages, licenses, readers
from pipelines.formats import tfds as tfds_format
from pipelines.sources import SourceError, load_sources


LINES = [
    {"id": "en-1", "text": "The quick brown fox jumps over the lazy dog."},
    {"text": "Der schnelle braune Fuchs springt über den faulen Hund."},
    {"text": "素早い茶色の狐がのろまな犬を飛び越える。"},
    {"text": "الثعلب البني السريع يقفز فوق الكلب الكسول"},
]


def write_sources(tmp_path, body: str) -> str:
    path = tmp_path / "sources.yaml"
    path.write_text(body)
    return str(path)


def read_all(sources: str, *, max_doc_bytes: int = 10_000_000) -> list:
    items = [w for i in readers.initial_items(load_sources(sources)) for w in readers.plan(i)]
    return [r for item in items for r in readers.read(item, max_doc_bytes=max_doc_bytes)]


def jsonl_bytes(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst"])
def test_jsonl_plain_gzip_zstd_give_the_same_documents(tmp_path, suffix):
    data = jsonl_bytes(LINES)
    data = {"": data, ".gz": gzip.compress(data, mtime=0),
            ".zst": zstandard.ZstdCompressor().compress(data)}[suffix]
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / f"a.jsonl{suffix}").write_bytes(data)
    out = read_all(write_sources(tmp_path, "components:\n  web:\n    - {format: jsonl, path: 'web/*'}\n"))
    assert [d.text for d in out] == [r["text"] for r in LINES]
    source = f"web/a.jsonl{suffix}"  # relative to the sources file: outputs survive a move
    assert [d.source for d in out] == [source] * 4 and [d.record for d in out] == [1, 2, 3, 4]
    assert out[0].id == "en-1" and out[1].id == make_id(source, 2)


def test_jsonl_bad_lines_become_rejects_with_their_line(tmp_path):
    good = json.dumps({"text": "ok"}).encode()
    body = b"\n".join([good, b"{not json", b"[1, 2]", b"   ", b'{"text": "caf\xe9"}', good]) + b"\n"
    (tmp_path / "a.jsonl").write_bytes(body)
    out = read_all(write_sources(tmp_path, "components:\n  web: [{format: jsonl, path: a.jsonl}]\n"))
    got = [(type(r).__name__, r.record, getattr(r, "reason", None)) for r in out]
    assert got == [("Document", 1, None), ("Reject", 2, Reason.INVALID_JSON),
                   ("Reject", 3, Reason.INVALID_JSON), ("Reject", 5, Reason.INVALID_UTF8),
                   ("Document", 6, None)]  # line 4 is blank: not a record
    assert out[1].detail.startswith("a.jsonl:2: ") and out[3].text == "{\"text\": \"caf\ufffd\"}"


def test_truncated_gzip_keeps_records_before_and_rejects_the_rest(tmp_path):
    rows = [{"text": f"document number {i} " * 20} for i in range(500)]
    data = gzip.compress(jsonl_bytes(rows), mtime=0)
    (tmp_path / "t.jsonl.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "z.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd garbage, not a zstd frame")
    out = read_all(write_sources(tmp_path, "components:\n  web: [{format: jsonl, path: '*.jsonl.*'}]\n"))
    docs = [r for r in out if isinstance(r, Document)]
    bad = [r for r in out if isinstance(r, Reject)]
    assert 0 < len(docs) < 500 and [d.record for d in docs] == list(range(1, len(docs) + 1))
    assert [(r.source, r.reason) for r in bad] == [("t.jsonl.gz", Reason.UNREADABLE),
                                                   ("z.jsonl.zst", Reason.UNREADABLE)]
    assert bad[0].record == len(docs) + 1 and f"from line {len(docs) + 1}" in bad[0].detail
    assert bad[1].record == 1


def test_parquet_is_split_by_row_group_and_keeps_code_fields(tmp_path):
    n = 25
    table = pa.table({
        "content": [f"def f{i}():\n    return {i}\n" for i in range(n)],
        "max_stars_repo_path": [f"src/f{i}.py" for i in range(n)],
        "max_stars_repo_name": ["octo/cat"] * n,
        "max_stars_repo_licenses": [["mit", "Apache-2.0"]] * n,
        "lang": ["python"] * (n - 1) + [None],
    })
    pq.write_table(table, tmp_path / "stack.parquet", row_group_size=10)
    sources = write_sources(tmp_path, """components:
  code:
    - format: parquet
      path: stack.parquet
      text_field: content
      fields: {path: max_stars_repo_path, repo: max_stars_repo_name,
               license: max_stars_repo_licenses, programming_language: lang}
""")
    items = list(readers.plan(readers.initial_items(load_sources(sources))[0]))
    assert [i.start for i in items] == [0, 1, 2]  # one work item per row group
    docs = [d for i in items for d in readers.read(i, max_doc_bytes=10**6)]
    assert [d.record for d in docs] == list(range(n))
    assert docs[24].text == table["content"][24].as_py() and docs[24].path == "src/f24.py"
    assert {(d.repo, d.license, d.programming_language) for d in docs} == {
        ("octo/cat", "Apache-2.0 AND MIT", "Python")}  # last row: language from the extension


def _copy_license(repo, name: str, license_file: str) -> None:
    shutil.copy(os.path.join(LICENSE_DIR, license_file), repo / name)


LICENSE_DIR = os.path.join(os.path.dirname(__file__), "data", "licenses")
REAL_LICENSES = [  # (file in tests/data/licenses, expected SPDX id, class)
    ("MIT.txt", "MIT", licenses.PERMISSIVE),
    ("Apache-2.0.txt", "Apache-2.0", licenses.PERMISSIVE),
    ("BSD-3-Clause.txt", "BSD-3-Clause", licenses.PERMISSIVE),
    ("BSD-2-Clause.txt", "BSD-2-Clause", licenses.PERMISSIVE),
    ("ISC.txt", "ISC", licenses.PERMISSIVE),
    ("PSF-2.0.txt", "PSF-2.0", licenses.PERMISSIVE),
    ("MIT-0.txt", "MIT-0", licenses.PERMISSIVE),
    ("GPL-2.0-or-later.txt", "GPL-2.0-or-later", licenses.COPYLEFT),
    ("MPL-2.0.txt", "MPL-2.0", licenses.COPYLEFT),
]


@pytest.mark.parametrize("name,spdx,cls", REAL_LICENSES)
def test_detect_license_on_real_license_files(name, spdx, cls):
    path = os.path.join(LICENSE_DIR, name)
    found = licenses.detect_license(open(path, encoding="utf-8", errors="replace").read())
    assert (found, licenses.classify(found)) == (spdx, cls)


def test_gnu_family_and_mentions():
    lgpl = "GNU LESSER GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007\n ... GNU General Public License"
    assert licenses.detect_license(lgpl) == "LGPL-3.0-only"
    agpl = "This program is free software: under the terms of the GNU Affero General Public " \
           "License as published by the FSF, either version 3 of the License, or (at your " \
           "option) any later version."
    assert licenses.detect_license(agpl) == "AGPL-3.0-or-later"
    assert licenses.detect_license("Copyright 2020 nobody. All rights reserved.") == "unknown"
    assert licenses.detect_license("// SPDX-License-Identifier: GPL-2.0") == "GPL-2.0-only"
    readme = "# tool\nDoes things.\n\n## License\n\nReleased under the MIT License.\n"
    assert licenses.detect_license_mention(readme) == "MIT"
    assert licenses.classify("MIT OR GPL-3.0-only") == licenses.PERMISSIVE  # the user may choose
    assert licenses.classify("MIT AND GPL-3.0-only") == licenses.COPYLEFT  # both apply
    assert licenses.classify("unknown") == licenses.classify(None) == licenses.UNKNOWN
    assert licenses.normalize_license(["mit"]) == "MIT" and licenses.normalize_license([]) == "unknown"


def test_code_tree_reader(tmp_path):
    repos = tmp_path / "repos"
    mit, dual, gpl, readme_only, none = (repos / n for n in ("mit", "dual", "gpl", "rd", "none"))
    for r in (mit, dual, gpl, readme_only, none):
        (r / "src").mkdir(parents=True)
        (r / "src" / "main.py").write_text("print('hello')\n")
    _copy_license(mit, "LICENSE", REAL_LICENSES[0][0])
    _copy_license(dual, "LICENSE-APACHE", REAL_LICENSES[1][0])
    _copy_license(dual, "LICENSE-MIT", REAL_LICENSES[0][0])
    _copy_license(gpl, "COPYING", "GPL-2.0-or-later.txt")
    (readme_only / "README.md").write_text("# rd\n\n## License\n\nApache License, Version 2.0\n")
    for skipped in (".git", "node_modules/lib", "vendor"):
        (mit / skipped).mkdir(parents=True)
        (mit / skipped / "x.js").write_text("var x = 1;\n")
    (mit / "Main.Java").write_text("class Main {}\n")
    (mit / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (mit / "blob.c").write_bytes(b"\x00\xff\xfe binary")
    (mit / "big.go").write_text("package main\n" + "// pad\n" * 200)
    sources = write_sources(tmp_path, "components:\n  code: [{format: code_tree, path: 'repos/*'}]\n")
    out = read_all(sources, max_doc_bytes=1000)
    by_path = {(r.source.split("/")[1], getattr(r, "path", None) or r.source.split("/", 2)[2]): r
               for r in out}
    assert not any("node_modules" in s or ".git" in s or "vendor" in s for _, s in by_path)
    assert by_path["mit", "Main.Java"].programming_language == "Java"
    licenses_found = {repo: r.license for (repo, p), r in by_path.items() if p == "src/main.py"}
    assert licenses_found == {"mit": "MIT", "dual": "Apache-2.0 OR MIT", "gpl": "GPL-2.0-or-later",
                              "rd": "Apache-2.0", "none": "unknown"}
    reasons = {p: r.reason for (repo, p), r in by_path.items() if isinstance(r, Reject)}
    assert reasons["logo.png"] == Reason.PROGRAMMING_LANGUAGE and reasons["LICENSE"] == reasons["logo.png"]
    assert reasons["blob.c"] == Reason.BINARY and reasons["big.go"] == Reason.TOO_LARGE
    doc = by_path["mit", "src/main.py"]
    assert (doc.repo, doc.record, doc.component, doc.source) == ("mit", 0, "code", "repos/mit/src/main.py")


def test_code_languages_cover_palm_table_28():
    assert len(code_languages.PALM_LANGUAGES) == 25  # the paper says 24, its Table 28 lists 25
    assert set(code_languages.EXTENSIONS.values()) == set(code_languages.PALM_LANGUAGES)
    cases = {"a/b.py": "Python", "x.H": "C", "y.hpp": "C++", "m.m": "MATLAB", "s.R": "R",
             "n.ipynb": "Jupyter Notebook", "k.el": "Emacs Lisp", "Makefile": None, "a.md": None,
             ".bashrc": None, "v.vb": "Visual Basic", "t.tcl": "Tcl", "c.cs": "C#"}
    assert {p: code_languages.language_for_path(p) for p in cases} == cases
    assert code_languages.normalize_language("c++") == "C++"
    assert code_languages.normalize_language("Kotlin") == "Kotlin" and not code_languages.is_palm_language("Kotlin")


def test_sources_errors_name_the_problem(tmp_path):
    (tmp_path / "a.jsonl").write_text("{}\n")
    cases = {
        "components: [": "not valid YAML",
        "components:\n  web: [{format: csv, path: a.jsonl}]\n": "unknown format 'csv'",
        "components:\n  web: [{format: jsonl, path: a.jsonl, colour: red}]\n": "unknown key(s) ['colour']",
        "components:\n  web: [{format: jsonl, path: 'nothing/*.jsonl'}]\n": "no file matches",
        "components:\n  code: [{format: code_tree, path: 'nothing/*'}]\n": "no directory matches",
        "components:\n  web: [{format: jsonl}]\n": "needs a 'path'",
        "sources:\n  web: []\n": "one top-level key 'components'",
        "components:\n  web: [{format: jsonl, path: a.jsonl, fields: {colour: c}}]\n": "'fields' maps",
    }
    for body, message in cases.items():
        with pytest.raises(SourceError, match="sources.yaml") as e:
            load_sources(write_sources(tmp_path, body))
        assert message in str(e.value), body
    with pytest.raises(SourceError, match="not found"):
        load_sources(str(tmp_path / "missing.yaml"))
    abs_spec = load_sources(write_sources(
        tmp_path, f"components:\n  web: [{{format: jsonl, path: '{tmp_path}/a.jsonl'}}]\n"))[0]
    assert abs_spec.inputs == (str(tmp_path / "a.jsonl"),)


# -- TFDS (array_record, no TensorFlow) -------------------------------------------------------

TFDS_TEXTS = ["Wikipedia ist eine Enzyklopädie.", "", "Wikipédia est une encyclopédie."]


@functools.cache
def _tiny_wiki():
    """The builder class, defined once: TFDS refuses to register a name twice per process."""
    tfds = pytest.importorskip("tensorflow_datasets")

    class TinyWiki(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")
        # No checksums file next to the code: without this, tfds looks for one through the
        # `importlib_resources` backport, which the pinned environment does not have.
        code_path = None

        def _info(self):
            features = tfds.features.FeaturesDict(
                {"text": tfds.features.Text(), "wikidata_id": tfds.features.Text()})
            return tfds.core.DatasetInfo(builder=self, features=features)

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples()}

        def _generate_examples(self):
            for i, text in enumerate(TFDS_TEXTS):
                yield i, {"text": text, "wikidata_id": f"Q{i}"}

    return TinyWiki


def _build_tfds(data_dir: str) -> None:
    _tiny_wiki()(data_dir=data_dir, file_format="array_record").download_and_prepare()


def test_tfds_array_record_without_tensorflow(tmp_path, monkeypatch):
    data_dir = str(tmp_path / "tfds")
    _build_tfds(data_dir)
    monkeypatch.setattr(tfds_format, "TFDS_RANGE", 2)  # 3 records -> 2 work items
    sources = write_sources(tmp_path, f"""components:
  wikipedia:
    - {{format: tfds, name: tiny_wiki, split: train, data_dir: {data_dir}, id_field: wikidata_id}}
""")
    items = list(readers.plan(readers.initial_items(load_sources(sources))[0]))
    assert [(i.start, i.stop) for i in items] == [(0, 2), (2, 3)]
    out = [d for i in items for d in readers.read(i, max_doc_bytes=10**6)]
    assert [(d.id, d.text, d.record) for d in out] == [
        (f"Q{i}", t, i) for i, t in enumerate(TFDS_TEXTS)]
    assert out[0].source == "tfds:tiny_wiki/train" and out[0].component == "wikipedia"
    with pytest.raises(SourceError, match="split 'test'"):
        load_sources(write_sources(tmp_path, sources_body(data_dir, split="test")))
    with pytest.raises(SourceError, match="not found"):
        load_sources(write_sources(tmp_path, sources_body(data_dir, name="no_such_dataset")))


def sources_body(data_dir: str, *, name: str = "tiny_wiki", split: str = "train") -> str:
    return (f"components:\n  wikipedia:\n    - {{format: tfds, name: {name}, split: {split}, "
            f"data_dir: {data_dir}}}\n")
