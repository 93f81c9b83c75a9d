"""Gopher heuristic filters: each rule on a crafted document, real prose passes, the stage."""

from __future__ import annotations

import json
import os
import random
import re

import pytest

import mixtures
from palmkit.errors import UserError
from palmkit.records import Reason
from pipelines.clean import c4_rules, heuristics
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


# -- C4's rules (--heuristics-c4) ----------------------------------------------------------------

C4 = HeuristicsOptions(c4=True)
SENTENCES_3 = ("The bridge was finished in 1854 after six years of work. It still carries most of "
               "the traffic between the old town and the station. Historians still argue about "
               "who paid for it.")


def test_c4_is_off_by_default():
    assert not HeuristicsOptions().c4
    braces = PROSE + " The formula {x} appears once."
    assert heuristic_rejection(braces, "en") is None
    assert heuristics.judge(braces, "en")[2] is None


@pytest.mark.parametrize("text,reason,value", [
    (PROSE + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.", c4_rules.LOREM_IPSUM,
     "at character"),
    (PROSE + "\nfunction f() { return 1; }", c4_rules.CURLY_BRACE, "1 curly brace"),
    ("Home\nAbout us\nContact\nOne sentence here that ends well enough.", c4_rules.SENTENCES,
     "1 sentences < 3"),
])
def test_c4_page_rules_reject_with_the_measured_value(text, reason, value):
    _, _, why = heuristics.judge(text, "en", C4)
    assert why is not None and why[0] == reason and value in why[1], why
    assert reason.startswith("heuristic_c4_")


def test_c4_line_rules_drop_lines_and_keep_the_page():
    text = "\n".join([
        "Menu", "Share this page on social media",  # short; no terminal punctuation
        "Please enable JavaScript in your browser to see the map.",
        "This website uses cookies to improve your experience.",
        "By using this site you agree to our privacy policy and terms of use.",
        PROSE])
    kept, dropped, why = c4_rules.c4_clean(text)
    assert why is None and kept == PROSE
    assert dropped == {c4_rules.SHORT: 1, c4_rules.UNTERMINATED: 1, c4_rules.JAVASCRIPT: 1,
                       c4_rules.POLICY: 2}
    # The same lines with too little prose left: rejected, the detail counts each line rule.
    _, _, why = c4_rules.c4_clean(text.replace(PROSE, SENTENCES_3.split(". ")[0] + "."))
    assert why[0] == c4_rules.SENTENCES
    assert "c4_javascript_lines 1" in why[1] and "c4_policy_lines 2" in why[1]


def test_c4_thresholds_are_options_and_gopher_judges_what_is_left():
    assert c4_rules.count_sentences(SENTENCES_3) == 3
    assert c4_rules.c4_clean(SENTENCES_3)[2] is None
    assert c4_rules.c4_clean(SENTENCES_3, min_sentences=4)[2][0] == c4_rules.SENTENCES
    words4 = "Four words end here.\n" * 3
    assert c4_rules.c4_clean(words4)[1] == {c4_rules.SHORT: 3}
    assert c4_rules.c4_clean(words4, min_line_words=4)[1] == {}
    # C4 keeps the page, then Gopher's word count (50) rejects the 3 short sentences left.
    assert heuristics.judge(SENTENCES_3, "en", C4)[2][0] == Reason.HEURISTIC_WORD_COUNT


def test_c4_on_real_prose_from_the_sample():
    with open(os.path.join(SAMPLE, "wikipedia", "enwiki.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    judged = [heuristics.judge(t, "en", C4) for t in texts]
    assert sum(why is None for _, _, why in judged) >= 0.8 * len(texts)
    for (kept, _, why), text in zip(judged, texts):
        assert why is not None or set(kept.split("\n")) <= {x.strip() for x in text.split("\n")}


def test_c4_stage_reports_line_rule_rates(tmp_path):
    page = "Please enable JavaScript to view this page.\n" + PROSE
    docs = [doc("web", page, 0, language="en"), doc("web", PROSE, 1, language="en"),
            doc("web", PROSE + "\n{ code }", 2, language="en")]
    out = run_stage(Heuristics(job_config(heuristics=C4), _mixture(True)), docs, tmp_path)
    assert sorted(r["text"] for r in out["kept"]) == [PROSE, PROSE]  # the line was dropped
    assert sorted(r["metadata"].get(heuristics.LINES_DROPPED, "") for r in out["kept"]) == [
        "", f"{c4_rules.JAVASCRIPT}=1"]
    assert [r["reason"] for r in out["rejects"]] == [c4_rules.CURLY_BRACE]
    row = out["stats"]["heuristics"]["components"]["web"]
    assert row["lines_dropped"] == {c4_rules.JAVASCRIPT: 1}
    assert row["line_rates"] == {c4_rules.JAVASCRIPT: round(1 / 3, 4)}
    assert row["rates"] == {c4_rules.CURLY_BRACE: round(1 / 3, 4)}


# -- stop words beyond English (--heuristics-stop-word-lists iso) -------------------------------

GERMAN = ("Die alte Bibliothek im Zentrum der Stadt öffnet jeden Morgen um neun Uhr, und viele "
          "Studenten kommen, um dort zu lesen. Im Jahr 1848 beschloss der Stadtrat den Bau einer "
          "neuen Brücke aus Stein, die sechs Jahre später fertig wurde und bis heute den größten "
          "Teil des Verkehrs zwischen der Altstadt und dem Bahnhof trägt. Über die Gründe für den "
          "Niedergang des alten Königreichs, das einst das Tal beherrschte, sind sich die "
          "Historiker bis heute nicht einig, obwohl viele Urkunden erhalten sind.")


def test_iso_stop_words_keyed_by_the_language_label():
    iso = HeuristicsOptions(stop_word_lists="iso")
    salad = CRAFTED[Reason.HEURISTIC_STOP_WORDS]
    assert heuristic_rejection(salad, "de") is None  # default: English only, as Gopher did
    why = heuristic_rejection(salad, "de", iso)
    assert why[0] == Reason.HEURISTIC_STOP_WORDS and "0 distinct de stop words" in why[1]
    assert heuristic_rejection(GERMAN, "de", iso) is None
    assert heuristic_rejection(salad, "nn", iso)[0] == Reason.HEURISTIC_STOP_WORDS  # 'no' list
    assert heuristics.stop_words("hr", "iso") == heuristics.stop_words("bs", "iso")
    assert heuristics.stop_words("en", "iso") == heuristics.STOP_WORDS["en"]  # Gopher's 8 words
    # no list: the rule does not apply
    for label in ("zh", "ja", "ko", "sr", "und", "code", "xx", None):
        assert heuristics.stop_words(label, "iso") is None
    with pytest.raises(UserError, match="stop-word-lists"):
        HeuristicsOptions(stop_word_lists="all")


def test_every_option_help_names_its_rule_keyword():
    import dataclasses

    keywords = set(Reason.ALL) | set(c4_rules.REASONS) | set(c4_rules.LINE_RULES)
    for field in dataclasses.fields(HeuristicsOptions):
        help_text = field.metadata["help"]
        assert any(k in help_text for k in keywords) or field.name == "c4", field.name
