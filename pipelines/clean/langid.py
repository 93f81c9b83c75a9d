"""Language identification with fastText, and per-component language rules.

Model
-----
The default is fastText's compressed ``lid.176.ftz`` (938,013 bytes, 176 languages, CC-BY-SA-3.0,
bundled in ``pipelines/resources/``, see LICENSE-lid.176.txt there); ``model_path`` takes the
full ``lid.176.bin`` (126 MB, a little more accurate) or any fastText LID model whose labels are
``__label__<code>``. The model is loaded once per worker (``DoFn.setup`` through a module cache
keyed by path): it loads in ~20 ms.

Decisions, with numbers
-----------------------
* **One line.** fastText predicts on one line (``predict`` raises on ``\\n``), so every run of
  whitespace becomes one space before prediction.
* **Bounded windows.** Prediction cost is linear in length: ~13 MB/s on one core here, so a
  10 MB book would take ~0.8 s while a web page takes ~0.1 ms. Documents up to
  ``windows * window_chars`` (default 3 x 1,000 = 3,000 characters) are scored whole; longer
  ones are scored on ``windows`` windows spread over the text (start, middle, end), and the
  windows' top-5 probabilities are averaged weighted by window length. Cost per document is
  then bounded (3,000 characters, ~0.25 ms on an idle core), and spreading the windows matters:
  a book's first kilobytes are often front matter (an English Project Gutenberg header on a
  German novel, a table of contents) that a prefix alone would misread (tested). On 1,000
  documents longer than 3,000 characters the windows gave the same label as the whole text for
  97.7% of them at half the cost (docs/benchmarks.md); the saving grows with length.
* **Threshold 0.5.** Below it the top label does not hold most of the probability mass, and the
  document is labelled ``und`` (palmkit.records.UNDETERMINED) rather than guessed. 0.5 is the
  threshold CCNet (Wenzek et al. 2019) used with this same model; in this repository's tests
  full sentences in 10 languages all score above 0.8, and one- or two-word fragments (the
  texts that most often get a wrong label) fall below it.
* **und in an English-only component is rejected** (reason ``language``): a component that
  declares ``languages: [en]`` promises English text, and an undetermined document there is
  mostly tables, lists of names or mixed-language boilerplate. Components that accept any
  language keep ``und`` documents (PaLM's appendix D lists "undetermined" at 1.63%).
* **Code is not language-identified**: documents of code components (``license_filter`` or
  ``code_near_dedup`` set, or named in ``code_components``) get language ``code`` and no score.
  Measured on 500 Python files of site-packages: lid.176 labels 96% of them ``en`` with a median
  confidence of 0.67 and 19% below 0.5, i.e. the label says little about the code, and an
  ``und`` label would wrongly make code look like noise. PaLM's language table (appendix D)
  also leaves code out.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from mixtures import Component, Mixture
from palmkit.records import UNDETERMINED, Document, Reason, Reject
from pipelines.clean import _UNSET, StageOutput, counter_name, option

STAGE = "langid"
CODE_LANGUAGE = "code"
DEFAULT_MODEL = os.path.join(os.path.dirname(os.path.dirname(__file__)), "resources", "lid.176.ftz")
DEFAULT_THRESHOLD = 0.5
DEFAULT_WINDOW_CHARS = 1000
DEFAULT_WINDOWS = 3
_TOP_K = 5
_LABEL_PREFIX = "__label__"
_WHITESPACE = re.compile(r"\s+")

_MODELS: dict[str, object] = {}


def load_model(path: str | None = None):
    """The fastText model at ``path`` (default: bundled lid.176.ftz), loaded once per process."""
    path = os.path.abspath(path or DEFAULT_MODEL)
    model = _MODELS.get(path)
    if model is None:
        import fasttext  # imported here: a worker that never runs langid never loads it

        if not os.path.exists(path):
            raise FileNotFoundError(f"language ID model not found: {path}")
        model = _MODELS[path] = fasttext.load_model(path)
    return model


def one_line(text: str) -> str:
    """Whitespace runs (newlines included) -> one space: fastText predicts on one line."""
    return _WHITESPACE.sub(" ", text).strip()


def lid_windows(text: str, *, window_chars: int = DEFAULT_WINDOW_CHARS,
                windows: int = DEFAULT_WINDOWS) -> list[str]:
    """The one-line texts to score: the whole text when short, else spread-out windows.

    Windows start at evenly spaced offsets (first at 0, last ending at the end) and are moved
    forward to the next space so no word is cut at the start.
    """
    line = one_line(text)
    if len(line) <= window_chars * windows or windows <= 1:
        return [line[: window_chars * max(windows, 1)]] if line else []
    step = (len(line) - window_chars) / (windows - 1)
    out = []
    for i in range(windows):
        start = int(round(i * step))
        if start > 0:
            space = line.find(" ", start, start + 100)
            start = space + 1 if space >= 0 else start
        out.append(line[start : start + window_chars])
    return [w for w in out if w]


def identify_language(model, text: str, *, threshold: float = DEFAULT_THRESHOLD,
                      window_chars: int = DEFAULT_WINDOW_CHARS,
                      windows: int = DEFAULT_WINDOWS) -> tuple[str, float]:
    """(language code, probability) of ``text``; ``und`` when the probability < threshold.

    The score returned is the model's probability for the top label even when it is below the
    threshold, so the manifest and rejects show how unsure the model was.
    """
    parts = lid_windows(text, window_chars=window_chars, windows=windows)
    if not parts:
        return UNDETERMINED, 0.0
    labels, probs = model.predict(parts, k=_TOP_K)
    total: dict[str, float] = {}
    weight = sum(len(p) for p in parts)
    for part, labs, ps in zip(parts, labels, probs):
        for lab, p in zip(labs, ps):
            total[lab] = total.get(lab, 0.0) + float(p) * len(part) / weight
    # Ties broken by label so the answer never depends on dict order.
    label, prob = max(total.items(), key=lambda kv: (kv[1], kv[0]))
    code = label[len(_LABEL_PREFIX):] if label.startswith(_LABEL_PREFIX) else label
    prob = min(prob, 1.0)
    return (code if prob >= threshold else UNDETERMINED), prob


def language_rejection(language: str, component: Component) -> str | None:
    """Why ``component`` refuses a document in ``language`` (None: accepted).

    ``und`` is refused only by components that list their languages (see module docstring).
    """
    if component.languages is None or language in component.languages:
        return None
    return f"language {language!r} not in {component.name}'s languages {list(component.languages)}"


def code_components(mixture: Mixture, extra: Iterable[str] = ()) -> frozenset[str]:
    """Components whose documents are code and skip language ID."""
    flagged = {
        name
        for name, c in mixture.components.items()
        if c.cleaning.license_filter or c.cleaning.code_near_dedup
    }
    return frozenset(flagged | set(extra))


def label_document(doc: Document, model, *, component: Component, is_code: bool,
                   threshold: float = DEFAULT_THRESHOLD,
                   window_chars: int = DEFAULT_WINDOW_CHARS,
                   windows: int = DEFAULT_WINDOWS) -> tuple[Document, str | None]:
    """The document with ``language``/``language_score`` set, and a rejection detail or None."""
    if is_code:
        return dataclasses.replace(doc, language=CODE_LANGUAGE, language_score=None), None
    lang, prob = identify_language(
        model, doc.text, threshold=threshold, window_chars=window_chars, windows=windows
    )
    labelled = dataclasses.replace(doc, language=lang, language_score=prob)
    why = language_rejection(lang, component)
    return labelled, (f"{why} (p={prob:.2f})" if why else None)


class _LanguageIdFn(beam.DoFn):
    def __init__(self, *, mixture: Mixture, model_path: str | None, threshold: float,
                 window_chars: int, windows: int, code: frozenset[str]):
        self._mixture = mixture
        self._model_path = model_path
        self._kw = dict(threshold=threshold, window_chars=window_chars, windows=windows)
        self._code = code
        self._model = None

    def setup(self):
        self._model = load_model(self._model_path)

    def process(self, doc: Document):
        component = self._mixture.component(doc.component)
        labelled, why = label_document(
            doc, self._model, component=component, is_code=doc.component in self._code, **self._kw
        )
        yield beam.pvalue.TaggedOutput("languages", (doc.component, labelled.language))
        if why is None:
            yield labelled
            return
        Metrics.counter(STAGE, counter_name(doc.component, Reason.LANGUAGE)).inc()
        yield beam.pvalue.TaggedOutput("rejects", Reject.of(labelled, Reason.LANGUAGE, why))


def _language_table(counts: list) -> dict:
    """[((component, language), n)] -> {component: {language: n}} with sorted keys."""
    table: dict[str, dict[str, int]] = {}
    for (component, language), n in sorted(counts):
        table.setdefault(component, {})[language] = n
    return {"documents_by_language": table}


class LanguageId(beam.PTransform):
    """Label every document's language; reject languages a component does not accept.

    Built by the corpus job as ``LanguageId(config, mixture)``; reads ``config.langid_model``
    (None: the bundled lid.176.ftz) and ``config.langid_threshold`` (default 0.5). Keywords
    override them. Stats (``langid``): documents per component and language, before rejection.
    """

    def __init__(self, config=None, mixture: Mixture | None = None, *, model_path=_UNSET,
                 threshold=_UNSET, window_chars: int = DEFAULT_WINDOW_CHARS,
                 windows: int = DEFAULT_WINDOWS, extra_code_components: Iterable[str] = (),
                 label: str | None = None):
        super().__init__(label)
        if mixture is None:
            raise TypeError("LanguageId needs the mixture")
        self._fn = _LanguageIdFn(
            mixture=mixture, model_path=option(config, "langid_model", model_path, None),
            threshold=option(config, "langid_threshold", threshold, DEFAULT_THRESHOLD),
            window_chars=window_chars, windows=windows,
            code=code_components(mixture, extra_code_components),
        )

    def expand(self, docs):
        out = docs | "Identify" >> beam.ParDo(self._fn).with_outputs(
            "rejects", "languages", main="kept"
        )
        stats = (
            out.languages
            | "CountLanguages" >> beam.combiners.Count.PerElement()
            | "LanguageList" >> beam.combiners.ToList()
            | "LanguageStats" >> beam.Map(lambda c: (STAGE, _language_table(c)))
        )
        return StageOutput(kept=out.kept, rejects=out.rejects, stats=stats)
