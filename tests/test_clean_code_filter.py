"""Code filter: real license texts (from installed packages) -> keep/reject, PaLM's languages,
the unknown-license options, and the stage."""

from __future__ import annotations

import importlib.metadata as md
import pytest

import mixtures
from palmkit.records import Reason
from pipelines import licenses
from pipelines.clean import code_filter as cf
from pipelines.stage import load_stage
from tests.clean_stage_helpers import doc, job_config, run_stage

PALM = mixtures.get("palm")


def license_text(dist: str, name: str = "LICENSE") -> str:
    """The text of an installed distribution's license file (real license texts)."""
    for f in md.distribution(dist).files or []:
        if f.name == name:
            return f.read_text(encoding="utf-8")
    pytest.skip(f"{dist} has no {name} file in this environment")


def code_doc(spdx, path="src/main.py", language="Python", i=0, **kw):
    return doc("code", "print('hi')\n", i, path=path, repo=kw.pop("repo", "org/repo"),
               license=spdx, programming_language=language, **kw)


@pytest.mark.parametrize("dist,expected,verdict", [
    ("attrs", "MIT", None),
    ("cloudpickle", "BSD-3-Clause", None),
    ("jax", "Apache-2.0", None),
    ("dnspython", "ISC", None),
    ("levenshtein", "GPL-2.0-or-later", Reason.LICENSE),  # copyleft
    ("tqdm", "MPL-2.0", Reason.LICENSE),  # weak copyleft is still copyleft
])
def test_real_license_texts(dist, expected, verdict):
    name = "LICENCE" if dist == "tqdm" else "LICENSE"
    spdx = licenses.detect_license(license_text(dist, name))
    assert spdx == expected
    why = cf.code_rejection(code_doc(spdx), allow_unknown=False)
    assert (why[0] if why else None) == verdict


def test_dual_licensed_repository_is_permissive():
    # cryptography: a LICENSE pointing at LICENSE.APACHE and LICENSE.BSD (choose either).
    files = {n: license_text("cryptography", n) for n in ("LICENSE", "LICENSE.APACHE", "LICENSE.BSD")}
    spdx = licenses.repo_license(files)
    assert spdx == "Apache-2.0 OR BSD-3-Clause"
    assert cf.code_rejection(code_doc(spdx), allow_unknown=False) is None


def test_unknown_license_rejected_unless_allowed():
    unknown = code_doc("unknown", source="gs://corp/code.jsonl")
    reason, detail = cf.code_rejection(unknown, allow_unknown=False)
    assert reason == Reason.LICENSE and "unknown license" in detail
    assert cf.code_rejection(unknown, allow_unknown=True) is None
    assert cf.allows_unknown("gs://corp/code.jsonl", allow_unknown_license_sources=["gs://corp/*"])
    assert not cf.allows_unknown("gs://other/code.jsonl", allow_unknown_license_sources=["gs://corp/*"])
    # Allowing unknown licenses never lets copyleft in.
    assert cf.code_rejection(code_doc("GPL-3.0-only"), allow_unknown=True)[0] == Reason.LICENSE


@pytest.mark.parametrize("path,language,verdict", [
    ("README.md", None, Reason.PROGRAMMING_LANGUAGE),
    ("data/table.csv", None, Reason.PROGRAMMING_LANGUAGE),
    ("lib/x.kt", "Kotlin", Reason.PROGRAMMING_LANGUAGE),  # not one of PaLM's languages
    ("src/a.rs", "Rust", None),
    ("src/b.py", None, None),  # the reader left it empty: the extension decides
    ("src/c.cpp", "cpp", None),  # dataset spelling, normalised
])
def test_programming_languages(path, language, verdict):
    why = cf.code_rejection(code_doc("MIT", path=path, language=language), allow_unknown=False)
    assert (why[0] if why else None) == verdict


def test_stage_filters_only_license_filter_components(tmp_path):
    docs = [
        code_doc("MIT", "a.py", "Python", 0),
        code_doc("Apache-2.0", "b.js", None, 1),
        code_doc("GPL-3.0-only", "c.c", "C", 2),
        code_doc("unknown", "d.go", "Go", 3),
        code_doc("MIT", "e.txt", None, 4),
        doc("wikipedia", "A text document has no license field.", 0),
    ]
    out = run_stage(cf.CodeFilter(job_config(), PALM), docs, tmp_path / "a")
    assert sorted((r["path"], r["programming_language"]) for r in out["kept"] if r["path"]) == [
        ("a.py", "Python"), ("b.js", "JavaScript")]
    assert any(r["component"] == "wikipedia" for r in out["kept"])
    assert sorted(r["reason"] for r in out["rejects"]) == [
        Reason.LICENSE, Reason.LICENSE, Reason.PROGRAMMING_LANGUAGE]
    assert out["counters"] == {"code_filter/code.license": 2,
                               "code_filter/code.programming_language": 1}
    stats = out["stats"]["code_filter"]["components"]["code"]
    assert stats["kept"] == 2 and stats["languages"] == {"JavaScript": 1, "Python": 1}
    # As the corpus job builds it: Stage(config, mixture), options read from the config.
    stage = load_stage("pipelines.clean.code_filter:CodeFilter")(
        job_config(code_filter=cf.CodeFilterOptions(allow_unknown_license=True)), PALM)
    allowed = run_stage(stage, docs, tmp_path / "b")
    assert len(allowed["kept"]) == len(out["kept"]) + 1
