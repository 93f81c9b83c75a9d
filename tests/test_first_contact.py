"""First contact: a corpus job that removes (nearly) all of a component says so in one line and
in the manifest, and `palmkit pack` then refuses in one line naming the component and the fix."""

from __future__ import annotations

import os

import pytest

from palmkit.cli import main as cli
from palmkit.manifest import Manifest
from pipelines.corpus import collapse_warnings
from tests.corpus_fixture import write_corpus

ROOT = os.path.join(os.path.dirname(__file__), "..")
SAMPLE_SOURCES = os.path.join(ROOT, "data", "sample", "sources.yaml")


def _counts(read, kept, rejected):
    return {"read": read, "kept": kept, "kept_bytes": 0, "rejected": rejected}


def test_collapse_warning_names_the_stage_the_value_and_the_fix():
    counts = {"web": _counts(130, 0, {"quality": 128, "duplicate": 1, "empty": 1}),
              "books": _counts(10, 10, {})}
    [line] = collapse_warnings(counts, {"quality": {"alpha": 9.0}})
    assert line.startswith("component web: quality sampling at --quality-alpha 9 kept 0 of 130")
    assert "128 rejected as quality" in line and "try --quality-alpha 1" in line
    assert "\n" not in line


def test_collapse_warning_above_99_percent_only():
    assert collapse_warnings({"web": _counts(1000, 10, {"quality": 990})}, {}) == []
    [line] = collapse_warnings({"web": _counts(1000, 9, {"heuristic_word_count": 991})}, {})
    assert "heuristics: false" in line
    [line] = collapse_warnings({"code": _counts(5, 0, {"license": 5})}, {})
    assert "--allow-unknown-license" in line
    assert collapse_warnings({"news": _counts(0, 0, {})}, {}) == []  # nothing read: nothing lost


def test_pack_refuses_an_empty_component_in_one_line(tmp_path, capsys):
    mix = tmp_path / "mix.yaml"
    mix.write_text("name: two\ncomponents:\n  web: {share: 0.5}\n  books: {share: 0.5}\n")
    corpus = write_corpus(tmp_path / "corpus", {"web": [], "books": [("en", "A book. " * 50)]},
                          mixture=str(mix))
    rc = cli(["pack", "--corpus", corpus, "--vocab", str(tmp_path / "none.model"),
              "--output", str(tmp_path / "shards")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert "component web has a share in the mixture but no kept documents" in err[0]
    assert "share 0" in err[0]


@pytest.mark.slow
def test_readme_commands_on_the_sample_warn_then_pack_refuses(tmp_path, capsys):
    """README's commands in order, defaults, on data/sample: alpha 9 keeps none of the sample's
    web pages (a classifier trained on ~130 pages separates them from the curated text)."""
    corpus, vocab = str(tmp_path / "corpus"), str(tmp_path / "vocab")
    assert cli(["corpus", "--sources", SAMPLE_SOURCES, "--output", corpus]) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if "WARNING" in line and "component web" in line]
    assert len(warned) == 1 and "--quality-alpha 9 kept 0 of 130" in warned[0], err[-3000:]
    assert "try --quality-alpha 1" in warned[0]
    manifest = Manifest.read(corpus, stage="corpus")
    assert [w.split(":")[0] for w in manifest.extra["warnings"]] == ["component web"]
    # The sample supports an 8,000-piece vocabulary (README's 256k needs ~200 MB of text).
    assert cli(["vocab", "train", "--corpus", corpus, "--output", vocab,
                "--vocab-size", "8000"]) == 0
    capsys.readouterr()
    rc = cli(["pack", "--corpus", corpus, "--vocab", vocab + ".model",
              "--output", str(tmp_path / "shards")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith("palmkit pack: error: component web has a share")
    assert "--quality-alpha 1" in err[0]
