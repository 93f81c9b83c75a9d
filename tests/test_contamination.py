"""Pure parts of the contamination check: normalisation, units, hashes, the rule, the report."""

import subprocess
import sys

import numpy as np
import pytest

from palmkit.report import contamination as report
from pipelines.contamination import ngrams
from pipelines.contamination.ngrams import Normalisation


@pytest.mark.parametrize("a, b", [
    ("Which river flows through ROME?", "which   river\nflows through rome"),
    ("L'été à Paris, enfin!", "l été à paris enfin"),
    ("Ünïcödé — Straße (München)", "ünïcödé straße münchen"),
    ("東京は日本の首都です。", "東京は日本の首都です"),
])
def test_default_normalisation_ignores_case_punctuation_and_whitespace(a, b):
    assert ngrams.words(a) == ngrams.words(b)


def test_each_normalisation_can_be_switched_off():
    assert ngrams.words("Rome ROME") == ["rome", "rome"]
    assert ngrams.words("Rome ROME", Normalisation(lowercase=False)) == ["Rome", "ROME"]
    assert ngrams.words("end.Start", Normalisation(punctuation=False)) == ["end.start"]
    assert ngrams.words("end.Start") == ["end", "start"]
    spaced = Normalisation(whitespace=False)
    assert ngrams.words("a  b c", spaced) == ["a  ", "b ", "c"] != ngrams.words("a b c", spaced)


def _units(text):
    return ngrams.WordHasher()(ngrams.words(text))


def test_gram_hashes_are_one_per_position_and_equal_for_equal_grams():
    u = _units("a b c d a b c d")
    g = ngrams.gram_hashes(u, 4)
    assert len(g) == 5 and g.dtype == np.int64
    assert g[0] == g[4] and len(set(g.tolist())) == 4  # "a b c d" twice, 4 distinct
    assert len(ngrams.gram_hashes(u, 9)) == 0
    # the same words at another length never collide with a shorter gram of them
    assert not set(ngrams.gram_hashes(u, 3).tolist()) & set(g.tolist())


def test_hashes_are_stable_across_processes():
    """Workers are separate processes (Python's str hash is salted per process): the n-gram
    hash must not depend on it."""
    code = ("from pipelines.contamination import ngrams as n;"
            "print(n.gram_hashes(n.WordHasher()(n.words('one two three four')), 2).tolist())")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}
    assert runs == {str(ngrams.gram_hashes(_units("one two three four"), 2).tolist()) + "\n"}


def test_short_examples_are_one_gram_of_their_whole_length():
    grams, m = ngrams.example_grams(_units("who wrote hamlet"), 8)
    assert m == 3 and len(grams) == 1
    doc = _units("nobody knows who wrote hamlet really")
    assert ngrams.hits(doc, [3], grams).tolist() == grams.tolist()
    assert len(ngrams.hits(_units("who wrote macbeth"), [3], grams)) == 0


def test_hits_keep_only_distinct_grams_found_in_the_index():
    example, _ = ngrams.example_grams(_units("the quick brown fox jumps over the lazy dog"), 4)
    doc = _units("a quick brown fox jumps high; the quick brown fox jumps again")
    found = ngrams.hits(doc, [4], example)
    assert len(found) == 2 and set(found.tolist()) <= set(example.tolist())
    assert len(ngrams.hits(doc, [4], np.empty(0, dtype=np.int64))) == 0


def test_token_units_hash_ids():
    a = ngrams.token_unit_hashes([5, 6, 7, 5])
    assert a.dtype == np.uint64 and a[0] == a[3] and len(set(a.tolist())) == 3


@pytest.mark.parametrize("hits, grams, expected", [
    (7, 10, True), (6, 10, False), (13, 18, True), (12, 18, False), (1, 1, True), (0, 0, False)])
def test_the_papers_rule_at_seventy_percent(hits, grams, expected):
    assert ngrams.contaminated(hits, grams, 0.7) is expected


SUMMARY = {"rule": {"n": 8, "fraction": 0.7, "unit": "words"},
           "sets": {"b<x>": {"examples": 4, "contaminated": 1, "clean": 3,
                             "contaminated_percent": 25.0, "rejected": {"invalid_json": 2}},
                    "a": {"examples": 0, "contaminated": 0, "clean": 0,
                          "contaminated_percent": 0.0, "rejected": {}}}}


def test_summary_rows_table_and_escaped_html():
    rows = report.summary_rows(SUMMARY)
    assert [r["set"] for r in rows] == ["a", "b<x>"] and rows[1]["rejected"] == 2
    table = report.summary_table(SUMMARY)
    assert "70%" in table and "25.0%" in table and table.splitlines()[-1].split()[:3] == [
        "total", "4", "1"]
    page = report.html_section(SUMMARY)
    assert "b&lt;x&gt;" in page and "<script" not in page and "b<x>" not in page


def test_removal_grams_by_example_length():
    """--remove: 13-grams; an example of n..12 units is one gram of its whole length; one
    shorter than n removes nothing (a 3-word answer would remove much of a corpus)."""
    from palmkit.records import Document, Reject
    from pipelines.contamination.scan import UnitSpec, Units, to_example

    units = Units(UnitSpec("words", Normalisation()))

    def example(k):
        doc = Document(id="e", text=" ".join(f"w{i}" for i in range(k)), component="qa",
                       source="qa.jsonl", record=1)
        return to_example(doc, units, n=8, remove_ngram=13)

    assert (example(20).long_len, len(example(20).long_grams)) == (13, 8)
    assert (example(10).long_len, len(example(10).long_grams)) == (10, 1)
    assert (example(5).long_len, len(example(5).long_grams), example(5).gram_len) == (0, 0, 5)
    empty = to_example(Document(id="p", text="?!", component="qa", source="qa.jsonl",
                                record=2), units, n=8, remove_ngram=None)
    assert isinstance(empty, Reject) and empty.reason == "empty"


def test_membership_filter_never_loses_an_indexed_hash():
    rng = np.random.default_rng(0)
    index = np.unique(rng.integers(-2**63, 2**63 - 1, 5000, dtype=np.int64))
    bits = ngrams.membership_filter(index)
    assert ngrams.may_contain(bits, index).all()
    others = rng.integers(-2**63, 2**63 - 1, 100_000, dtype=np.int64)
    assert ngrams.may_contain(bits, others).mean() < 0.05  # ~1/32 false positives
    doc = _units(" ".join(f"w{i}" for i in range(300)))
    grams = ngrams.gram_hashes(doc, 8)
    mixed = np.unique(np.concatenate([index, grams[::7]]))
    assert (ngrams.hits(doc, [8], mixed, ngrams.membership_filter(mixed)).tolist()
            == ngrams.hits(doc, [8], mixed).tolist() == np.unique(grams[::7]).tolist())
