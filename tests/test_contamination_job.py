"""`palmkit contamination` end to end: a corpus with known inserted benchmark examples."""

import glob
import json
import os
import shutil

import pyarrow.parquet as pq
import pytest

import mixtures
from palmkit.cli import main as cli
from palmkit.corpus_files import clean_files, read_corpus_manifest
from palmkit.manifest import Manifest
from pipelines.contamination.job import ContaminationConfig, main
from tests.corpus_fixture import write_corpus
from tests.sample_text import paragraphs

FIXTURES = os.path.join(os.path.dirname(__file__), "data", "contamination")
EVALS = os.path.join(FIXTURES, "evals.yaml")


def _examples():
    out = {}
    with open(os.path.join(FIXTURES, "qa.jsonl"), encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if isinstance(r.get("id"), str) and "answer" in r:
                out.setdefault(r["id"], r["question"] + "\n" + r["answer"])
    return out


def _first_words(text, k):
    return " ".join(text.split()[:k])


# documents id -> (component, text); which ones hold which example (see tests/data/contamination)
def _docs():
    ex, fill = _examples(), paragraphs(60)
    return {
        "whole": ("web", f"{fill[0]}\n{ex['whole']}\n{fill[1]}"),
        "above": ("web", f"{fill[2]} {_first_words(ex['above'], 20)} {fill[3]}"),  # 13/18 grams
        "below": ("books", f"{fill[4]} {_first_words(ex['below'], 18)} {fill[5]}"),  # 12/20
        "exact70": ("books", f"{fill[6]} {_first_words(ex['exact70'], 14)}. {fill[7]}"),  # 7/10
        "reformat": ("web", fill[8] + "\nHOW MANY golden   coins, did the CLEVER merchant hide\n"
                            "beneath seven loose floor-boards".replace("floor-boards",
                                                                       "floorboards")
                     + " in his crowded harbour warehouse??? exactly FORTY TWO coins!!" + fill[9]),
        "short": ("web", f"{fill[10]} Who wrote Hamlet? Shakespeare, of course. {fill[11]}"),
        **{f"filler{i}": ("web" if i % 2 else "books", fill[12 + i]) for i in range(20)},
    }


CONTAMINATED = {"whole", "above", "exact70", "reformat", "short"}
CLEAN = {"below", "absent"}
REMOVED = {"whole", "above", "below", "exact70", "reformat"}  # share a 13-gram; "short" is < 8


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("contamination")
    docs = _docs()
    by_comp = {}
    for name, (comp, text) in sorted(docs.items()):
        by_comp.setdefault(comp, []).append(("en", text))
    mix = root / "mix.yaml"
    mix.write_text("name: two\ncomponents:\n  web: {share: 0.5}\n  books: {share: 0.5}\n")
    path = write_corpus(root / "corpus", by_comp, mixture=str(mix), files_per_component=2)
    ids = {}  # which corpus document id holds which inserted text
    for f in glob.glob(f"{path}/clean/*/*.parquet"):
        for row in pq.read_table(f).to_pylist():
            ids[row["id"]] = next(k for k, (_, t) in docs.items() if t == row["text"])
    return path, ids


def _run(corpus, out, *extra):
    args = ["contamination", "--corpus", corpus, "--eval-sets", EVALS, "--output", str(out),
            *extra]
    assert cli(args) == 0
    return Manifest.read(str(out), stage="contamination")


def _lists(out):
    with open(os.path.join(out, "sets", "qa.json"), encoding="utf-8") as f:
        return json.load(f)


def test_finds_exactly_the_inserted_examples(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    manifest = _run(corpus[0], out)
    lists = _lists(out)
    assert set(lists["contaminated"]) == CONTAMINATED and set(lists["clean"]) == CLEAN
    rows = {r["id"]: r for r in pq.read_table(out / "sets" / "qa.parquet").to_pylist()}
    assert (rows["above"]["hits"], rows["above"]["ngrams"]) == (13, 18)
    assert (rows["below"]["hits"], rows["below"]["ngrams"]) == (12, 20)
    assert rows["exact70"]["overlap"] == pytest.approx(0.7) and rows["whole"]["overlap"] == 1.0
    assert (rows["short"]["ngram_len"], rows["short"]["ngrams"]) == (4, 1)
    summary = manifest.extra["summary"]["sets"]["qa"]
    assert summary["examples"] == 7 and summary["contaminated"] == 5
    assert summary["rejected"] == {"duplicate_id": 1, "empty": 1, "invalid_field": 1,
                                   "invalid_json": 1, "missing_text": 1}
    rejects = pq.read_table(out / "rejects").to_pylist()
    assert all(r["detail"].startswith("qa.jsonl:") for r in rejects) and len(rejects) == 5
    printed = capsys.readouterr().out
    assert "qa" in printed and "71.4%" in printed  # 5 of 7, as the paper's table shows it
    for rel, entry in manifest.outputs.items():
        assert os.path.getsize(out / rel) == entry.bytes


def test_normalisation_options_change_what_matches(corpus, tmp_path):
    _run(corpus[0], tmp_path / "case", "--no-lowercase")
    assert "reformat" in _lists(tmp_path / "case")["clean"]
    _run(corpus[0], tmp_path / "strict", "--n", "4", "--fraction", "1.0")
    got = set(_lists(tmp_path / "strict")["contaminated"])
    assert got == {"whole", "reformat", "short"}  # partial ones are under 100% of 4-grams


def test_remove_writes_a_corpus_pack_accepts_without_exactly_the_expected_documents(corpus,
                                                                                   tmp_path):
    path, ids = corpus
    out = tmp_path / "out"
    manifest = _run(path, out, "--remove")
    decon = str(out / "corpus")
    cm = read_corpus_manifest(decon, checksums=True)  # what `palmkit pack` checks first
    mixture = mixtures.from_manifest(cm.config)
    mixture.check_components(clean_files(cm), what=decon)
    kept = {ids[r["id"]] for f in glob.glob(f"{decon}/clean/*/*.parquet")
            for r in pq.read_table(f).to_pylist()}
    assert kept == set(ids.values()) - REMOVED
    rejects = pq.read_table(f"{decon}/rejects").to_pylist()
    assert {ids[r["id"]] for r in rejects} == REMOVED
    assert all(r["reason"] == "contamination" and "qa example '" in r["detail"] for r in rejects)
    assert {ids[r["id"]]: r["detail"].split("'")[1] for r in rejects}["below"] == "below"
    for comp, c in cm.counts.items():
        assert c["read"] == c["kept"] + sum(c["rejected"].values())
    assert sum(c["read"] for c in cm.counts.values()) == len(ids)
    assert manifest.extra["decontaminated"] == cm.counts
    # the file names and order are the input's
    assert sorted(clean_files(cm)) == sorted(clean_files(Manifest.read(path, stage="corpus")))


def test_user_mistakes_are_one_line_exit_2(corpus, tmp_path, capsys):
    path = corpus[0]
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("sets:\n  qa: {format: code_tree, path: x}\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(f"sets:\n  qa: {{format: jsonl, path: {FIXTURES}/qa.jsonl, colour: 1}}\n")
    cases = [
        (["--corpus", path, "--eval-sets", str(tmp_path / "missing.yaml")], "not found"),
        (["--corpus", path, "--eval-sets", str(bad_yaml)], "format 'code_tree'"),
        (["--corpus", path, "--eval-sets", str(unknown)], "unknown key(s) ['colour']"),
        (["--eval-sets", EVALS], "exactly one of --corpus"),
        (["--corpus", path, "--eval-sets", EVALS, "--fraction", "0"], "--fraction"),
        (["--corpus", path, "--eval-sets", EVALS, "--unit", "tokens"], "--vocab"),
        (["--corpus", str(tmp_path), "--eval-sets", EVALS], "manifest.json not found"),
    ]
    for args, message in cases:
        code = cli(["contamination", *args, "--output", str(tmp_path / "o")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and message in err[0], (args, err)
    _run(path, tmp_path / "done")
    assert cli(["contamination", "--corpus", path, "--eval-sets", EVALS, "--output",
                str(tmp_path / "done")]) == 2
    assert "--overwrite" in capsys.readouterr().err


def _tree(folder):
    return {os.path.relpath(p, folder): open(p, "rb").read()
            for p in sorted(glob.glob(f"{folder}/**/*", recursive=True)) if os.path.isfile(p)}


@pytest.mark.slow  # two multi-processing workers start in ~20-40 s on a loaded 2-core box
def test_one_and_two_workers_give_identical_bytes(corpus, tmp_path):
    path = corpus[0]
    _run(path, tmp_path / "one", "--remove", "--direct_num_workers=1")
    _run(path, tmp_path / "two", "--remove", "--direct_num_workers=2",
         "--direct_running_mode=multi_processing")
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    assert one.keys() == two.keys() and one == two


def test_a_second_run_gives_identical_bytes(corpus, tmp_path):
    path = corpus[0]
    config = ContaminationConfig(corpus=path, eval_sets=EVALS, output=str(tmp_path / "a"),
                                 remove=True)
    main(config)
    shutil.copytree(tmp_path / "a", tmp_path / "kept")
    main(ContaminationConfig(corpus=path, eval_sets=EVALS, output=str(tmp_path / "a"),
                             remove=True, overwrite=True))
    assert _tree(tmp_path / "a") == _tree(tmp_path / "kept")
