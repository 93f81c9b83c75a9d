"""Language ID: the bundled lid.176.ftz on one sentence in many languages, the per-component
language rules, long documents and code, and the Beam stage (counters, stats, determinism)."""

from __future__ import annotations

import os

import pytest

import mixtures
from palmkit.errors import UserError
from palmkit.records import UNDETERMINED, Reason
from pipelines.clean import langid, lid_second
from tests.clean_stage_helpers import doc, job_config, run_stage

PALM = mixtures.get("palm")

# One sentence, translated by hand: "The old library in the town centre opens every morning at
# nine o'clock, and many students come to read there."
SENTENCE = {
    "en": "The old library in the centre of the town opens every morning at nine o'clock, "
          "and many students come to read there.",
    "de": "Die alte Bibliothek im Zentrum der Stadt öffnet jeden Morgen um neun Uhr, und viele "
          "Studenten kommen, um dort zu lesen.",
    "fr": "La vieille bibliothèque du centre-ville ouvre tous les matins à neuf heures, et de "
          "nombreux étudiants viennent y lire.",
    "es": "La antigua biblioteca del centro de la ciudad abre todas las mañanas a las nueve, y "
          "muchos estudiantes vienen a leer allí.",
    "it": "La vecchia biblioteca nel centro della città apre ogni mattina alle nove, e molti "
          "studenti vengono a leggere lì.",
    "pl": "Stara biblioteka w centrum miasta jest otwierana każdego ranka o dziewiątej i wielu "
          "studentów przychodzi tam czytać.",
    "nl": "De oude bibliotheek in het centrum van de stad gaat elke ochtend om negen uur open, "
          "en veel studenten komen er lezen.",
    "pt": "A antiga biblioteca no centro da cidade abre todas as manhãs às nove horas, e muitos "
          "estudantes vêm ler lá.",
    "ru": "Старая библиотека в центре города открывается каждое утро в девять часов, и многие "
          "студенты приходят туда читать.",
    "ja": "町の中心にある古い図書館は毎朝九時に開き、多くの学生がそこへ本を読みに来ます。",
    "zh": "城市中心的老图书馆每天早上九点开门，许多学生来这里读书。",
    "sv": "Det gamla biblioteket i stadens centrum öppnar varje morgon klockan nio, och många "
          "studenter kommer dit för att läsa.",
}
FRAGMENTS = ["Hello", "12 34 56", "x = 1", "Tokyo Berlin Madrid", "Name: Anna Schmidt"]


@pytest.fixture(scope="module")
def model():
    return langid.load_model()


def test_bundled_model_is_lid176_with_license_note():
    assert os.path.getsize(langid.DEFAULT_MODEL) == 938_013
    note = os.path.join(os.path.dirname(langid.DEFAULT_MODEL), "LICENSE-lid.176.txt")
    assert "CC-BY-SA-3.0" in open(note, encoding="utf-8").read()


@pytest.mark.parametrize("lang", sorted(SENTENCE))
def test_same_sentence_in_many_languages(model, lang):
    code, prob = langid.identify_language(model, SENTENCE[lang])
    assert code == lang
    assert prob > 0.8


def test_model_is_cached_per_path(model):
    assert langid.load_model(langid.DEFAULT_MODEL) is model


@pytest.mark.parametrize("text", FRAGMENTS)
def test_low_confidence_is_undetermined_not_guessed(model, text):
    # Fragments score 0.12-0.37 for English: under 0.5, but some over the 0.25 threshold; they
    # are und because they have fewer than min_letters (20) letters.
    code, prob = langid.identify_language(model, text)
    assert code == UNDETERMINED and 0 < prob < 0.5
    # With no threshold and no letter minimum the model would have guessed a language.
    assert langid.identify_language(model, text, threshold=0.0, min_letters=0)[0] != UNDETERMINED


def test_empty_text_is_undetermined(model):
    assert langid.identify_language(model, " \n\t ") == (UNDETERMINED, 0.0)


def test_newlines_and_long_documents_use_spread_windows(model):
    # An English front matter (like a Project Gutenberg header) on a long German text: a prefix
    # would say English, the three spread windows say German.
    header = " ".join([SENTENCE["en"]] * 12)
    body = "\n\n".join([SENTENCE["de"]] * 200)
    windows = langid.lid_windows(header + "\n" + body)
    assert len(windows) == 3 and all(0 < len(w) <= 1000 and "\n" not in w for w in windows)
    assert windows[0].startswith("The old library")
    assert langid.identify_language(model, header[:3000])[0] == "en"
    assert langid.identify_language(model, header + "\n" + body)[0] == "de"
    # Short texts are scored whole, in one window.
    assert langid.lid_windows("a\nb") == ["a b"]


def test_english_only_components_reject_other_languages(model):
    books, wiki = PALM.component("books"), PALM.component("wikipedia")
    german = doc("books", SENTENCE["de"], 0)
    labelled, why = langid.label_document(german, model, component=books, is_code=False)
    assert labelled.language == "de" and "not in books" in why
    labelled, why = langid.label_document(doc("books", SENTENCE["en"], 1), model,
                                          component=books, is_code=False)
    assert labelled.language == "en" and why is None
    # Any-language components keep both other languages and und.
    assert langid.label_document(doc("wikipedia", SENTENCE["de"], 2), model,
                                 component=wiki, is_code=False)[1] is None
    assert langid.label_document(doc("wikipedia", "Hello", 3), model,
                                 component=wiki, is_code=False)[1] is None
    # und in an English-only component is rejected.
    labelled, why = langid.label_document(doc("books", "Hello", 4), model,
                                          component=books, is_code=False)
    assert labelled.language == UNDETERMINED and why is not None


def test_code_components_skip_language_id(model):
    assert langid.code_components(PALM) == {"code"}
    labelled, why = langid.label_document(doc("code", "def f():\n    return 1\n", 0), model,
                                          component=PALM.component("code"), is_code=True)
    assert (labelled.language, labelled.language_score, why) == ("code", None, None)


def test_stage_labels_rejects_counts_and_is_deterministic(tmp_path):
    docs = [doc("books", SENTENCE[lang], i) for i, lang in enumerate(["en", "de", "fr", "en"])]
    docs += [doc("wikipedia", SENTENCE[lang], i) for i, lang in enumerate(["ja", "pl"])]
    docs += [doc("news", "12 34 56", 0), doc("code", "int main() { return 0; }", 0, path="a.c")]
    stage = langid.LanguageId(job_config(), PALM)
    first = run_stage(stage, docs, tmp_path / "a")
    kept = {(r["component"], r["language"]) for r in first["kept"]}
    assert kept == {("books", "en"), ("wikipedia", "ja"), ("wikipedia", "pl"), ("code", "code")}
    assert sorted((r["component"], r["reason"]) for r in first["rejects"]) == [
        ("books", Reason.LANGUAGE), ("books", Reason.LANGUAGE), ("news", Reason.LANGUAGE)]
    assert first["counters"] == {"langid/books.language": 2, "langid/news.language": 1}
    table = first["stats"]["langid"]["documents_by_language"]
    assert table["books"] == {"de": 1, "en": 2, "fr": 1} and table["news"] == {UNDETERMINED: 1}
    second = run_stage(langid.LanguageId(job_config(), PALM), docs, tmp_path / "b")
    assert (second["kept"], second["rejects"], second["stats"]) == (
        first["kept"], first["rejects"], first["stats"])


# -- the decision (issue 15): summed windows, close languages, runner-up, threshold -----------

class StubModel:
    """A fastText-like model whose answer for a window is that of the first key it contains."""

    def __init__(self, answers: dict[str, dict[str, float]]):
        self.answers = answers

    def predict(self, parts, k=1):
        labels, probs = [], []
        for part in parts:
            key = next(key for key in self.answers if key in part)
            ranked = sorted(self.answers[key].items(), key=lambda kv: -kv[1])[:k]
            labels.append(tuple(f"__label__{c}" for c, _ in ranked))
            probs.append([p for _, p in ranked])
        return labels, probs


def _three_windows(*words: str) -> str:
    # 3 lines of 1,100 characters: each of the 3 windows of 1,000 falls in one line.
    return "\n".join(" ".join([w] * (1100 // (len(w) + 1))) for w in words)


def test_windows_are_summed_not_voted():
    # Two windows lean German at 0.40, one is surely French at 0.95: two of three windows vote
    # de, but summed probability says fr (0.45 vs 0.35 mean).
    stub = StubModel({"alpha": {"de": 0.40, "fr": 0.20, "it": 0.2},
                      "bravo": {"fr": 0.95, "de": 0.05}})
    text = _three_windows("alpha", "alpha", "bravo")
    assert len(langid.lid_windows(text)) == 3
    r = langid.score_language(stub, text)
    assert (r.language, r.runner_up) == ("fr", "de")
    assert r.score == pytest.approx((0.2 + 0.2 + 0.95) / 3, abs=0.01)
    assert r.runner_up_score == pytest.approx((0.4 + 0.4 + 0.05) / 3, abs=0.01)


def test_close_languages_are_summed_before_thresholding(model):
    # Real Croatian: lid.176 says sr 0.33, hr 0.27, sh 0.18, bs 0.11. The old rule (top label
    # >= 0.5) said und; the Serbo-Croatian group holds 0.88.
    croatian = ("Knjižnica u središtu grada otvara se svako jutro u devet sati, a mnogi studenti "
                "dolaze onamo čitati. Ova je datoteka spremljena, ali ne može se otvoriti jer "
                "nemate dopuštenje za čitanje.")
    r = langid.score_language(model, croatian)
    assert langid.macro_language(r.language) == "sh" and r.score > 0.8
    assert langid.macro_language(r.runner_up) == "sh" and r.runner_up_score < 0.5
    # A close-language group beats a single label with more probability than any one member.
    stub = StubModel({"STUB": {"sl": 0.40, "hr": 0.30, "bs": 0.25}})
    r = langid.score_language(stub, "STUB " + croatian)
    assert (r.language, r.runner_up) == ("hr", "sl") and r.score == pytest.approx(0.55)
    # A component listing the macro-language accepts its members.
    comp = mixtures.Component(name="hbs", share=1.0, languages=("sh", "no"))
    assert langid.language_rejection("hr", comp) is None
    assert langid.language_rejection("nn", comp) is None
    assert "not in hbs" in langid.language_rejection("sl", comp)


def test_threshold_is_inclusive_and_score_kept_when_undetermined():
    stub = StubModel({"STUB": {"de": 0.25, "fr": 0.2}})
    text = "STUB " + SENTENCE["de"]
    assert langid.identify_language(stub, text) == ("de", 0.25)
    r = langid.score_language(stub, text, langid.LangIdOptions(threshold=0.3))
    assert (r.language, r.top, r.score, r.runner_up) == (UNDETERMINED, "de", 0.25, "fr")


def test_short_lines_are_not_scored(model):
    # A message catalogue: menu items and placeholders around two real German sentences.
    text = "\n".join(["OK", "%s: %d", "Datei", "12:30", SENTENCE["de"], "Abbrechen",
                      "Die Datei wurde gespeichert, kann aber nicht geöffnet werden."])
    assert langid.normalise(text).splitlines() == [
        SENTENCE["de"], "Die Datei wurde gespeichert, kann aber nicht geöffnet werden."]
    assert langid.identify_language(model, text)[0] == "de"
    # All lines short: the text is scored as it is.
    assert langid.normalise("Datei\nÖffnen\nSpeichern") == "Datei\nÖffnen\nSpeichern"
    assert langid.normalise("OK\nAb", min_line_chars=0) == "OK\nAb"
    # Long texts are normalised only inside the windows' slices, still 3 windows.
    long_text = "\n".join(["OK", "Datei", SENTENCE["de"]] * 400)
    windows = langid.lid_windows(long_text, min_line_chars=25)
    assert len(windows) == 3 and all("Datei" not in w.split()[:1] for w in windows)


def test_runner_up_recorded_on_document_and_in_output(model, tmp_path):
    wiki = PALM.component("wikipedia")
    labelled, why = langid.label_document(doc("wikipedia", SENTENCE["sv"], 0), model,
                                          component=wiki, is_code=False)
    assert why is None and labelled.language == "sv"
    assert labelled.language_runner_up not in (None, "sv")
    assert 0 < labelled.language_runner_up_score < labelled.language_score
    out = run_stage(langid.LanguageId(job_config(), PALM),
                    [doc("wikipedia", SENTENCE["nl"], 0)], tmp_path)
    row = out["kept"][0]
    assert row["language"] == "nl" and row["language_runner_up"] not in (None, "nl")
    assert 0 < row["language_runner_up_score"] < row["language_score"]


def test_options_are_validated():
    with pytest.raises(Exception, match="--langid-min-line-chars"):
        langid.LangIdOptions(min_line_chars=-1)
    assert langid.LangIdOptions().threshold == 0.25


# -- the second opinion (heliport, pipelines/clean/lid_second.py) --------------------------------

# Sardinian, which lid.176 reads as Italian or Catalan (docs/langid.md: 7 of 12 as Catalan).
SARDINIAN = ("Custa est una limba sarda, chi si faeddat in Sardigna, e tenet medas variedades.")


@pytest.fixture(scope="module")
def heliport_engine():
    return lid_second.load_engine("heliport")


def test_second_opinion_repairs_a_close_language(model, heliport_engine):
    alone = langid.score_language(model, SARDINIAN)
    assert alone.language != "sc" and not alone.second_opinion
    both = langid.score_language(model, SARDINIAN, second=heliport_engine)
    assert (both.language, both.second_opinion) == ("sc", True)
    # The document still says what fastText thought, with fastText's score.
    assert (both.runner_up, both.runner_up_score, both.score) == (alone.top, alone.score,
                                                                  alone.score)


@pytest.mark.parametrize("lang", ["en", "de", "fr", "es", "ru", "ja", "zh", "pl"])
def test_second_opinion_keeps_clear_labels(model, heliport_engine, lang):
    r = langid.score_language(model, SENTENCE[lang], second=heliport_engine)
    assert r.language == lang


def test_when_the_second_opinion_is_asked():
    ask = lid_second.wants_second_opinion
    assert ask("ca", 0.99, below=0.4) and ask("nl", 0.9, below=0.4)  # confusable groups
    assert ask("ru", 0.3, below=0.4) and not ask("ru", 0.5, below=0.4)  # unsure fastText
    # heliport has no Indonesian (it reads it as Malay) nor Asturian: it is never asked for them
    assert not ask("id", 0.1, below=0.4) and not ask("ast", 0.9, below=0.4)
    assert ask("hr", 0.2, below=0.4)  # heliport's hbs covers hr/sr/bs
    assert lid_second.HELIPORT_TO_LID176["hbs"] == "sh" and lid_second.HELIPORT_TO_LID176[
        "srd"] == "sc"
    assert lid_second.second_label(None, []) is None


def test_a_confident_label_is_replaced_only_within_its_family():
    accepted = lid_second.accepted
    assert accepted("ca", 0.9, "sc", below=0.4) and accepted("nl", 0.9, "af", below=0.4)
    assert not accepted("it", 0.84, "en", below=0.4)  # partly English man page: stays Italian
    assert accepted("fr", 0.3, "en", below=0.4)  # fastText unsure: any lid.176 label


def test_too_few_letters_stay_undetermined_with_a_second_opinion(model, heliport_engine):
    for text in FRAGMENTS:
        assert langid.score_language(model, text, second=heliport_engine).language == UNDETERMINED


def test_stage_uses_the_second_opinion_when_asked(tmp_path):
    assert langid.LangIdOptions().second_opinion == "none"  # opt-in: heliport is GPL-3.0
    docs = [doc("wikipedia", SARDINIAN, 0), doc("wikipedia", SENTENCE["de"], 1)]
    on = langid.LangIdOptions(second_opinion="heliport")
    out = run_stage(langid.LanguageId(job_config(langid=on), PALM), docs, tmp_path / "on")
    assert sorted(r["language"] for r in out["kept"]) == ["de", "sc"]
    off = langid.LangIdOptions(second_opinion="none")
    out = run_stage(langid.LanguageId(job_config(langid=off), PALM), docs, tmp_path / "off")
    assert "sc" not in {r["language"] for r in out["kept"]}


def test_second_opinion_option_is_validated():
    with pytest.raises(UserError, match="second-opinion"):
        langid.LangIdOptions(second_opinion="cld9")
    with pytest.raises(UserError, match="second-opinion-below"):
        langid.LangIdOptions(second_opinion_below=2)
    with pytest.raises(UserError, match="choose one of"):
        lid_second.check_engine("cld9")
    lid_second.check_engine("none")
    lid_second.check_engine("heliport")
    assert lid_second.load_engine("none") is None
