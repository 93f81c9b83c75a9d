"""The shipped public-data recipe (recipes/palm_public/, docs/recipe.md) parses and runs.

Each entry of the recipe's sources files is pointed at a small fixture of the real dataset's
shape, written here: Parquet files with FineWeb's, The Stack's, Wikipedia's and CC-News's column
names, an OpenAssistant-style JSONL file, and a TFDS array_record dataset with the features of
the TFDS datasets the recipe names (``tfds.testing.mock_data`` cannot stand in here: without
TensorFlow ``wiki40b``/``c4`` do not even resolve, and mocked ``pg19`` reports no prepared
split, so the fixture is a tiny builder of the same features under another name). File names
follow each dataset's published layout (the folder structure of its Hugging Face repository; the
CC-News file name is a guess, which the recipe's `**` glob tolerates), so the recipe's globs are
checked against it too.
"""

from __future__ import annotations

import fnmatch
import functools
import gzip
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from pipelines import corpus, formats
from pipelines.corpus import CorpusConfig
from pipelines.sources import load_sources

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPE = os.path.join(ROOT, "recipes", "palm_public")
FIXTURE_TFDS = "recipe_tfds_fixture"

#: Recipe glob -> a file name as the dataset publishes it (checked to match the glob).
FILES = {
    "data/dialogue/oasst_top1/*.jsonl*": "data/dialogue/oasst_top1/2023-08-25_oasst_top1.jsonl.gz",
    "data/web/fineweb/data/*/*.parquet": "data/web/fineweb/data/CC-MAIN-2024-10/000_00000.parquet",
    "data/web/fineweb-2/data/*/train/*.parquet":
        "data/web/fineweb-2/data/deu_Latn/train/000_00000.parquet",
    "data/code/the-stack-dedup/data/*/*.parquet":
        "data/code/the-stack-dedup/data/python/data-00000-of-00144.parquet",
    "data/wikipedia/20231101.*/*.parquet":
        "data/wikipedia/20231101.de/train-00000-of-00020.parquet",
    "data/news/cc_news/**/*.parquet": "data/news/cc_news/plain_text/train-00000-of-00005.parquet",
    "data/web/c4/en/c4-train.*.json.gz": "data/web/c4/en/c4-train.00000-of-01024.json.gz",
    "data/web/cc-wet/*.warc.wet.gz": "data/web/cc-wet/CC-MAIN-20240220211055-00000.warc.wet.gz",
}

TEXTS = {
    "dialogue": "<|im_start|>user\nWie koche ich Reis?<|im_end|>\n<|im_start|>assistant\n"
                "Zwei Teile Wasser auf einen Teil Reis.<|im_end|>\n",
    "web": "The river flooded the valley twice in the nineteenth century.",
    "books": "CHAPTER I.\n\nIt was a dark and stormy night; the rain fell in torrents.",
    "code": "def add(a, b):\n    return a + b\n",
    "wikipedia": "Berlin ist die Hauptstadt der Bundesrepublik Deutschland.",
    "news": "The city council approved the new budget on Tuesday evening.",
}

# The columns each dataset publishes (dataset cards, docs/recipe.md).
FINEWEB_COLUMNS = ["text", "id", "dump", "url", "date", "file_path", "language",
                   "language_score", "token_count"]
STACK_COLUMNS = ["hexsha", "size", "ext", "lang", "max_stars_repo_path", "max_stars_repo_name",
                 "max_stars_repo_licenses", "max_stars_count", "content", "avg_line_length"]


def _row(component: str, columns: list[str], i: int, tag: str) -> dict:
    text = f"{TEXTS[component]} ({tag} {i})"
    values = {"text": text, "content": text, "id": f"<urn:uuid:{tag}-{i}>",
              "url": f"https://example.org/{component}/{i}", "hexsha": f"{i:040x}",
              "lang": "Python", "max_stars_repo_path": f"src/add_{i}.py",
              "max_stars_repo_name": "octo/adder", "max_stars_repo_licenses": ["MIT"],
              "language": "en", "language_score": 0.9, "token_count": 12, "size": len(text),
              "max_stars_count": 3, "avg_line_length": 16.0, "ext": "py", "title": "T",
              "dump": "CC-MAIN-2024-10", "date": "2024-02-20", "file_path": "s3://x",
              "domain": "example.org"}
    return {c: values.get(c, "") for c in columns}


def _write_parquet(path: str, component: str, columns: list[str]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tag = path.split("/data/", 1)[-1]  # ids unique across files, as FineWeb's UUIDs are
    pq.write_table(pa.Table.from_pylist([_row(component, columns, i, tag) for i in range(3)]),
                   path)


def _write_wet(path: str) -> None:
    """One WARC/1.0 `conversion` record per page, gzipped, as Common Crawl's WET files are."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with gzip.open(path, "wb") as f:
        for i in range(2):
            body = f"{TEXTS['web']} ({i})\n".encode()
            head = (f"WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: "
                    f"https://example.org/{i}\r\nWARC-Record-ID: <urn:uuid:wet-{i}>\r\n"
                    f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n")
            f.write(head.encode() + body + b"\r\n\r\n")


@functools.cache
def _tfds_builder():
    """A builder with the features of pg19, wiki40b and c4 (defined once per process)."""
    tfds = pytest.importorskip("tensorflow_datasets")

    class RecipeTfdsFixture(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")
        code_path = None  # no checksums file next to the code (see tests/test_readers.py)

        def _info(self):
            text = tfds.features.Text
            features = tfds.features.FeaturesDict({
                "book_text": text(), "book_id": tfds.features.Scalar(dtype=np.int32),  # pg19
                "text": text(), "wikidata_id": text(),  # wiki40b
                "url": text()})  # c4
            return tfds.core.DatasetInfo(builder=self, features=features)

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples()}

        def _generate_examples(self):
            for i in range(3):
                yield i, {"book_text": f"{TEXTS['books']} ({i})", "book_id": 100 + i,
                          "text": f"{TEXTS['wikipedia']} ({i})", "wikidata_id": f"Q{i}",
                          "url": f"https://example.org/c4/{i}"}

    assert RecipeTfdsFixture.name == FIXTURE_TFDS
    return RecipeTfdsFixture


def _fixture_recipe(tmp_path, name: str, *, only_registered: bool = False
                    ) -> tuple[str, list[tuple[str, dict]]]:
    """Copy recipe ``name`` to tmp_path with fixtures under data/; returns (yaml, entries).

    ``only_registered`` leaves out entries whose format is not in ``formats.FORMATS`` (``wet``
    while it is being added)."""
    with open(os.path.join(RECIPE, name)) as f:
        data = yaml.safe_load(f)
    entries = []
    for component, sources in data["components"].items():
        if only_registered:
            sources[:] = [e for e in sources if e["format"] in formats.FORMATS]
        for entry in sources:
            entries.append((component, entry))
            if entry["format"] == "tfds":
                entry["name"] = FIXTURE_TFDS  # the real name stays in the shipped file
                data_dir = str(tmp_path / entry["data_dir"])
                if not os.path.isdir(os.path.join(data_dir, FIXTURE_TFDS)):
                    _tfds_builder()(data_dir=data_dir,
                                    file_format="array_record").download_and_prepare()
                continue
            path = FILES[entry["path"]]
            assert fnmatch.fnmatch(path, entry["path"]), (path, entry["path"])
            target = str(tmp_path / path)
            if entry["format"] == "parquet":
                columns = (STACK_COLUMNS if component == "code" else
                           FINEWEB_COLUMNS if component == "web" else
                           ["id", "url", "title", "text"] if component == "wikipedia" else
                           ["title", "text", "domain", "date", "description", "url"])
                _write_parquet(target, component, columns)
            elif entry["format"] == "jsonl":
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with gzip.open(target, "wt", encoding="utf-8") as f:
                    for i in range(3):  # OpenAssistant: text; C4: text, timestamp, url
                        f.write(json.dumps({"text": f"{TEXTS[component]} ({i})",
                                            "url": f"https://example.org/{i}"}) + "\n")
            elif entry["format"] == "wet":
                _write_wet(target)
            else:
                raise AssertionError(f"no fixture for format {entry['format']}")
    out = tmp_path / name
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(out), entries


def test_recipe_covers_every_palm_component():
    with open(os.path.join(RECIPE, "sources.yaml")) as f:
        components = set(yaml.safe_load(f)["components"])
    with open(os.path.join(ROOT, "mixtures", "palm.yaml")) as f:
        assert components == set(yaml.safe_load(f)["components"])


def test_recipe_mixture_keeps_palm_proportions_outside_dialogue():
    import mixtures

    palm, public = mixtures.get("palm"), mixtures.get(os.path.join(RECIPE, "mixture.yaml"))
    assert set(public.components) == set(palm.components)
    assert public.components["dialogue"].share == 0.01
    for name, comp in public.components.items():
        if name != "dialogue":
            assert comp.share == pytest.approx(palm.components[name].share * 0.99 / 0.5)
            assert comp.cleaning == palm.components[name].cleaning, name


def test_every_recipe_path_is_under_data():
    """One thing to change: where data/ is (a link, or the documented sed for gs://)."""
    for name in ("sources.yaml", "alternatives.yaml"):
        with open(os.path.join(RECIPE, name)) as f:
            text = f.read()
        # docs/recipe.md: sed 's#"data/#"gs://MY_BUCKET/palm_public/#'
        moved = yaml.safe_load(text.replace('"data/', '"gs://MY_BUCKET/palm_public/'))
        for original, sources in zip(yaml.safe_load(text)["components"].values(),
                                     moved["components"].values()):
            for entry, gs_entry in zip(original, sources):
                for key in ("path", "data_dir"):
                    if key in entry:
                        assert entry[key].startswith("data/"), (name, entry)
                        assert gs_entry[key] == "gs://MY_BUCKET/palm_public/" + entry[key][5:]
                assert "path" in entry or "data_dir" in entry, (name, entry)


def test_every_entry_of_the_recipe_parses(tmp_path):
    path, entries = _fixture_recipe(tmp_path, "sources.yaml")
    specs = load_sources(path)
    assert [(s.component, s.format) for s in specs] == [(c, e["format"]) for c, e in entries]
    assert all(s.inputs or s.format == "tfds" for s in specs)


def test_corpus_job_on_the_recipe_keeps_records_in_every_component(tmp_path):
    path, _ = _fixture_recipe(tmp_path / "in", "sources.yaml")
    out = tmp_path / "out"
    manifest = corpus.main(CorpusConfig(sources=path, output=str(out), stages=(), num_shards=1,
                                        mixture=os.path.join(RECIPE, "mixture.yaml")))
    counts = manifest.counts
    assert set(counts) == set(TEXTS)
    for component, c in counts.items():
        assert c["kept"] >= 3 and not c["rejected"], (component, c)
    code = pq.read_table(out / "clean" / "code").to_pylist()
    assert {(d["license"], d["path"][:7], d["repo"], d["programming_language"]) for d in code} \
        == {("MIT", "src/add", "octo/adder", "Python")}
    books = pq.read_table(out / "clean" / "books").to_pylist()
    assert sorted(d["id"] for d in books) == ["100", "101", "102"]


def test_alternatives_parse(tmp_path):
    """C4 and Wiki-40B through TFDS; the Common Crawl WET entry once the `wet` format exists."""
    path, entries = _fixture_recipe(tmp_path, "alternatives.yaml", only_registered=True)
    specs = load_sources(path)
    assert [(s.component, s.format) for s in specs] == [(c, e["format"]) for c, e in entries]
    assert {s.format for s in specs} >= {"tfds"}


@pytest.mark.skipif("wet" not in formats.FORMATS,
                    reason="the `wet` format (Common Crawl WET files) is not registered yet")
def test_alternatives_wet_entry_reads(tmp_path):
    path, _ = _fixture_recipe(tmp_path / "in", "alternatives.yaml")
    manifest = corpus.main(CorpusConfig(sources=path, output=str(tmp_path / "out"), stages=(),
                                        num_shards=1))
    assert manifest.counts["web"]["kept"] >= 2
