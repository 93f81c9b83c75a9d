"""Gopher heuristic filters: each rule on a crafted document, real prose passes, the stage."""

from __future__ import annotations

import json
import os
import random
import re

import pytest

import mixtures
from palmkit.records import Reason
from pipelines.clean import heuristics
from pipelines.clean.heuristics import Heuristics, HeuristicsOptions, heuristic_rejection
from pipelines.clean.langid import LanguageId
from pipelines.corpus import DEFAULT_STAGES
from tests.clean_stage_helpers import doc, job_config, run_stage

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "data", "sample")
PROSE = ("The river rises in the northern hills and flows south through a broad valley, where "
         "farmers have grown wheat and barley for centuries. In 1848 the city council approved "
         "the construction of a new stone bridge, which was finished six years later and still "
         "carries most of the traffic between the old town and the railway station. Historians "
         "disagree about the causes of the decline of the ancient kingdom that ruled the valley.")


def _words(n: int, seed: int = 0) -> list[str]:
    """Distinct made-up words of 5-7 letters (no stop words, no repeated n-grams)."""
    rng = random.Random(seed)
    return ["".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(3))
            for _ in range(n)]


CRAFTED = {
    Reason.HEURISTIC_WORD_COUNT: "Too short to be a page.",
    Reason.HEURISTIC_WORD_LENGTH: " ".join(["a b c d e f"] * 15),
    Reason.HEURISTIC_SYMBOL_RATIO: PROSE + " " + " ".join(f"#tag{i} #news" for i in range(30)),
    Reason.HEURISTIC_BULLET_LINES: "\n".join(f"- item {w} with several more words in it"
                                             for w in _words(20)),
    Reason.HEURISTIC_ELLIPSIS_LINES: "\n".join(
        f"and then the {a} walked over to the {b} and the story went on and on…"
        for a, b in zip(_words(12, 1), _words(12, 2))),
    Reason.HEURISTIC_ALPHA_WORDS: PROSE + " " + " ".join(str(1000 + i) for i in range(40)),
    Reason.HEURISTIC_STOP_WORDS: " ".join(_words(80, 3)),
    Reason.HEURISTIC_DUPLICATE_LINES: PROSE + "\n" + "\n".join(["Click here to subscribe now."] * 8),
    # one paragraph of 9 lines, then 3 one-line paragraphs: 2 of 12 lines, 2 of 4 paragraphs
    Reason.HEURISTIC_DUPLICATE_PARAGRAPHS: "\n".join(re.split(r"[,.] ", PROSE))
                                           + "\n\nSee below.\n\nSee below.\n\nSee below.",
    Reason.HEURISTIC_TOP_NGRAM: " ".join(f"buy now {a} {b}" for a, b in zip(_words(30, 4),
                                                                             _words(30, 5))),
    Reason.HEURISTIC_DUPLICATE_NGRAM: " ".join(_words(100, 6) + _words(25, 6)),
}


@pytest.mark.parametrize("reason", sorted(CRAFTED))
def test_each_rule_fires_on_a_crafted_document(reason):
    language = "en" if reason == Reason.HEURISTIC_STOP_WORDS else None
    why = heuristic_rejection(CRAFTED[reason], language)
    assert why is not None and why[0] == reason, why
    assert any(ch.isdigit() for ch in why[1])  # the measured value is in the detail


def test_every_rule_has_a_reason_keyword():
    assert set(CRAFTED) <= set(Reason.ALL)
    assert all(r.startswith("heuristic_") for r in CRAFTED)


def test_stop_words_only_for_languages_with_a_list():
    text = CRAFTED[Reason.HEURISTIC_STOP_WORDS]
    assert heuristic_rejection(text, "en")[0] == Reason.HEURISTIC_STOP_WORDS
    assert heuristic_rejection(text, "bg") is None and heuristic_rejection(text, None) is None
    assert heuristic_rejection(text, "en", HeuristicsOptions(min_stop_words=0)) is None


def test_real_prose_from_the_sample_passes():
    with open(os.path.join(SAMPLE, "wikipedia", "enwiki.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    assert len(texts) > 20
    assert [heuristic_rejection(t, "en") for t in texts] == [None] * len(texts)
    assert heuristic_rejection(PROSE, "en") is None


def test_thresholds_are_options():
    short = CRAFTED[Reason.HEURISTIC_WORD_COUNT]
    assert heuristic_rejection(short, None, HeuristicsOptions(min_words=3)) is None
    dup = CRAFTED[Reason.HEURISTIC_DUPLICATE_NGRAM]
    assert heuristic_rejection(dup, None, HeuristicsOptions(ngram_scale=5)) is None


def test_measurements():
    assert heuristics.duplicate_fractions(["a", "bb", "a", "a"]) == (0.5, 2 / 5)
    words = "x y x y x y".split()
    assert heuristics.top_ngram_fraction(words, 2, 6) == pytest.approx(3 * 2 / 6)
    assert heuristics.duplicate_ngram_fraction("p q r s t u".split(), 5, 6) == 0.0


def _mixture(heuristics_on: bool):
    data = mixtures.to_data(mixtures.get("palm"))
    data["components"]["web"]["cleaning"]["heuristics"] = heuristics_on
    return mixtures.from_dict(data)


def test_off_in_palm_and_in_the_default_stages():
    palm = mixtures.get("palm")
    assert not any(c.cleaning.heuristics for c in palm.components.values())
    assert not any(c.cleaning.heuristics for c in mixtures.get("palm-refresh").components.values())
    assert Heuristics in DEFAULT_STAGES
    assert DEFAULT_STAGES.index(Heuristics) > DEFAULT_STAGES.index(LanguageId)  # stop words
    assert _mixture(True).component("web").cleaning.heuristics
    with pytest.raises(mixtures.MixtureError, match="unknown key"):
        mixtures.from_dict({"components": {"web": {"share": 1, "cleaning": {"heuristic": 1}}}})


def test_stage_rejects_with_reasons_and_reports_rates(tmp_path):
    docs = [doc("web", text, i, language="en" if r == Reason.HEURISTIC_STOP_WORDS else None)
            for i, (r, text) in enumerate(CRAFTED.items())]
    docs += [doc("web", PROSE, 100, language="en"),
             doc("books", CRAFTED[Reason.HEURISTIC_WORD_COUNT], 0)]
    out = run_stage(Heuristics(job_config(), _mixture(True)), docs, tmp_path)
    assert {r["reason"] for r in out["rejects"]} == set(CRAFTED)
    assert sorted(r["component"] for r in out["kept"]) == ["books", "web"]  # books: not asked
    row = out["stats"]["heuristics"]["components"]["web"]
    assert row["docs"] == len(CRAFTED) + 1 and row["kept"] == 1
    assert row["rates"] == {r: round(1 / row["docs"], 4) for r in CRAFTED}
    assert out["counters"][f"heuristics/web.{Reason.HEURISTIC_TOP_NGRAM}"] == 1
    # In the palm mixture the stage passes every document untouched.
    palm = run_stage(Heuristics(job_config(), mixtures.get("palm")), docs, tmp_path / "palm")
    assert len(palm["kept"]) == len(docs) and palm["rejects"] == []
