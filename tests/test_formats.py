"""Source formats as one registry of classes: every registered format implements the whole
interface; a new format (a made-up ``tsv``, defined here) goes through the real corpus job with
one registry entry and nothing else changed; the pipelines modules import each other without a
cycle; the path helpers are defined once and importable without Beam."""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from palmkit import paths
from palmkit.manifest import Manifest
from palmkit.records import Reason
from pipelines import corpus, formats, fs, readers
from pipelines.corpus import CorpusConfig
from pipelines.formats.base import COMMON_KEYS, PathFormat, SourceFormat, WorkItem
from pipelines.formats.records import Output, display_path, record_to_document, reject
from pipelines.sources import SourceError, load_sources

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INTERFACE = ("parse", "check", "summary", "text_bytes", "work_items", "plan", "read",
             "describe_item")
MUST_OVERRIDE = ("read", "text_bytes")  # the base raises NotImplementedError


@pytest.mark.parametrize("name", sorted(formats.FORMATS))
def test_every_registered_format_implements_the_whole_interface(name):
    cls = formats.FORMATS[name]
    assert issubclass(cls, SourceFormat) and isinstance(formats.get(name), cls)
    assert isinstance(cls.keys, frozenset) and cls.keys and not cls.keys & COMMON_KEYS
    for method in INTERFACE:
        mine, base = getattr(cls, method), getattr(SourceFormat, method)
        assert callable(mine), method
        assert list(inspect.signature(mine).parameters) == list(
            inspect.signature(base).parameters), (name, method)
    for method in MUST_OVERRIDE:
        assert getattr(cls, method) is not getattr(SourceFormat, method), (name, method)
    assert sys.modules[cls.__module__].__doc__.startswith(f"``{name}``"), name  # keys documented


def _write_inputs(root) -> str:
    """One tiny input of each file format; returns the sources file."""
    (root / "web").mkdir()
    (root / "web" / "a.jsonl").write_text(
        json.dumps({"text": "Ein Satz auf Deutsch."}) + "\n" + json.dumps({"text": "日本語の文"}) + "\n")
    pq.write_table(pa.table({"text": ["Une phrase.", "Otra frase."]}), root / "books.parquet",
                   row_group_size=1)
    (root / "repos" / "r").mkdir(parents=True)
    (root / "repos" / "r" / "m.py").write_text("print('hi')\n")
    (root / "sources.yaml").write_text("""components:
  web: [{format: jsonl, path: "web/*.jsonl"}]
  books: [{format: parquet, path: books.parquet}]
  code: [{format: code_tree, path: "repos/*"}]
""")
    return str(root / "sources.yaml")


def test_the_file_formats_through_their_interface(tmp_path):
    specs = {s.format: s for s in load_sources(_write_inputs(tmp_path))}
    expected = {"jsonl": (2, ["web/a.jsonl"]), "parquet": (2, ["books.parquet row group 0",
                                                               "books.parquet row group 1"]),
                "code_tree": (1, ["repos/r"])}
    for name, (records, described) in expected.items():
        spec = specs[name]
        assert readers.text_bytes(spec) > 0
        assert spec.describe()["inputs"] == 1 and spec.describe()["format"] == name
        items = [w for i in readers.initial_items([spec]) for w in readers.plan(i)]
        assert [readers.describe(i).replace(str(tmp_path) + "/", "") for i in items] == described
        out = [r for i in items for r in readers.read(i, max_doc_bytes=10_000)]
        assert len(out) == records and all(r.component == spec.component for r in out), name


def test_tfds_through_its_interface(tmp_path):
    from tests.test_readers import _build_tfds, sources_body

    data_dir = str(tmp_path / "tfds")
    _build_tfds(data_dir)
    (tmp_path / "sources.yaml").write_text(sources_body(data_dir))
    spec = load_sources(str(tmp_path / "sources.yaml"))[0]
    assert spec.describe() == {"component": "wikipedia", "format": "tfds", "name": "tiny_wiki",
                               "split": "train", "data_dir": data_dir}
    assert readers.text_bytes(spec) == formats.FORMATS["tfds"]().text_bytes(spec) > 0
    items = [w for i in readers.initial_items([spec]) for w in readers.plan(i)]
    assert [readers.describe(i) for i in items] == ["tfds:tiny_wiki/train[0:3]"]
    assert len(list(readers.read(items[0], max_doc_bytes=100))) == 3


# -- a new format: one class, one registry line ------------------------------------------------


class Tsv(PathFormat):
    """``tsv``: ``id<TAB>text`` per line, a made-up format for this test only."""

    def read(self, item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
        source = display_path(item.spec.source_name(item.path))
        with fs.open_file(item.path) as f:
            for n, line in enumerate(f.read().decode("utf-8").splitlines(), 1):
                if "\t" not in line:
                    yield reject(item.spec, source, n, reason=Reason.INVALID_FIELD,
                                 detail="no tab", text=line)
                    continue
                doc_id, text = line.split("\t", 1)
                yield record_to_document({"id": doc_id, "text": text}, spec=item.spec,
                                         source=source, record=n)


TSV_LINES = ["w1\tThe quick brown fox jumps over the lazy dog.",
             "w2\tDer schnelle braune Fuchs springt über den faulen Hund.",
             "no tab on this line",
             "w3\t素早い茶色の狐がのろまな犬を飛び越える。"]


def test_a_new_format_is_one_class_and_one_registry_line(tmp_path, monkeypatch):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "pages.tsv").write_text("\n".join(TSV_LINES) + "\n", encoding="utf-8")
    sources = tmp_path / "sources.yaml"
    sources.write_text("components:\n  web: [{format: tsv, path: 'web/*.tsv'}]\n")
    with pytest.raises(SourceError, match="unknown format 'tsv'"):
        load_sources(str(sources))

    monkeypatch.setitem(formats.FORMATS, "tsv", Tsv)  # the one line
    out = tmp_path / "out"
    manifest = corpus.main(CorpusConfig(sources=str(sources), output=str(out), stages=(),
                                        num_shards=1))
    assert manifest.counts["web"]["read"] == 4 and manifest.counts["web"]["kept"] == 3
    assert manifest.counts["web"]["rejected"] == {Reason.INVALID_FIELD: 1}
    assert manifest.inputs["sources"] == [
        {"component": "web", "format": "tsv", "path": "web/*.tsv", "inputs": 1}]
    clean = pq.read_table(out / "clean" / "web" / "part-00000-of-00001.parquet").to_pylist()
    assert sorted((d["id"], d["text"], d["record"]) for d in clean) == [
        ("w1", TSV_LINES[0][3:], 1), ("w2", TSV_LINES[1][3:], 2), ("w3", TSV_LINES[3][3:], 4)]
    assert {d["source"] for d in clean} == {"web/pages.tsv"}
    assert Manifest.read(str(out), stage="corpus").counts == manifest.counts
    with pytest.raises(SourceError, match=r"unknown key\(s\) \['skip_dirs'\] for format tsv"):
        sources.write_text("components:\n  web: [{format: tsv, path: 'web/*', skip_dirs: []}]\n")
        load_sources(str(sources))


# -- module structure -------------------------------------------------------------------------


def _imports(path: str, modules: set[str]) -> set[str]:
    """Modules of ``modules`` that ``path`` imports, anywhere but under ``if TYPE_CHECKING``
    or ``if __name__ == "__main__"``."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and ("TYPE_CHECKING" in ast.unparse(node.test) or "__main__" in ast.unparse(node.test))
               for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules
                    else node.module for a in node.names}
    return out & modules


def test_pipelines_modules_import_each_other_without_a_cycle():
    files = {}
    for folder, _, names in os.walk(os.path.join(REPO, "pipelines")):
        for name in names:
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(folder, name), REPO)[:-3].replace(os.sep, ".")
                files[rel.removesuffix(".__init__")] = os.path.join(folder, name)
    graph = {m: _imports(p, set(files)) - {m} for m, p in files.items()}
    done, path = set(), []

    def visit(module):
        assert module not in path, f"import cycle: {' -> '.join(path[path.index(module):] + [module])}"
        if module in done:
            return
        path.append(module)
        for dep in sorted(graph[module]):
            visit(dep)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    assert graph["pipelines.readers"] >= {"pipelines.formats"}
    assert "pipelines.readers" not in graph["pipelines.sources"]


def test_path_helpers_are_defined_once_and_need_no_beam():
    from palmkit import manifest

    assert fs.join is manifest.join is paths.join
    assert fs.is_remote is manifest.is_remote is paths.is_remote
    assert paths.join("/r", "") == "/r" and paths.join("/r", "a/b.py") == "/r/a/b.py"
    assert paths.join("gs://b/c", "clean", "x.parquet") == "gs://b/c/clean/x.parquet"
    code = ("import sys, palmkit.manifest, palmkit.paths, palmkit.corpus_files; "
            "sys.exit(any(m.startswith('apache_beam') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
