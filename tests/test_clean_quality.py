"""Web quality: the Pareto sampling rule, deterministic classifier training, and the stage."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

import mixtures
from palmkit.records import Reason
from pipelines.clean import quality
from tests.clean_stage_helpers import doc, job_config, run_stage

PALM = mixtures.get("palm")

CURATED_SENTENCES = [
    "The river rises in the northern hills and flows south through a broad valley.",
    "In 1848 the city council approved the construction of a new stone bridge.",
    "The species feeds mainly on insects and nests in the hollows of old trees.",
    "Her second novel was published in 1923 and received wide critical praise.",
    "The cathedral was rebuilt after a fire destroyed most of the original nave.",
    "Historians disagree about the causes of the decline of the ancient kingdom.",
    "The theorem was first proved in the nineteenth century by a French mathematician.",
    "During the winter months the lake is covered by a thick layer of ice.",
    "The committee published its final report after three years of hearings.",
    "Farmers in the region grow wheat, barley and several varieties of grapes.",
]
WEB_SENTENCES = [
    "click here to win a free iphone now!!! limited offer",
    "best cheap deals buy now free shipping on all orders",
    "login register cart checkout wishlist my account",
    "subscribe to our newsletter and get 50% off your first order",
    "this website uses cookies accept all cookies privacy policy",
    "hot singles in your area click now",
    "download free mp3 ringtones wallpapers games apk mod",
    "home | about us | contact | sitemap | terms of service",
    "top 10 weight loss tricks doctors hate you wont believe number 7",
    "sale sale sale everything must go lowest prices guaranteed",
]


def make_text(rng: random.Random, sentences: list[str], n: int = 6) -> str:
    return " ".join(rng.choice(sentences) for _ in range(n))


def make_docs(n_curated: int, n_web: int, seed: int = 0, *, good_web_every: int = 3):
    rng = random.Random(seed)
    docs = [doc("wikipedia", make_text(rng, CURATED_SENTENCES), i) for i in range(n_curated)]
    # Web pages: mostly spam, some curated-looking (scores must spread over the deciles).
    docs += [doc("web", make_text(rng, CURATED_SENTENCES if i % good_web_every == 0 else WEB_SENTENCES), i)
             for i in range(n_web)]
    return docs


def examples(docs, seed=0):
    by_class: dict[str, list] = {}
    for d in docs:
        label, ex = quality.training_example(d, mixture=PALM, seed=seed)
        by_class.setdefault(label, []).append(ex)
    return sorted(by_class.items())


def test_expected_keep_fraction_is_gpt3_rule():
    assert quality.expected_keep_fraction(1.0, 9) == 1.0
    assert quality.expected_keep_fraction(0.5, 9) == pytest.approx(1.5 ** -9)
    assert quality.expected_keep_fraction(0.0, 9) == pytest.approx(2.0 ** -9)


def test_kept_fraction_rises_with_score_and_matches_rule():
    ids = [f"doc-{i}" for i in range(4000)]
    fractions = []
    for score in (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0):
        kept = sum(quality.pareto_keep(score, seed=3, doc_id=i) for i in ids)
        fractions.append(kept / len(ids))
        p = quality.expected_keep_fraction(score)
        assert abs(kept / len(ids) - p) < 4 * (p * (1 - p) / len(ids)) ** 0.5 + 1e-9
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_pareto_keep_is_a_function_of_seed_and_id():
    draws = [quality.pareto_keep(0.8, seed=1, doc_id=f"d{i}") for i in range(300)]
    assert draws == [quality.pareto_keep(0.8, seed=1, doc_id=f"d{i}") for i in range(300)]
    assert draws != [quality.pareto_keep(0.8, seed=2, doc_id=f"d{i}") for i in range(300)]


def test_features_are_lowercased_one_line_and_bounded():
    assert quality.quality_features("Hello\n\nWORLD  x", max_chars=100) == "hello world x"
    assert len(quality.quality_features("word " * 10_000)) == quality.QualityOptions.max_chars


def test_classifier_training_is_deterministic_and_accurate():
    samples = examples(make_docs(600, 600, good_web_every=10**9))
    data1, info1 = quality.train_classifier(samples, seed=5)
    data2, info2 = quality.train_classifier(list(reversed(samples)), seed=5)
    assert data1 == data2 and info1 == info2
    assert len(data1) == info1["folds"] == quality.QualityOptions.folds
    # Out-of-fold accuracy: every training document judged by the model that never saw it.
    assert info1["heldout_docs"] == 1200 and info1["heldout_accuracy"] > 0.8
    texts = [make_text(random.Random(i), CURATED_SENTENCES + WEB_SENTENCES) for i in range(50)]
    m1, m2 = quality.model_from_bytes(data1[0]), quality.model_from_bytes(data2[0])
    assert [quality.quality_score(m1, t) for t in texts] == [quality.quality_score(m2, t) for t in texts]
    spam, curated = make_text(random.Random(0), WEB_SENTENCES), make_text(random.Random(0), CURATED_SENTENCES)
    assert quality.quality_score(m1, curated) > 0.7 > 0.3 > quality.quality_score(m1, spam)


def test_training_needs_curated_documents_but_not_web():
    with pytest.raises(ValueError, match="quality_reference"):
        quality.train_classifier(examples(make_docs(0, 20)), seed=0)
    assert quality.train_classifier(examples(make_docs(20, 0)), seed=0)[0] is None


def test_decile_table_reports_observed_and_expected_at_the_mean_score():
    counts = {}
    for score, keep in [(0.92, True), (0.94, True), (0.96, True), (0.98, False), (0.01, False)]:
        for key, n in quality.score_stats(score, keep):
            counts[key] = counts.get(key, 0) + n
    rows = quality.decile_table(sorted(counts.items()), alpha=9)
    assert rows[9] == {"scores": "[0.9, 1.0)", "docs": 4, "kept": 3, "kept_fraction": 0.75,
                       "mean_score": 0.95, "expected_fraction": round(1.05 ** -9, 4)}
    assert rows[0]["kept_fraction"] == 0.0 and rows[0]["mean_score"] == 0.01
    assert rows[5]["docs"] == 0 and rows[5]["mean_score"] is None
    hist = quality.score_histogram(sorted(counts.items()))
    assert len(hist) == 20 and hist["0.00"] == 1 and hist["0.90"] == 2 and hist["0.95"] == 2


def test_folds_are_a_function_of_seed_and_id():
    folds = [quality.fold_of(f"d{i}", seed=3, folds=5) for i in range(1000)]
    assert folds == [quality.fold_of(f"d{i}", seed=3, folds=5) for i in range(1000)]
    assert set(folds) == set(range(5)) and min(folds.count(f) for f in range(5)) > 150
    assert {quality.fold_of(f"d{i}", seed=3, folds=1) for i in range(50)} == {0}


def test_cross_fitting_removes_the_bias_against_training_pages():
    """Both classes drawn from one distribution: nothing to learn but the documents themselves.
    One model trained on all of them scores its own web pages lower than unseen web pages (it
    memorised them as web); scored out-of-fold, training pages look like unseen ones."""
    rng = random.Random(0)
    vocab = [f"w{i}" for i in range(3000)]
    page = lambda: " ".join(rng.choice(vocab) for _ in range(40))  # noqa: E731
    train = [doc("wikipedia", page(), i) for i in range(150)] + [doc("web", page(), i) for i in range(150)]
    unseen = [page() for _ in range(150)]
    samples = examples(train)
    web_train = [d for d in train if d.component == "web"]

    def mean_scores(folds):
        data, _ = quality.train_classifier(samples, seed=0, folds=folds)
        models = [quality.model_from_bytes(b) for b in data]
        seen = np.mean([quality.quality_score(
            models[quality.fold_of(d.id, seed=0, folds=folds)], d.text) for d in web_train])
        new = np.mean([quality.quality_score(models[0], t) for t in unseen])
        return seen, new

    seen, new = mean_scores(1)
    assert seen < new - 0.1  # the bias cross-fitting removes
    seen, new = mean_scores(5)
    assert abs(seen - new) < 0.05


@pytest.mark.slow
def test_stage_is_identical_across_runs_and_workers(tmp_path):
    docs = make_docs(80, 160)
    stage = lambda: quality.QualitySampling(job_config(seed=11), PALM)  # noqa: E731
    first = run_stage(stage(), docs, tmp_path / "a")
    second = run_stage(stage(), docs, tmp_path / "b", workers=2)
    assert (first["kept"], first["rejects"], first["stats"]) == (
        second["kept"], second["rejects"], second["stats"])
    # Reference documents pass untouched; every web page is scored, kept or rejected.
    kept_wiki = [r for r in first["kept"] if r["component"] == "wikipedia"]
    assert len(kept_wiki) == 80 and all(r["quality_score"] is None for r in kept_wiki)
    kept_web = [r for r in first["kept"] if r["component"] == "web"]
    assert len(kept_web) + len(first["rejects"]) == 160
    assert {r["reason"] for r in first["rejects"]} == {Reason.QUALITY}
    assert first["counters"] == {"quality/web.quality": len(first["rejects"])}
    stats = first["stats"]["quality"]
    info = stats["classifier"]
    assert info["train_docs"]["curated"] + info["train_docs"]["web"] == info["heldout_docs"] == 240
    assert sum(row["docs"] for row in stats["deciles"]) == 160
    assert sum(stats["score_histogram"].values()) == 160
    assert stats["kept_docs"] == len(kept_web)
    # Curated-looking pages score high and are mostly kept; spam is mostly dropped.
    mean_kept = np.mean([r["quality_score"] for r in kept_web])
    mean_rejected = np.mean([float(re.search(r"quality score ([0-9.]+)", r["detail"]).group(1))
                             for r in first["rejects"]])
    assert mean_kept > mean_rejected


def test_stage_with_user_model_scores_with_that_model(tmp_path):
    data, _ = quality.train_classifier(examples(make_docs(600, 600)), seed=1, folds=1)
    data = data[0]
    path = tmp_path / "quality.bin"
    path.write_bytes(data)
    docs = make_docs(0, 30, seed=4)
    config = job_config(seed=2, quality=quality.QualityOptions(model=str(path)))
    out = run_stage(quality.QualitySampling(config, PALM), docs, tmp_path / "run")
    model = quality.model_from_bytes(data)
    by_id = {d.id: d for d in docs}
    for row in out["kept"] + out["rejects"]:
        score = quality.quality_score(model, by_id[row["id"]].text)
        keep = quality.pareto_keep(score, seed=2, doc_id=row["id"])
        assert (row in out["kept"]) == keep
    assert out["stats"]["quality"]["classifier"] == {"source": str(path)}


def test_quality_sampling_without_curated_sources_fails_before_the_pipeline():
    import mixtures
    from pipelines.clean.quality import QualitySampling

    stage = QualitySampling(job_config(), mixtures.get("palm"))
    with pytest.raises(ValueError, match="needs a classifier"):
        stage.check_sources({"web", "code"})
    stage.check_sources({"web", "books"})  # books is curated: a classifier can be trained
    # With --quality-model no curated text is needed, but the model must exist and be one.
    with pytest.raises(ValueError, match="m.bin: not found"):
        QualitySampling(job_config(quality=quality.QualityOptions(model="m.bin")),
                        mixtures.get("palm")).check_sources({"web"})
