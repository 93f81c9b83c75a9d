"""Language identification with fastText, and per-component language rules.

Model
-----
The default is fastText's compressed ``lid.176.ftz`` (938,013 bytes, 176 languages, CC-BY-SA-3.0,
bundled in ``pipelines/resources/``, see LICENSE-lid.176.txt there); ``--langid-model`` takes the
full ``lid.176.bin`` (126 MB, a little more accurate) or any fastText LID model whose labels are
``__label__<code>``. The model is loaded once per worker (``LanguageId.setup`` through a module
cache keyed by path): it loads in ~20 ms. A model file is checked before the pipeline starts
(``LanguageId.check_sources``, see "model files" below): a missing, truncated or foreign file
fails in one line (``ModelError``) instead of hanging the job inside fastText.

Decisions, with numbers
-----------------------
Measured on 994 real documents in 109 of the model's languages (gettext catalogues and man
pages of this machine, ``benchmarks/bench_langid_accuracy.py``, docs/langid.md): this policy is
right for 87.1% of them and says ``und`` for 2.9%; the policy before it (top label of the
window average, threshold 0.5 on that label alone) was right for 78.0% with 15.7% ``und``, and
the top label of the first 2,000 characters for 86.4%. The top label itself is right for 88.3%:
the rest are the model's own confusions (Sardinian and Occitan read as Catalan, Asturian as
Spanish, Malay as Indonesian), which no decision rule over its output repairs.

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
import errno
import json
import mmap
import os
import re
import stat
import struct
import subprocess
import sys
from typing import Iterable

from mixtures import Component, Mixture
from palmkit import flags
from palmkit.errors import UserError
from palmkit.records import UNDETERMINED, Document, Reason
from pipelines.fs import local_copy
from pipelines.stage import Decision, FilterStage, require_at_least, require_between

STAGE = "langid"
CODE_LANGUAGE = "code"
DEFAULT_MODEL = os.path.join(os.path.dirname(os.path.dirname(__file__)), "resources", "lid.176.ftz")
_TOP_K = 5
_LABEL_PREFIX = "__label__"
_WHITESPACE = re.compile(r"\s+")
_NOT_LETTER = re.compile(r"[\W\d_]+")
#: fastText labels of close languages -> their macro-language (ISO 639): their probabilities
#: are summed before thresholding, and a component listing the macro-language accepts them.
#: lid.176 splits Serbo-Croatian 4 ways and Norwegian 3 ways, so a Croatian text often has
#: hr 0.45 + sr 0.2 + bs 0.15 and no single label over 0.5.
CLOSE_LANGUAGES = {"nb": "no", "nn": "no", "no": "no",
                   "sr": "sh", "hr": "sh", "bs": "sh", "sh": "sh"}

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

    def __post_init__(self):
        require_between("--langid-threshold", self.threshold, 0.0, 1.0)
        require_at_least("--langid-window-chars", self.window_chars)
        require_at_least("--langid-windows", self.windows)
        require_at_least("--langid-min-line-chars", self.min_line_chars, 0)
        require_at_least("--langid-min-letters", self.min_letters, 0)


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
# fastText's loader trusts the file: measured with fasttext-numpy2 0.10.4 on copies of
# lid.176.ftz truncated inside the dictionary, load_model reads past the end of the file
# (it waits for a word's NUL byte that never comes) and grew to std::bad_alloc after ~8 s and
# several GB; truncated inside a matrix it may fail, and truncated by 13 bytes (938,000 of
# 938,013) it *loads* and predicts from garbage. So a model file is walked first, in Python,
# field by field through fastText's format (header, dictionary, input and output matrices,
# dense or product-quantized) without reading the matrices: every count must fit in the file
# and the model must end exactly at the end of the file. Only then does fastText see it, once,
# in a child process under a time and memory limit (a corrupt count inside the limits would
# otherwise still hang or kill the job), before the pipeline starts.

FASTTEXT_MAGIC = 793712314  # int32 little-endian at offset 0 of every fastText model
FASTTEXT_VERSIONS = (11, 12)  # what fastText 0.9+ writes (12) and still reads (11)
_HEADER = struct.Struct("<ii12id")  # magic, version, dim ws epoch minCount neg wordNgrams
#                                     loss model bucket minn maxn lrUpdateRate, t
_DICT = struct.Struct("<iiiqq")  # size, nwords, nlabels, ntokens, pruneidx_size
_DENSE = struct.Struct("<qq")  # rows, columns; then rows * columns float32
_QUANT = struct.Struct("<?qqi")  # qnorm, rows, columns, codesize; then codes, product quantizer
_PQ = struct.Struct("<iiii")  # dim, nsubq, dsub, lastdsub; then dim * 256 float32 centroids
_SUPERVISED = 3
_LOAD_TIMEOUT_S = 60  # plus 1 s per 20 MB; measured: lid.176.ftz and a 17 MB model take 0.1 s
_CHECKED: set[tuple] = set()


class ModelError(UserError):
    """A model file that cannot be used (missing, truncated, not a fastText classifier)."""


class _Truncated(Exception):
    pass


class _Reader:
    """Bounds-checked reads from a buffer: nothing is read past its end."""

    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def skip(self, n: int, part: str) -> None:
        if self.pos + n > len(self.buf):
            raise _Truncated(f"the file ends inside its {part} (needs at least {self.pos + n} "
                            f"bytes)")
        self.pos += n

    def unpack(self, fmt: struct.Struct, part: str) -> tuple:
        self.skip(fmt.size, part)
        return fmt.unpack_from(self.buf, self.pos - fmt.size)


def _skip_matrix(r: _Reader, *, quantized: bool, rows: int, dim: int, part: str) -> None:
    if not quantized:
        m, n = r.unpack(_DENSE, part)
        if (m, n) != (rows, dim):
            raise ValueError(f"{part} is {m} x {n}, the header says {rows} x {dim}")
        r.skip(m * n * 4, part)
        return
    qnorm, m, n, codesize = r.unpack(_QUANT, part)
    if (m, n) != (rows, dim) or codesize < 0:
        raise ValueError(f"quantized {part} is {m} x {n}, the header says {rows} x {dim}")
    r.skip(codesize, part)
    for pq_dim in (dim, 1) if qnorm else (dim,):  # the norms have their own 1-d quantizer
        d = r.unpack(_PQ, part)[0]
        if d != pq_dim:
            raise ValueError(f"{part}'s quantizer has dimension {d}, expected {pq_dim}")
        r.skip(d * 256 * 4, part)
        if qnorm and pq_dim == dim:
            r.skip(m, part)  # one norm code per row, before the norm quantizer


def _walk_fasttext(buf) -> int:
    """Walk a fastText classifier's layout; its end offset. Raises ``_Truncated``/ValueError."""
    r = _Reader(buf)
    magic, version, dim, _ws, _ep, _mc, _neg, word_ngrams, loss, model, bucket, minn, maxn, *_ = (
        r.unpack(_HEADER, "header"))
    if magic != FASTTEXT_MAGIC:
        raise ValueError("no fastText magic number in its first 4 bytes")
    if version not in FASTTEXT_VERSIONS:
        raise ValueError(f"fastText format version {version}, readable: {FASTTEXT_VERSIONS}")
    if model != _SUPERVISED:
        raise ValueError("a word-vector model, not a classifier (fastText supervised)")
    # n-grams are hashed modulo ``bucket``: fastText writes bucket 0 only when it has none
    if not (0 < dim <= 1 << 16 and 1 <= loss <= 4 and bucket >= 0 and 0 <= minn
            and 0 <= maxn <= 1024 and (bucket > 0 or (maxn == 0 and word_ngrams <= 1))):
        raise ValueError(f"implausible header (dim {dim}, loss {loss}, bucket {bucket}, "
                         f"n-grams {minn}-{maxn})")
    size, nwords, nlabels, _ntokens, pruned = r.unpack(_DICT, "dictionary")
    if min(nwords, nlabels) < 0 or size != nwords + nlabels or nlabels == 0 or pruned < -1:
        raise ValueError(f"implausible dictionary ({nwords} words, {nlabels} labels, "
                         f"{size} entries)")
    r.skip(10 * size, "dictionary")  # each entry is at least NUL + int64 count + int8 type
    pos, labels = r.pos - 10 * size, 0
    for _ in range(size):
        end = buf.find(b"\0", pos)
        if end < 0 or end + 10 > len(buf):
            raise _Truncated("the file ends inside its dictionary")
        kind = buf[end + 9]
        if kind not in (0, 1):
            raise ValueError(f"dictionary entry at byte {pos} has type {kind}")
        labels += kind
        pos = end + 10
    if labels != nlabels:
        raise ValueError(f"dictionary has {labels} labels, its header says {nlabels}")
    r.pos = pos
    r.skip(8 * max(pruned, 0), "dictionary")
    quantized = r.unpack(struct.Struct("<?"), "input matrix")[0]
    rows = nwords + (bucket if pruned < 0 else pruned)
    _skip_matrix(r, quantized=quantized, rows=rows, dim=dim, part="input matrix")
    qout = r.unpack(struct.Struct("<?"), "output matrix")[0]
    _skip_matrix(r, quantized=quantized and qout, rows=nlabels, dim=dim, part="output matrix")
    return r.pos


def fasttext_problem(path: str) -> str | None:
    """Why ``path`` is not a complete fastText classifier file (None: it is one).

    Cheap (no matrix is read; the dictionary is scanned at ~0.2 us per entry) and never blocks:
    the file must exist and be a regular file before it is opened (a FIFO would block).
    """
    try:
        st = os.stat(path)
    except OSError as e:
        return "not found" if e.errno == errno.ENOENT else f"cannot be read: {e.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return "is a directory, not a model file" if stat.S_ISDIR(st.st_mode) else \
            "is not a regular file"
    if st.st_size < _HEADER.size:
        return f"not a fastText model: {st.st_size} bytes, shorter than fastText's header"
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            end = _walk_fasttext(buf)
    except _Truncated as e:
        return f"truncated or corrupt: {st.st_size} bytes, {e}"
    except ValueError as e:
        return f"not a fastText classifier ({e})"
    except OSError as e:
        return f"cannot be read: {e.strerror or e}"
    if end != st.st_size:
        return f"not a fastText model file: {st.st_size - end} bytes after the end of the model"
    return None


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


def one_line(text: str) -> str:
    """Whitespace runs (newlines included) -> one space: fastText predicts on one line."""
    return _WHITESPACE.sub(" ", text).strip()


def normalise(text: str, *, min_line_chars: int = LangIdOptions.min_line_chars) -> str:
    """``text`` without its lines shorter than ``min_line_chars`` (blanks stripped): menu items,
    "OK", numbers, table rows and placeholders such as "%s: %d", which pull the model towards
    whatever it guesses for fragments. If every line is that short, the text is kept as it is
    (a short document still gets a score). Measured: line length does as well as counting
    letters per line (accuracy 0.871 vs 0.869 on docs/langid.md's set) at ~9x the speed."""
    if min_line_chars <= 0:
        return text
    kept = [x for x in text.split("\n") if len(x.strip()) >= min_line_chars]
    return "\n".join(kept) if kept else text


def lid_windows(text: str, *, window_chars: int = LangIdOptions.window_chars,
                windows: int = LangIdOptions.windows,
                min_line_chars: int = 0) -> list[str]:
    """The one-line texts to score: the whole text when short, else spread-out windows.

    Windows start at evenly spaced offsets (first at 0, last ending at the end) and are moved
    forward to the next space so no word is cut at the start. With ``min_line_chars`` the
    text is ``normalise``d first; a long text is normalised only in the raw slices the windows
    come from (twice a window's length each), so the cost stays bounded on a 10 MB book.
    """
    budget = window_chars * max(windows, 1)
    if min_line_chars and len(text) > 4 * budget and windows > 1:
        raw, step = 2 * window_chars, (len(text) - 2 * window_chars) / (windows - 1)
        slices = [text[int(i * step): int(i * step) + raw] for i in range(windows)]
        out = []
        for i, piece in enumerate(slices):
            line = one_line(normalise(piece, min_line_chars=min_line_chars))
            if i > 0:
                line = line[line.find(" ") + 1:] if " " in line[:100] else line
            out.append(line[:window_chars])
        return [w for w in out if w]
    if min_line_chars:
        text = normalise(text, min_line_chars=min_line_chars)
    line = one_line(text)
    if len(line) <= budget or windows <= 1:
        return [line[:budget]] if line else []
    step = (len(line) - window_chars) / (windows - 1)
    out = []
    for i in range(windows):
        start = int(round(i * step))
        if start > 0:
            space = line.find(" ", start, start + 100)
            start = space + 1 if space >= 0 else start
        out.append(line[start : start + window_chars])
    return [w for w in out if w]


def macro_language(code: str) -> str:
    """The macro-language of a close-language label (``nb`` -> ``no``, ``hr`` -> ``sh``), else
    the label itself."""
    return CLOSE_LANGUAGES.get(code, code)


@dataclasses.dataclass(frozen=True)
class LanguageScores:
    """What language ID decided about one text, with what a user needs to re-threshold it.

    ``score`` is the summed probability of ``language``'s close-language group (its own
    probability for a language without one): the number compared with the threshold.
    ``top`` is the best label even when ``language`` is ``und``; ``runner_up`` is the best
    other label (possibly in the same group) and ``runner_up_score`` its probability.
    """

    language: str
    score: float
    top: str
    runner_up: str | None
    runner_up_score: float | None


def _summed(model, parts: list[str]) -> dict[str, float]:
    """{label: probability summed over the windows, weighted by window length} (sums to <= 1)."""
    labels, probs = model.predict(parts, k=_TOP_K)
    total: dict[str, float] = {}
    weight = sum(len(p) for p in parts)
    for part, labs, ps in zip(parts, labels, probs):
        for lab, p in zip(labs, ps):
            code = lab[len(_LABEL_PREFIX):] if lab.startswith(_LABEL_PREFIX) else lab
            total[code] = total.get(code, 0.0) + float(p) * len(part) / weight
    return total


def _enough_letters(parts: list[str], n: int) -> bool:
    """At least ``n`` letters in ``parts``. Counted only for short texts (< 10 n characters):
    counting costs ~30 ns a character, and a longer text that is mostly not letters scores
    low anyway."""
    if sum(len(p) for p in parts) >= 10 * n:
        return True
    return sum(len(_NOT_LETTER.sub("", p)) for p in parts) >= n


def score_language(model, text: str,
                   options: LangIdOptions | None = None) -> LanguageScores:
    """``text``'s language decided from its normalised windows (see the module docstring)."""
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
    sure = score >= o.threshold and _enough_letters(parts, o.min_letters)
    return LanguageScores(top if sure else UNDETERMINED, score, top, runner[0],
                          None if runner[1] is None else min(runner[1], 1.0))


def identify_language(model, text: str, options: LangIdOptions | None = None,
                      **changes) -> tuple[str, float]:
    """(language code, score) of ``text``; ``und`` when the score < threshold or the text has
    too few letters. ``changes`` override ``options`` fields (``threshold=0.0``).

    The score is returned even when the language is ``und``, so the manifest and rejects show
    how unsure the model was.
    """
    o = dataclasses.replace(options or LangIdOptions(), **changes)
    r = score_language(model, text, o)
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
                   options: LangIdOptions | None = None) -> tuple[Document, str | None]:
    """The document with its ``language*`` fields set, and a rejection detail or None."""
    if is_code:
        return dataclasses.replace(doc, language=CODE_LANGUAGE, language_score=None,
                                   language_runner_up=None, language_runner_up_score=None), None
    r = score_language(model, doc.text, options)
    labelled = dataclasses.replace(doc, language=r.language, language_score=r.score,
                                   language_runner_up=r.runner_up,
                                   language_runner_up_score=r.runner_up_score)
    why = language_rejection(r.language, component)
    return labelled, (f"{why} (p={r.score:.2f}, top {r.top})" if why else None)


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
        self._model = None

    def check_sources(self, components: set[str]) -> None:
        """Before the pipeline starts: the model file is a fastText classifier that loads
        (``check_fasttext_model``), so a truncated ``--langid-model`` fails in one line."""
        path = self.options.model
        check_fasttext_model(path or DEFAULT_MODEL,
                             what="--langid-model" if path else "bundled language ID model")

    def setup(self) -> None:
        self._model = load_model(self.options.model)

    def decide(self, doc: Document) -> Decision:
        labelled, why = label_document(
            doc, self._model, component=self.mixture.component(doc.component),
            is_code=doc.component in self.code, options=self.options)
        return labelled, (None if why is None else (Reason.LANGUAGE, why))

    def stats_key(self, doc: Document, why) -> tuple[str, str]:
        return doc.component, doc.language  # (component, language)

    def summarise(self, counts: list) -> dict:
        """[((component, language), n)] -> {component: {language: n}} with sorted keys."""
        table: dict[str, dict[str, int]] = {}
        for (component, language), n in counts:
            table.setdefault(component, {})[language] = n
        return {"documents_by_language": table}
