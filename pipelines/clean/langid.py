"""Language identification with fastText (plus a second opinion), and per-component language rules.

Model
-----
The default is fastText's compressed ``lid.176.ftz`` (938,013 bytes, 176 languages, CC-BY-SA-3.0,
bundled in ``pipelines/resources/``, see LICENSE-lid.176.txt there); ``--langid-model`` takes the
full ``lid.176.bin`` (126 MB, a little more accurate) or any fastText LID model whose labels are
``__label__<code>``. The model is loaded once per worker (``LanguageId.setup`` through a module
cache keyed by path): it loads in ~20 ms. A model file is checked before the pipeline starts
(``LanguageId.check_sources``, see "model files" below): a missing, truncated or foreign file
fails in one line (``ModelError``) instead of hanging the job inside fastText.

Where lid.176 is weak (Romance and West Germanic neighbours, or a score below 0.4) heliport
(HeLI-OTS 2.0) gives a second opinion (``--langid-second-opinion``, default ``heliport``;
``none``: fastText only): ``pipelines/clean/lid_second.py`` says when it is asked and when its
answer is taken. Measured on docs/langid.md's set (1,047 documents, 110 languages): 93.0% right
with it, 86.7% without, the top label of the first 2,000 characters 86.2%; ~0.9x the speed.

Layout: ``lid_text.py`` chooses the text scored (windows, short lines) and sums window
probabilities; ``fasttext_file.py`` walks model files before fastText sees them; this module
decides, labels documents and is the Beam stage. Its names re-export theirs.

Decisions, with numbers
-----------------------
Measured on real documents in 110 of the model's languages (gettext catalogues and man pages
of this machine, ``benchmarks/bench_langid_accuracy.py``, docs/langid.md; numbers of the first
measurement, on 994 documents in 109 languages): the fastText policy below is right for 87.1%
of them and says ``und`` for 2.9%; the policy before it (top label of the window average,
threshold 0.5 on that label alone) was right for 78.0% with 15.7% ``und``, and the top label of
the first 2,000 characters for 86.4%. fastText's top label itself is right for 88.3%: the rest
are the model's own confusions (Sardinian and Occitan read as Catalan, Asturian as Spanish,
Malay as Indonesian), which no decision rule over its output repairs: the second opinion does
(93.0% on the 1,047-document set).

* **One line.** fastText predicts on one line (``predict`` raises on ``\\n``), so every run of
  whitespace becomes one space before prediction.
* **Short lines are not scored** (``min_line_chars`` 25): menu items, "OK", numbers and
  placeholder-only lines ("%s: %d") pull the model towards whatever it guesses for fragments;
  dropping them raised top-label accuracy from 86.6% to 88.3%. Line length does as well as
  counting letters per line at ~9x the speed. A text made only of short lines is scored whole.
* **Bounded windows.** Prediction cost is linear in length: ~13 MB/s on one core here, so a
  10 MB book would take ~0.8 s while a web page takes ~0.1 ms. Documents up to
  ``windows * window_chars`` (default 3 x 1,000 = 3,000 characters) are scored whole; longer
  ones are scored on ``windows`` windows spread over the text (start, middle, end); a long
  text is normalised only in the slices the windows come from. Spreading the windows matters:
  a book's first kilobytes are often front matter (an English Project Gutenberg header on a
  German novel, a table of contents) that a prefix alone would misread (tested). On 1,000
  documents longer than 3,000 characters the windows gave the same label as the whole text for
  97.7% of them at half the cost (docs/benchmarks.md).
* **Probabilities summed, not voted.** Each window's top-5 probabilities are summed per label,
  weighted by window length (a weighted mean: the sum is at most 1), and the best label wins.
* **Close languages summed before thresholding** (``CLOSE_LANGUAGES``): lid.176 splits
  Serbo-Croatian into hr/sr/bs/sh and Norwegian into no/nb/nn, and on real Croatian or Nynorsk
  text spreads the probability over them (hr 0.45 + bs 0.2 + sr 0.1: no label over 0.5). The
  group's summed probability is the score; the label kept is the group's best member (``hr``),
  and a component that lists the macro-language (``sh``, ``no``) accepts its members.
  Old policy: Croatian 17% right, Bosnian 0%, Nynorsk 50%; now 100%, 100%, 92%.
* **Threshold 0.25, calibrated on real text.** Accuracy only falls as the threshold rises (every
  document of the set has a language); what a threshold buys is ``und`` for text the model
  cannot label. Measured on 90 documents in 23 languages lid.176 does not know (Kinyarwanda,
  Xhosa, Amharic...), where ``und`` is the right answer: 0.25 says ``und`` for 46% of them and
  for 2.9% of the known-language set; 0.5 (CCNet's choice with this model) for 61% and 12.5%,
  at 82.2% accuracy. 0.25 maximises accuracy over both sets together (the sweep is in
  docs/langid.md). ``--langid-threshold`` re-tunes it; ``language_score`` and
  ``language_runner_up``/``language_runner_up_score`` on every document let a user re-threshold
  the output without re-running.
* **Too few letters is ``und``** (``min_letters`` 20): fragments ("Hello", "x = 1",
  "Name: Anna Schmidt") get a confident-looking 0.2-0.4 for English from lid.176; under 20
  letters there is not enough text to tell a language, whatever the score.
* **und in an English-only component is rejected** (reason ``language``): a component that
  declares ``languages: [en]`` promises English text, and an undetermined document there is
  mostly tables, lists of names or mixed-language boilerplate. Components that accept any
  language keep ``und`` documents (PaLM's appendix D lists "undetermined" at 1.63%).
* **Code is not language-identified**: documents of code components (``license_filter`` or
  ``code_near_dedup`` set, ``code_components``) get language ``code`` and no score.
  Measured on 500 Python files of site-packages: lid.176 labels 96% of them ``en`` with a median
  confidence of 0.67 and 19% below 0.5, i.e. the label says little about the code, and an
  ``und`` label would wrongly make code look like noise. PaLM's language table (appendix D)
  also leaves code out.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from typing import Iterable

from mixtures import Component, Mixture
from palmkit import flags
from palmkit.errors import UserError
from palmkit.records import UNDETERMINED, Document, Reason
from pipelines.clean import lid_second
from pipelines.clean.fasttext_file import fasttext_problem  # noqa: F401 -- re-exported
from pipelines.clean.lid_text import (  # noqa: F401 -- re-exported: langid.lid_windows etc.
    _LABEL_PREFIX, CLOSE_LANGUAGES, _enough_letters, _summed, lid_windows, macro_language,
    normalise, one_line)
from pipelines.fs import local_copy
from pipelines.stage import Decision, FilterStage, require_at_least, require_between

STAGE = "langid"
CODE_LANGUAGE = "code"
DEFAULT_MODEL = os.path.join(os.path.dirname(os.path.dirname(__file__)), "resources", "lid.176.ftz")
_MODELS: dict[str, object] = {}


@dataclasses.dataclass(frozen=True)
class LangIdOptions:
    """``LanguageId``'s options: ``CorpusConfig.langid``, flags ``--langid-*``."""

    model: str | None = flags.option(
        None, metavar="PATH",
        help="fastText LID model (unset: the bundled lid.176.ftz; lid.176.bin is a little more "
             "accurate)")
    threshold: float = flags.option(
        0.25, metavar="P",
        help="summed probability of the top language (and its close languages) below which "
             "the language is 'und'")
    window_chars: int = flags.option(
        1000, metavar="N",
        help="characters per scored window; longer documents are scored on windows")
    windows: int = flags.option(
        3, metavar="N", help="windows per long document (start, middle, end)")
    min_line_chars: int = flags.option(
        25, metavar="N",
        help="shorter lines are not scored (0: score every line as it is)")
    min_letters: int = flags.option(
        20, metavar="N", help="a text with fewer letters in its scored windows is 'und'")
    second_opinion: str = flags.option(
        "none", metavar="ENGINE", choices=lid_second.ENGINES,
        help="second language-ID opinion (pipelines/clean/lid_second.py) asked when fastText's "
             "label is a Romance or West Germanic language it confuses with its neighbours, or "
             "its score is below --langid-second-opinion-below; its label replaces fastText's "
             "when it is one of lid.176's. heliport (HeLI-OTS 2.0, GPL-3.0, PyPI heliport): "
             "93.0%% vs 86.7%% on docs/langid.md's set at ~0.9x the speed, the `lid` extra (an "
             "opt-in because of its licence); none: fastText only")
    second_opinion_below: float = flags.option(
        0.4, metavar="P",
        help="fastText group score below which the second opinion is asked for any language")

    def __post_init__(self):
        require_between("--langid-threshold", self.threshold, 0.0, 1.0)
        require_at_least("--langid-window-chars", self.window_chars)
        require_at_least("--langid-windows", self.windows)
        require_at_least("--langid-min-line-chars", self.min_line_chars, 0)
        require_at_least("--langid-min-letters", self.min_letters, 0)
        require_between("--langid-second-opinion-below", self.second_opinion_below, 0.0, 1.0)
        if self.second_opinion not in lid_second.ENGINES:
            raise UserError(f"--langid-second-opinion {self.second_opinion!r}: choose one of "
                            f"{list(lid_second.ENGINES)}")


def load_model(path: str | None = None):
    """The fastText model at ``path`` (default: bundled lid.176.ftz), loaded once per process.

    Its structure is walked first (``fasttext_problem``): a missing, truncated or foreign file
    raises ``ModelError`` instead of hanging inside fastText (see "model files" below).
    """
    path = os.path.abspath(local_copy(path or DEFAULT_MODEL))  # a URL: copied down once
    model = _MODELS.get(path)
    if model is None:
        import fasttext  # imported here: a worker that never runs langid never loads it

        problem = fasttext_problem(path)
        if problem:
            raise ModelError(f"language ID model {path}: {problem}")
        model = _MODELS[path] = fasttext.load_model(path)
    return model


# -- model files: checked before anything loads them ------------------------------------------
#
# The file is walked first (``fasttext_file.fasttext_problem``, see there why), then loaded once
# in a child process under a time and memory limit, before the pipeline starts.

_LOAD_TIMEOUT_S = 60  # plus 1 s per 20 MB; measured: lid.176.ftz and a 17 MB model take 0.1 s
_CHECKED: set[tuple] = set()


class ModelError(UserError):
    """A model file that cannot be used (missing, truncated, not a fastText classifier)."""



# The child sets its own address-space limit first (argv[2] bytes): no preexec_fn, which is
# unsafe in a process with threads.
_LIMIT_PRELUDE = """
import json, resource, sys
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
"""
_LOAD_SCRIPT = _LIMIT_PRELUDE + """
import fasttext
model = fasttext.load_model(sys.argv[1])
model.predict("palmkit checks this model", k=1)
print(json.dumps(model.get_labels()))
"""


def _load_in_child(path: str, size: int) -> list[str] | str:
    """fastText's labels of ``path`` loaded in a child process, or why it did not load."""
    # Measured: Python with fastText imported maps ~140 MB; loading a 16.8 MB model adds 16 MB.
    limit = 4 * size + (1 << 30)
    timeout = _LOAD_TIMEOUT_S + size / 20e6
    try:
        done = subprocess.run([sys.executable, "-c", _LOAD_SCRIPT, path, str(limit)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"fastText did not load it within {timeout:.0f} s"
    if done.returncode < 0:
        return f"fastText crashed loading it (signal {-done.returncode})"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        return f"fastText cannot load it: {lines[-1][:300]}"
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return f"fastText printed no labels: {done.stdout[-200:]!r}"


def check_fasttext_model(path: str, *, what: str, labels: Iterable[str] = ()) -> None:
    """Before the pipeline starts: ``path`` is a fastText classifier that loads (structure
    walked by ``fasttext_problem``, then loaded once in a child process under a time and
    memory limit) and has the ``labels`` the stage needs. Raises ``ModelError`` on one line
    naming ``what`` (e.g. ``--langid-model``) and the file. Checked once per file version."""
    path = os.path.abspath(local_copy(path))  # a URL (gs://, hf://): its local copy
    problem = fasttext_problem(path)
    if problem:
        raise ModelError(f"{what} {path}: {problem}")
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns, tuple(labels))
    if key in _CHECKED:
        return
    found = _load_in_child(path, st.st_size)
    if isinstance(found, str):
        raise ModelError(f"{what} {path}: {found}")
    shown = f"{found[:5]}{'...' if len(found) > 5 else ''}"
    if not all(isinstance(x, str) and x.startswith(_LABEL_PREFIX) for x in found):
        raise ModelError(f"{what} {path}: labels {shown} are not all {_LABEL_PREFIX}<name>")
    missing = [x for x in labels if f"{_LABEL_PREFIX}{x}" not in found]
    if missing:
        raise ModelError(f"{what} {path}: no label(s) {missing} among its labels {shown}")
    _CHECKED.add(key)


@dataclasses.dataclass(frozen=True)
class LanguageScores:
    """What language ID decided about one text, with what a user needs to re-threshold it.

    ``score`` is fastText's summed probability of its best close-language group (a language's
    own probability when it has no group): the number compared with the threshold. ``top`` is
    fastText's best label even when ``language`` is ``und``; ``runner_up`` is the best other
    label (possibly in the same group) and ``runner_up_score`` its probability.
    ``second_opinion``: the second opinion decided. When it changed the label, ``language`` is
    its label, ``score`` stays fastText's, and ``runner_up`` is fastText's label with ``score``
    (the document says what fastText thought); when it agreed with fastText, the label is kept
    even below the threshold (two models agree) and the runner-up is fastText's.
    """

    language: str
    score: float
    top: str
    runner_up: str | None
    runner_up_score: float | None
    second_opinion: bool = False


def score_language(model, text: str, options: LangIdOptions | None = None,
                   second=None) -> LanguageScores:
    """``text``'s language decided from its normalised windows (see the module docstring);
    ``second``: a second-opinion engine (``lid_second.load_engine``), None for fastText only."""
    o = options or LangIdOptions()
    parts = lid_windows(text, window_chars=o.window_chars, windows=o.windows,
                        min_line_chars=o.min_line_chars)
    if not parts:
        return LanguageScores(UNDETERMINED, 0.0, UNDETERMINED, None, None)
    total = _summed(model, parts)
    group: dict[str, float] = {}
    for code, p in total.items():
        group[macro_language(code)] = group.get(macro_language(code), 0.0) + p
    # Ties broken by label so the answer never depends on dict order.
    best_group, score = max(group.items(), key=lambda kv: (kv[1], kv[0]))
    ranked = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))
    top = next(c for c, _ in ranked if macro_language(c) == best_group)
    runner = next(((c, p) for c, p in ranked if c != top), (None, None))
    score = min(score, 1.0)
    letters = _enough_letters(parts, o.min_letters)
    if second is not None and letters and lid_second.wants_second_opinion(
            top, score, below=o.second_opinion_below):
        other = lid_second.second_label(second, parts)
        if other is not None and macro_language(other) == macro_language(top):
            # the two agree: fastText's label stands, even below the threshold
            return LanguageScores(top, score, top, runner[0],
                                  None if runner[1] is None else min(runner[1], 1.0),
                                  second_opinion=True)
        if other is not None and lid_second.accepted(top, score, other,
                                                     below=o.second_opinion_below):
            return LanguageScores(other, score, top, top, score, second_opinion=True)
    sure = score >= o.threshold and letters
    return LanguageScores(top if sure else UNDETERMINED, score, top, runner[0],
                          None if runner[1] is None else min(runner[1], 1.0))


def identify_language(model, text: str, options: LangIdOptions | None = None,
                      second=None, **changes) -> tuple[str, float]:
    """(language code, score) of ``text``; ``und`` when the score < threshold or the text has
    too few letters. ``changes`` override ``options`` fields (``threshold=0.0``); ``second``
    is a second-opinion engine (None: fastText only).

    The score is returned even when the language is ``und``, so the manifest and rejects show
    how unsure the model was.
    """
    o = dataclasses.replace(options or LangIdOptions(), **changes)
    r = score_language(model, text, o, second)
    return r.language, r.score


def language_rejection(language: str, component: Component) -> str | None:
    """Why ``component`` refuses a document in ``language`` (None: accepted).

    ``und`` is refused only by components that list their languages (see module docstring).
    A component that lists a macro-language (``no``, ``sh``) accepts its members (``nb``, ``hr``).
    """
    if component.languages is None or language in component.languages \
            or macro_language(language) in component.languages:
        return None
    return f"language {language!r} not in {component.name}'s languages {list(component.languages)}"


def code_components(mixture: Mixture) -> frozenset[str]:
    """Components whose documents are code and skip language ID."""
    return frozenset(name for name, c in mixture.components.items()
                     if c.cleaning.license_filter or c.cleaning.code_near_dedup)


def label_document(doc: Document, model, *, component: Component, is_code: bool,
                   options: LangIdOptions | None = None,
                   second=None) -> tuple[Document, str | None]:
    """The document with its ``language*`` fields set, and a rejection detail or None
    (``second``: the second-opinion engine, None for fastText only)."""
    if is_code:
        return dataclasses.replace(doc, language=CODE_LANGUAGE, language_score=None,
                                   language_runner_up=None, language_runner_up_score=None), None
    r = score_language(model, doc.text, options, second)
    labelled = dataclasses.replace(doc, language=r.language, language_score=r.score,
                                   language_runner_up=r.runner_up,
                                   language_runner_up_score=r.runner_up_score)
    why = language_rejection(r.language, component)
    if not why:
        return labelled, None
    seconded = f", {(options or LangIdOptions()).second_opinion} said {r.language}" \
        if r.second_opinion else ""
    return labelled, f"{why} (p={r.score:.2f}, top {r.top}{seconded})"


class LanguageId(FilterStage):
    """Label every document's language; reject languages a component does not accept.

    Built by the corpus job as ``LanguageId(config, mixture)``; options: ``config.langid``
    (``LangIdOptions``). Stats (``langid``): documents per component and language, before
    rejection.
    """

    name = STAGE

    def __init__(self, config, mixture: Mixture, *, label: str | None = None):
        super().__init__(mixture, label=label)
        self.options: LangIdOptions = config.langid
        self.code = code_components(mixture)
        self._model = self._second = None

    def check_sources(self, components: set[str]) -> None:
        """Before the pipeline starts: the model file is a fastText classifier that loads
        (``check_fasttext_model``), so a truncated ``--langid-model`` fails in one line."""
        path = self.options.model
        check_fasttext_model(path or DEFAULT_MODEL,
                             what="--langid-model" if path else "bundled language ID model")
        lid_second.check_engine(self.options.second_opinion)

    def setup(self) -> None:
        self._model = load_model(self.options.model)
        self._second = lid_second.load_engine(self.options.second_opinion)

    def decide(self, doc: Document) -> Decision:
        labelled, why = label_document(
            doc, self._model, component=self.mixture.component(doc.component),
            is_code=doc.component in self.code, options=self.options, second=self._second)
        return labelled, (None if why is None else (Reason.LANGUAGE, why))

    def stats_key(self, doc: Document, why) -> tuple[str, str]:
        return doc.component, doc.language  # (component, language)

    def summarise(self, counts: list) -> dict:
        """[((component, language), n)] -> {component: {language: n}} with sorted keys."""
        table: dict[str, dict[str, int]] = {}
        for (component, language), n in counts:
            table.setdefault(component, {})[language] = n
        return {"documents_by_language": table}
