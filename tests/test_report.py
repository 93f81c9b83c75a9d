"""The HTML report (`palmkit stats --html`): sections, funnel arithmetic, escaping, bounded reads.

``write_demo_like(root)`` writes a corpus output and a pack output shaped like the demo's
(clean files, rejects, a manifest with every stage's statistics, optionally stage timings and
hostile text) without running Beam, so these tests take a second; the browser test
(tests/test_browser_report.py) renders the same output in Chromium.
"""

from __future__ import annotations

import dataclasses
import html.parser
import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest

from palmkit import report, stats
from palmkit.cli import main as cli
from palmkit.errors import UserError
from palmkit.manifest import Manifest, file_entry
from palmkit.records import Document, Reject, documents_to_table, rejects_to_table
from palmkit.report import Context, funnel, sizes
from palmkit.report.content import mixture_language_shares
from palmkit.report.page import clean_text, esc
from palmkit.stats_cli import StatsConfig, main as stats_main
from tests.shards_fixture import random_tokens, write_shards

STAGES = ["pipelines.clean.langid:LanguageId", "pipelines.clean.heuristics:Heuristics",
          "pipelines.clean.code_filter:CodeFilter", "pipelines.clean.exact_dedup:ExactDedup",
          "pipelines.clean.near_dedup:NearDedup", "pipelines.clean.quality:QualitySampling"]
HOSTILE = '<script>alert("x")</script> \' " & \x00\x1b[31m \x0c end'
HOSTILE_COMPONENT = "<img src=x onerror=alert(1)>"
TIMINGS = {"wall_s": 12.5, "cpu_s": 20.25, "stages": [
    {"stage": "read", "cpu_s": 4.0, "records": 400, "bytes": 8_000_000, "mb_per_s_per_core": 2.0},
    {"stage": "near_dedup", "cpu_s": 9.5, "records": 120, "bytes": 3_000_000,
     "mb_per_s_per_core": 0.32, "wall_s": 9.75, "cpu_source": "sampler"}]}


def _quality_stats() -> dict:
    deciles = [{"scores": f"[{d / 10:.1f}, {(d + 1) / 10:.1f})", "docs": 10 if d < 3 else 0,
                "kept": 5 if d < 3 else 0, "kept_fraction": 0.5 if d < 3 else None,
                "mean_score": d / 10 + 0.05 if d < 3 else None,
                "expected_fraction": round(0.5 + d / 20, 4)} for d in range(10)]
    return {"alpha": 1.0, "classifier": {"source": "trained", "folds": 5,
                                          "heldout_accuracy": 0.9876, "heldout_docs": 291,
                                          "train_docs": {"curated": 163, "web": 128}},
            "scored_docs": 30, "kept_docs": 15, "kept_fraction": 0.5, "deciles": deciles,
            "score_histogram": {f"{b / 20:.2f}": (7 if b < 6 else 0) for b in range(20)}}


def _docs(component: str, langs: list[str], *, code: bool = False) -> list[Document]:
    return [Document(id=f"{component}-{i}", text=("x" * (40 * 3 ** (i % 5))) + f" {lang}",
                     component=component, source=f"{component}/file{i % 2}.jsonl", record=i,
                     language="code" if code else lang,
                     programming_language="Python" if code else None,
                     path=f"src/mod{i}.py" if code else None)
            for i, lang in enumerate(langs)]


#: What `palmkit stats --contamination DIR --memorization FILE` adds to the stats (the shapes
#: written by pipelines/contamination/outputs.py and trainer/memorization.py), hostile names in.
CONTAMINATION = {"rule": {"n": 8, "fraction": 0.7, "unit": "words"},
                 "sets": {"qa<script>": {"examples": 7, "contaminated": 3, "clean": 4,
                                         "contaminated_percent": 42.857, "rejected": {}}}}
MEMORIZATION = {
    "preset": "palm-tiny", "step": 300,
    "options": {"num_spans": 4, "span_tokens": 100, "prompt_tokens": 50, "seed": 0},
    "fed": {"examples": 8, "of_examples": 8}, "mean_tokens_matched": 3.5,
    "overall": {"spans": 4, "memorized": 1, "rate": 0.25, "ci95": [0.046, 0.699]},
    "by_occurrences": [{"occurrences": "1", "spans": 4, "memorized": 1, "rate": 0.25,
                        "ci95": [0.046, 0.699]}],
    "component_note": "packed shards do not record each token's component",
    "paper": {"palm_8b_rate": 0.016, "palm_540b_rate": 0.024, "seen_once_rate_540b": 0.0075,
              "seen_500_plus_rate_540b": "> 0.40"}}


def with_analyses(result: dict) -> dict:
    return {**result, "contamination": CONTAMINATION, "memorization": MEMORIZATION}


def write_demo_like(root, *, hostile: bool = False, timings: bool = True,
                    pack: bool = True) -> tuple[str, str | None]:
    """A corpus (and pack) output like the demo's; returns (corpus, shards or None)."""
    root = str(root)
    corpus = os.path.join(root, "corpus")
    kept = {"web": _docs("web", ["en"] * 6 + ["de", "fr", "es"]),
            "dialogue": _docs("dialogue", ["en", "zh", "zh", "pt"]),
            "code": _docs("code", ["code"] * 5, code=True)}
    web_comp = HOSTILE_COMPONENT if hostile else "web"
    outputs = {}
    for comp, docs in kept.items():
        os.makedirs(os.path.join(corpus, "clean", comp), exist_ok=True)
        rel = f"clean/{comp}/part-00000-of-00001.parquet"
        pq.write_table(documents_to_table(docs), os.path.join(corpus, rel))
        outputs[rel] = file_entry(os.path.join(corpus, rel), len(docs))
    reason = 'bad"<reason>' if hostile else "quality"
    rejects = [Reject(id=f"q{i}", component=web_comp, reason=reason, source="web/a.jsonl",
                      record=100 + i, detail=f"web/a.jsonl:{100 + i}: score 0.01 {HOSTILE}",
                      text=(HOSTILE if hostile else "low quality ") * 80) for i in range(7)]
    rejects += [Reject(id=f"nd{i}", component="code", reason="near_duplicate",
                       source=f"code/repos/b/mod{i}.py", record=0,
                       detail=f"code/repos/b/mod{i}.py:0: levenshtein similarity 0.95 to code-1",
                       text="print(1)\n", duplicate_of="code-1", similarity=0.95 + i / 100)
                for i in range(3)]
    rejects += [Reject(id="e0", component="web", reason="empty", source="web/a.jsonl",
                       record=3, detail="web/a.jsonl:3: text is empty or whitespace only",
                       text="   ")]
    os.makedirs(os.path.join(corpus, "rejects"), exist_ok=True)
    pq.write_table(rejects_to_table(rejects),
                   os.path.join(corpus, "rejects", "part-00000-of-00001.parquet"))
    counts = {
        "web": {"read": 10 + 1 + (0 if hostile else 7), "kept": 9, "kept_bytes": 0,
                "rejected": {"empty": 1, "duplicate": 1, **({} if hostile else {"quality": 7})}},
        "dialogue": {"read": 4, "kept": 4, "kept_bytes": 0, "rejected": {}},
        "code": {"read": 12, "kept": 5, "kept_bytes": 0,
                 "rejected": {"license": 4, "near_duplicate": 3}},
    }
    if hostile:
        counts[HOSTILE_COMPONENT] = {"read": 7, "kept": 0, "kept_bytes": 0,
                                     "rejected": {reason: 7}}
    for comp, docs in kept.items():
        counts[comp]["kept_bytes"] = sum(len(d.text.encode()) for d in docs)
    extra = {"stages": {"quality": _quality_stats(),
                        "near_dedup": {"cluster_size.<=2": 1, "cluster_size.<=4": 1,
                                       "removed": 3, "components": 2, "candidate_pairs": 4,
                                       "verified_pairs": 3}}}
    if timings:
        extra["timings"] = TIMINGS
    if hostile:
        extra["warnings"] = ["lone surrogate \ud800 and " + HOSTILE]
    manifest = Manifest(stage="corpus", config={"mixture": "palm", "stages": STAGES},
                        outputs=outputs, counts=counts, extra=extra)
    # ensure_ascii: a lone surrogate must reach the manifest file (as JSON's \ud800)
    text = json.dumps(dataclasses.asdict(manifest), indent=1, sort_keys=True)
    with open(os.path.join(corpus, "manifest.json"), "w", encoding="ascii") as f:
        f.write(text)
    if not pack:
        return corpus, None
    shards = write_shards(os.path.join(root, "shards"), random_tokens(40, 64), num_shards=2)
    data = json.load(open(os.path.join(shards, "manifest.json")))
    tokens = {"web": 900, "dialogue": 800, "code": 600}
    shares = {"web": 0.27 / 0.82, "dialogue": 0.5 / 0.82, "code": 0.05 / 0.82}
    sampled = {c: round(2560 * s) for c, s in shares.items()}
    data["counts"].update({"dropped_tokens": 12, "documents_packed": 18, "components": {
        c: {"tokens_available": tokens[c], "target_tokens": sampled[c],
            "tokens_sampled": sampled[c], "rate": sampled[c] / tokens[c], "epochs": 0,
            "target_share": shares[c], "actual_share": shares[c]} for c in tokens}})
    data["config"].update({"mixture": "palm", "corpus": corpus})
    if timings:
        data["extra"]["timings"] = {**TIMINGS, "stages": [
            {"stage": "tokenize", "cpu_s": 3.0, "records": 18, "bytes": 4000,
             "mb_per_s_per_core": 0.0013}]}
    with open(os.path.join(shards, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    return corpus, shards


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.ids = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.ids += [v for k, v in attrs if k == "id"]


def _parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    return p


def _section(page: str, section_id: str) -> str:
    return page.split(f'<section id="{section_id}">', 1)[1].split("</section>", 1)[0]


# -- the funnel ------------------------------------------------------------------------------


def test_funnel_follows_the_stage_order_and_ends_at_kept():
    counts = {"read": 100, "kept": 60, "kept_bytes": 6000,
              "rejected": {"empty": 2, "duplicate_id": 1, "language": 7, "duplicate": 10,
                           "quality": 15, "heuristic_word_count": 3, "my_rule": 2}}
    rows = funnel.funnel_rows(counts, STAGES, pack={"tokens_available": 2000,
                                                    "tokens_sampled": 1000, "rate": 0.5},
                              packed_fraction=0.9)
    steps = {r["step"]: r for r in rows}
    assert [r["step"] for r in rows] == [
        "read", "after validation", "after unique ids", "after langid", "after heuristics",
        "after code_filter", "after exact_dedup", "after near_dedup", "after quality",
        "after other stages", "kept", "sampled into the mixture", "packed"]
    assert [r["documents"] for r in rows[:11]] == [100, 98, 97, 90, 87, 87, 77, 77, 62, 60, 60]
    assert steps["after heuristics"]["removed"] == {"heuristic_word_count": 3}
    assert steps["after other stages"]["removed"] == {"my_rule": 2}  # a user's stage
    assert steps["kept"]["bytes"] == 6000 and steps["kept"]["tokens"] == 2000
    assert steps["packed"]["tokens"] == 900 and steps["sampled into the mixture"]["tokens"] == 1000


def test_funnel_stage_of_a_user_stage_is_shown_in_order():
    rows = funnel.funnel_rows({"read": 5, "kept": 5, "rejected": {}},
                              ["pipelines.clean.langid:LanguageId", "my.module:Custom"])
    assert [r["step"] for r in rows] == ["read", "after validation", "after unique ids",
                                         "after langid", "after module", "kept"]


# -- escaping ----------------------------------------------------------------------------------


def test_clean_text_makes_surrogates_and_controls_visible():
    assert clean_text("a\ud800b\x00c\x1bd\te\nf") == "a\\ud800b\\x00c\\x1bd\te\nf"
    assert esc('<b a="1">\'') == "&lt;b a=&quot;1&quot;&gt;&#x27;"


def test_hostile_manifest_and_rejects_are_escaped_and_the_file_is_written(tmp_path):
    corpus, shards = write_demo_like(tmp_path, hostile=True)
    out = tmp_path / "r.html"
    stats_main(StatsConfig(path=shards, html=str(out)))
    page = out.read_text(encoding="utf-8")  # writing did not fail on the lone surrogate
    tags = _parse(page).tags
    assert not {"script", "img", "link", "iframe", "object", "embed"} & set(tags)
    assert "<script" not in page.lower() and "onerror=alert" not in page.replace(
        "&lt;img src=x onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "bad&quot;&lt;reason&gt;" in page and "\\ud800" in page
    assert not any(ch in page for ch in "\x00\x1b\x0c")
    assert "\\x1b" in page  # shown, not dropped
    # self-contained: nothing loaded from elsewhere
    assert "src=" not in page.replace("&lt;img src=x", "") and "url(" not in page
    assert page.count("http") == page.count('xmlns="http://www.w3.org/2000/svg"')


def test_stats_table_of_a_hostile_manifest_prints_escapes(tmp_path, capsys):
    _, shards = write_demo_like(tmp_path, hostile=True)
    assert cli(["stats", shards]) == 0
    out = capsys.readouterr().out
    assert "\\ud800" in out and "\\x1b[31m" in out and "\x1b" not in out
    assert "corpus time: wall 12.50 s, CPU 20.25 s" in out
    near_dedup = next(line for line in out.splitlines() if line.split()[:1] == ["near_dedup"])
    assert near_dedup.split() == ["near_dedup", "9.50", "120", "3.00", "0.320"]


# -- sections ---------------------------------------------------------------------------------


def test_every_section_of_a_corpus_and_pack_report(tmp_path):
    corpus, shards = write_demo_like(tmp_path)
    result = with_analyses(stats.collect(corpus, shards))
    page = report.render_stats(result)
    ids = _parse(page).ids
    assert [s.id for s in report.SECTIONS] == [i for i in ids if i in
                                                {s.id for s in report.SECTIONS}]
    # funnel: the web component lost 1 empty, 1 duplicate, 7 quality
    assert "−empty 1" in page and "−quality 7" in page
    # rejects: examples with file and line, text cut to ~300 characters
    assert "web/a.jsonl:100" in page and ("low quality " * 25)[:300] + "…" in page
    # quality: held-out accuracy and training sizes
    assert "0.9876" in page and "curated 163, web 128" in page
    # near-dedup: the cluster's kept file (looked up among the clean files) and similarities
    assert "code/file1.jsonl:1" in page and "0.970" in page
    # languages: PaLM's appendix D beside the mixture; code not drawn as a language
    languages = _section(page, "languages")
    chart = languages.split("<svg", 1)[1]
    assert "PaLM appendix D" in chart and "77.98" in chart and ">en<" in chart
    assert ">code<" not in chart and "Python" in languages
    # timings of both manifests, with MB/s per core
    timings = _section(page, "timings")
    assert "near_dedup" in timings and "0.32" in timings and "tokenize" in timings
    assert "9.75" in timings and "sampler" in timings
    assert "<details><summary>Raw statistics" in page
    # contamination and memorization (palmkit stats --contamination DIR --memorization FILE)
    assert "qa&lt;script&gt;" in _section(page, "contamination") and "42.9%" in page
    assert "25.00%" in _section(page, "memorization") and "1.60%" in page


def test_timings_not_recorded_and_no_pack_sections_on_a_bare_corpus(tmp_path):
    corpus, _ = write_demo_like(tmp_path, timings=False, pack=False)
    page = report.render_stats(stats.collect(corpus))
    ids = set(_parse(page).ids)
    assert "pack" not in ids and {"funnel", "rejects", "timings", "lengths"} <= ids
    assert "not recorded" in _section(page, "timings")
    assert "give the pack output too" in page  # no tokens without a pack


def test_reject_examples_are_bounded_per_reason(tmp_path):
    corpus, _ = write_demo_like(tmp_path, pack=False)
    ctx = Context.from_stats(stats.collect(corpus))
    examples = ctx.reject_examples("quality")
    assert len(examples) == 3 and all(len(e["text"]) <= 301 for e in examples)
    assert ctx.reject_examples("no_such_reason") == []
    clusters = ctx.near_duplicate_clusters()
    assert len(clusters) == 1 and clusters[0]["kept"]["source"] == "code/file1.jsonl"
    assert [m["id"] for m in clusters[0]["members"]] == ["nd2", "nd1", "nd0"]


def test_length_histograms_show_every_bucket():
    hist = stats._log_histogram(np.array([3, 1000, 1020]))
    assert list(hist) == [str(1 << e) for e in range(1, 10)]  # 2 .. 512, empty ones too
    assert sum(hist.values()) == 3 and hist["4"] == 0
    assert sizes.aligned_buckets([{"8": 1}, {"64": 2}]) == [8, 16, 32, 64]


def test_language_shares_weight_components_by_mixture_share_and_skip_code():
    comps = {"web": {"target_share": 0.5, "language_bytes": {"en": 50, "de": 50}},
             "books": {"target_share": 0.5, "language_bytes": {"en": 10}},
             "code": {"target_share": 0.1, "language_bytes": {"code": 999}}}
    shares, how = mixture_language_shares(comps)
    assert shares == {"en": 75.0, "de": 25.0} and "target shares" in how


def test_stats_takes_corpus_and_pack_in_either_order(tmp_path):
    corpus, shards = write_demo_like(tmp_path)
    a, b = stats.collect(corpus, shards), stats.collect(shards, corpus)
    assert a == b and a["kind"] == "pack" and a["corpus"] == corpus
    web = a["components"]["web"]
    assert web["language_documents"]["en"] == 6 and "token_length_histogram" in web
    assert a["components"]["code"]["programming_languages"] == {"Python": 5}
    with pytest.raises(UserError, match="one corpus output and one pack output"):
        stats.collect(corpus, corpus)


def test_a_pack_whose_corpus_is_gone_still_renders_its_own_sections(tmp_path):
    import shutil

    corpus, shards = write_demo_like(tmp_path)
    shutil.rmtree(corpus)
    result = stats.collect(shards)
    assert result["corpus"] is None
    page = report.render_stats(result)
    ids = set(_parse(page).ids)
    assert {"overview", "pack", "timings", "raw"} <= ids
    assert not {"funnel", "rejects", "quality", "near-dedup", "languages", "lengths"} & ids
    assert "tokenize" in _section(page, "timings")


def test_a_section_with_malformed_stats_says_so_and_the_rest_renders(tmp_path, caplog):
    corpus, _ = write_demo_like(tmp_path, pack=False)
    data = json.load(open(os.path.join(corpus, "manifest.json")))
    data["extra"]["stages"]["quality"]["score_histogram"] = {"0.00": "<many>"}
    with open(os.path.join(corpus, "manifest.json"), "w") as f:
        json.dump(data, f)
    page = report.render_stats(stats.collect(corpus))
    assert "could not be drawn" in _section(page, "quality") and "&lt;many&gt;" in page
    assert "−empty 1" in _section(page, "funnel")
    assert "report section quality could not be drawn" in caplog.text


def test_stats_shows_contamination_and_memorization_results(tmp_path, capsys):
    import json

    from palmkit.manifest import Manifest

    corpus, _ = write_demo_like(tmp_path, pack=False)
    contamination = tmp_path / "contamination"
    contamination.mkdir()
    (contamination / "manifest.json").write_text(Manifest(
        stage="contamination", config={}, outputs={}, counts={},
        extra={"summary": CONTAMINATION}).to_json())
    memorization = tmp_path / "memorization.json"
    memorization.write_text(json.dumps(MEMORIZATION))
    html = tmp_path / "r.html"
    assert cli(["stats", corpus, "--contamination", str(contamination), "--memorization",
                str(memorization), "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert "contaminated: >= 70%" in out and "qa<script>" in out and "42.9%" in out
    assert "memorization: 1 of 4 spans" in out
    ids = set(_parse(html.read_text()).ids)
    assert {"contamination", "memorization"} <= ids
    memorization.write_text("[1, 2]")
    assert cli(["stats", corpus, "--memorization", str(memorization)]) == 2
    assert cli(["stats", corpus, "--contamination", corpus]) == 2  # a corpus, not a check
