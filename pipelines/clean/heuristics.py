"""Heuristic quality filters (Gopher / C4 rules), an optional per-document stage.

PaLM filtered web pages with a quality classifier (``pipelines.clean.quality``), not with rules,
so this stage is off in the ``palm`` mixture. A mixture turns it on per component with
``cleaning: {heuristics: true}``. The rules and default thresholds are Gopher's "quality
filters" (Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from
Training Gopher", arXiv 2112.11446, appendix A.1.1 and Table A1), which C4 (Raffel et al.
2020, section 2.2) anticipated with coarser versions (lines ending in an ellipsis, pages of
fewer than 3 sentences). A document is rejected by the *first* rule it breaks, in this order:

=========================== ===================================================== ==========
reason                      measured value                                        rejected if
=========================== ===================================================== ==========
heuristic_word_count        whitespace-separated words                            < 50, > 100,000
heuristic_word_length       mean characters per word                              < 3, > 10
heuristic_symbol_ratio      ("#" + "..." + "…") occurrences per word               > 0.1
heuristic_bullet_lines      fraction of lines starting with a bullet              > 0.9
heuristic_ellipsis_lines    fraction of lines ending with "..." or "…"             > 0.3
heuristic_alpha_words       fraction of words with an alphabetic character        < 0.8
heuristic_stop_words        distinct stop words (the, be, to, of, and, that,      < 2
                            have, with), only for a language in ``STOP_WORDS``
heuristic_duplicate_lines   fraction of lines (or of their characters) that       > 0.3 (0.2)
                            repeat an earlier line
heuristic_duplicate_paragraphs  the same for paragraphs (blank-line separated)    > 0.3 (0.2)
heuristic_top_ngram         characters in the most frequent 2/3/4-gram            > 0.20/0.18/0.16
heuristic_duplicate_ngram   characters in 5..10-grams that occur more than once   > 0.15 ... 0.10
=========================== ===================================================== ==========

Stop words beyond English (``--heuristics-stop-word-lists iso``): the document's language-ID
label picks a stopwords-iso list (PyPI ``stopwordsiso``, MIT; 58 lists, 50 used: nb/nn use
``no``, bs use ``hr``; Chinese, Japanese, Thai and Korean are skipped, not split into words by
spaces, and so are the lists that fail on real text, ``_NO_LIST``), and the same "at least
``min_stop_words`` distinct stop words" test applies. English keeps Gopher's 8 words. Measured
on 1-5 KB real catalogue/man-page documents (docs/benchmarks.md): 95% of documents pass their
own language's list, 29% pass a list of another language. Default ``gopher``: English only,
as Gopher did.

C4's rules (``--heuristics-c4``, off by default; ``pipelines/clean/c4_rules.py``) run first:
page rejects ``heuristic_c4_lorem_ipsum`` and ``heuristic_c4_curly_brace``; then lines are
dropped (fewer than 5 words, no terminal punctuation, "javascript", cookie/policy boilerplate:
line rules ``c4_short_lines``, ``c4_unterminated_lines``, ``c4_javascript_lines``,
``c4_policy_lines``) and a page left with fewer than 3 sentences is rejected
(``heuristic_c4_sentences``, the detail counts the lines each rule dropped). A kept page's text
is its surviving lines, and Gopher's rules judge that text. A document that lost lines (kept or
rejected) says how many to each rule in ``metadata["c4_lines_dropped"]``
(``c4_short_lines=3;c4_unterminated_lines=1``).

Each reject's detail names the rule and the measured value (``mean word length 1.20 < 3``).
Stats (``heuristics``): per component, documents judged, kept, and per rule the count and rate
of documents that rule rejected (rates add up to the rejected fraction, since the first broken
rule decides); with C4 on, also per line rule the documents that lost at least one line to it
(``lines_dropped``) and their rate. Cost: one pass over words and lines plus 64-bit rolling
n-gram hashes counted with numpy (np.unique); see docs/benchmarks.md
(benchmarks/bench_heuristics.py) for MB/s per core.
"""

from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np

from mixtures import Mixture
from palmkit import flags
from palmkit.errors import UserError
from palmkit.records import Document, Reason
from pipelines.clean import c4_rules
from pipelines.stage import Decision, FilterStage, require_at_least, require_between

STAGE = "heuristics"
#: ``Document.metadata`` key of the C4 line rules that dropped lines: "rule=lines;rule=lines".
LINES_DROPPED = "c4_lines_dropped"
BULLETS = ("•", "●", "○", "◦", "‣", "⁃", "▪", "■", "-", "*", "·", "–")
ELLIPSES = ("...", "…")
#: Gopher's stop-word list (appendix A.1.1); a language without a list skips that rule.
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"the", "be", "to", "of", "and", "that", "have", "with"}),
}
#: Stop-word list families ``--heuristics-stop-word-lists`` accepts.
STOP_WORD_LISTS = ("gopher", "iso")
#: Language-ID labels -> the stopwords-iso list that covers them.
_ISO_LIST_OF = {"nb": "no", "nn": "no", "bs": "hr", "sh": "hr"}
#: Labels whose stopwords-iso list is not used: zh, ja, th are written without spaces between
#: words (a whitespace split finds no stop words); measured on real catalogue text
#: (docs/benchmarks.md), the lists of sr (Latin-script words; Serbian text is mostly Cyrillic),
#: ku (Sorani; lid.176's ku text is mostly Kurmanji), so and zu passed 0-17% of real documents;
#: ko's particles are written attached to the word before them, so a Korean Wikipedia paragraph
#: of the sample (data/sample/wikipedia/multilingual.jsonl) has 1 list word.
_NO_LIST = frozenset({"zh", "ja", "th", "ko", "sr", "ku", "so", "zu"})
#: Gopher's repetition thresholds (Table A1): n -> max fraction of characters.
TOP_NGRAM = {2: 0.20, 3: 0.18, 4: 0.16}
DUPLICATE_NGRAM = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
_PARAGRAPH = re.compile(r"\n\s*\n")
_ALPHA = re.compile(r"[^\W\d_]")
_PUNCT = ".,;:!?\"'()[]{}«»“”‘’"


@dataclasses.dataclass(frozen=True)
class HeuristicsOptions:
    """``Heuristics``' options: ``CorpusConfig.heuristics``, flags ``--heuristics-*``
    (defaults: Gopher's thresholds, see the module docstring)."""

    min_words: int = flags.option(
        50, metavar="N", help="reject a document of fewer whitespace-separated words "
                              "(reason heuristic_word_count)")
    max_words: int = flags.option(
        100_000, metavar="N", help="reject a document of more words (heuristic_word_count)")
    min_mean_word_length: float = flags.option(
        3.0, metavar="X", help="reject a document whose mean word length in characters is "
                               "below X (heuristic_word_length)")
    max_mean_word_length: float = flags.option(
        10.0, metavar="X", help="reject a document whose mean word length is above X "
                                "(heuristic_word_length)")
    max_symbol_ratio: float = flags.option(
        0.1, metavar="X", help="reject a document with more than X '#', '...' and '…' per word "
                               "(heuristic_symbol_ratio)")
    max_bullet_lines: float = flags.option(
        0.9, metavar="X", help="reject a document whose fraction of lines starting with a "
                               "bullet is above X (heuristic_bullet_lines)")
    max_ellipsis_lines: float = flags.option(
        0.3, metavar="X", help="reject a document whose fraction of lines ending with '...' or "
                               "'…' is above X (heuristic_ellipsis_lines)")
    min_alpha_words: float = flags.option(
        0.8, metavar="X", help="reject a document whose fraction of words containing a letter "
                               "is below X (heuristic_alpha_words)")
    min_stop_words: int = flags.option(
        2, metavar="N", help="reject a document of a language with a stop-word list that has "
                             "fewer than N distinct stop words; 0: off (heuristic_stop_words)")
    stop_word_lists: str = flags.option(
        "gopher", metavar="LISTS", choices=STOP_WORD_LISTS,
        help="stop-word lists: gopher = Gopher's 8 English words only; iso = also stopwords-iso's "
             "list of the document's language-ID label (50 languages) (heuristic_stop_words)")
    max_duplicate_lines: float = flags.option(
        0.3, metavar="X", help="reject a document whose fraction of lines repeating an earlier "
                               "line is above X, or their characters above 2/3 X "
                               "(heuristic_duplicate_lines)")
    max_duplicate_paragraphs: float = flags.option(
        0.3, metavar="X", help="the same for blank-line separated paragraphs "
                               "(heuristic_duplicate_paragraphs)")
    ngram_scale: float = flags.option(
        1.0, metavar="X", help="multiplies Gopher's limits on the characters covered by the most "
                               "frequent 2/3/4-gram (0.20/0.18/0.16, heuristic_top_ngram) and by "
                               "repeated 5..10-grams (0.15..0.10, heuristic_duplicate_ngram)")
    c4: bool = flags.option(
        False, help="C4's rules first: reject pages with 'lorem ipsum' (heuristic_c4_lorem_ipsum) "
                    "or a curly brace (heuristic_c4_curly_brace); drop lines that are short, "
                    "unterminated, mention javascript or are cookie/policy boilerplate; reject a "
                    "page left with too few sentences (heuristic_c4_sentences)")
    c4_min_line_words: int = flags.option(
        5, metavar="N", help="with --heuristics-c4: drop lines of fewer than N words "
                             "(line rule c4_short_lines; 0: keep them)")
    c4_min_sentences: int = flags.option(
        3, metavar="N", help="with --heuristics-c4: reject a page left with fewer than N "
                             "sentences after the line rules (heuristic_c4_sentences)")

    def __post_init__(self):
        require_at_least("--heuristics-min-words", self.min_words, 0)
        require_at_least("--heuristics-max-words", self.max_words, max(self.min_words, 1))
        for name in ("max_symbol_ratio", "max_bullet_lines", "max_ellipsis_lines",
                     "min_alpha_words", "max_duplicate_lines", "max_duplicate_paragraphs"):
            require_between(f"--heuristics-{name.replace('_', '-')}", getattr(self, name), 0, 1)
        require_between("--heuristics-ngram-scale", self.ngram_scale, 0, 10)
        require_at_least("--heuristics-c4-min-line-words", self.c4_min_line_words, 0)
        require_at_least("--heuristics-c4-min-sentences", self.c4_min_sentences, 0)
        if self.stop_word_lists not in STOP_WORD_LISTS:
            raise UserError(f"--heuristics-stop-word-lists {self.stop_word_lists!r}: choose one "
                            f"of {list(STOP_WORD_LISTS)}")


# -- measurements (pure functions) ---------------------------------------------------------------


def duplicate_fractions(items: list[str]) -> tuple[float, float]:
    """(fraction of items that repeat an earlier item, fraction of characters in them)."""
    seen, dup, dup_chars, chars = set(), 0, 0, 0
    for item in items:
        chars += len(item)
        if item in seen:
            dup, dup_chars = dup + 1, dup_chars + len(item)
        seen.add(item)
    return (dup / len(items) if items else 0.0, dup_chars / chars if chars else 0.0)


_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier of the rolling n-gram hash


def ngram_hashes(words: list[str], max_n: int):
    """Yield ``(n, hashes)`` for n = 1..max_n: ``hashes[i]`` is a 64-bit hash of
    ``words[i:i+n]`` (polynomial, wrapping: a collision among 10^5 n-grams has odds ~1e-10)."""
    index: dict[str, int] = {}
    ids = np.fromiter((index.setdefault(w, len(index)) for w in words), np.uint64, len(words))
    ids = ids * _MULT + np.uint64(1)
    h = ids
    with np.errstate(over="ignore"):
        for n in range(1, max_n + 1):
            if n > 1:
                h = h[:-1] * _MULT + ids[n - 1:]
            if not len(h):
                return
            yield n, h


def _top_fraction(h: np.ndarray, lens: np.ndarray, n: int, total_chars: int) -> float:
    uniq, first, counts = np.unique(h, return_index=True, return_counts=True)
    top = int(counts.max())
    if top < 2:
        return 0.0
    start = int(first[counts == top].min())  # ties: the first to occur (Counter.most_common)
    return top * int(lens[start:start + n].sum()) / total_chars


def _duplicate_fraction(h: np.ndarray, lens: np.ndarray, n: int, total_chars: int) -> float:
    _, inverse, counts = np.unique(h, return_inverse=True, return_counts=True)
    starts = np.flatnonzero(counts[inverse] > 1)
    if not len(starts):
        return 0.0
    depth = np.zeros(len(lens) + 1, np.int64)
    np.add.at(depth, starts, 1)
    np.add.at(depth, starts + n, -1)
    return int(lens[np.cumsum(depth)[:-1] > 0].sum()) / total_chars


def top_ngram_fraction(words: list[str], n: int, total_chars: int) -> float:
    """Characters of the most frequent n-gram's occurrences / characters of all words (Gopher
    counts it only when it occurs more than once)."""
    if len(words) < n or not total_chars:
        return 0.0
    h = dict(ngram_hashes(words, n))[n]
    return _top_fraction(h, np.fromiter(map(len, words), np.int64, len(words)), n, total_chars)


def duplicate_ngram_fraction(words: list[str], n: int, total_chars: int) -> float:
    """Characters of the words covered by n-grams that occur more than once / all characters."""
    if len(words) < n or not total_chars:
        return 0.0
    h = dict(ngram_hashes(words, n))[n]
    return _duplicate_fraction(h, np.fromiter(map(len, words), np.int64, len(words)), n,
                               total_chars)


def _ngram_rejection(words: list[str], chars: int, scale: float) -> tuple[str, str] | None:
    lens = np.fromiter(map(len, words), np.int64, len(words))
    for n, h in ngram_hashes(words, max(DUPLICATE_NGRAM)):
        if n in TOP_NGRAM:
            frac, limit = _top_fraction(h, lens, n, chars), TOP_NGRAM[n] * scale
            if frac > limit:
                return Reason.HEURISTIC_TOP_NGRAM, (f"most frequent {n}-gram covers {frac:.3f} "
                                                    f"of characters > {limit:.3g}")
        elif n in DUPLICATE_NGRAM:
            frac, limit = _duplicate_fraction(h, lens, n, chars), DUPLICATE_NGRAM[n] * scale
            if frac > limit:
                return Reason.HEURISTIC_DUPLICATE_NGRAM, (f"repeated {n}-grams cover {frac:.3f} "
                                                          f"of characters > {limit:.3g}")
    return None


@functools.lru_cache(maxsize=None)
def _iso_stop_words(code: str) -> frozenset[str] | None:
    import stopwordsiso  # imported here: 200 KB of JSON, only where the iso lists are asked for

    return frozenset(w.lower() for w in stopwordsiso.stopwords(code)) or None


def stop_words(language: str | None, lists: str = "gopher") -> frozenset[str] | None:
    """The stop words the rule counts for ``language`` (a language-ID label), or None: the
    language has no list (``und``, ``code``, no-space scripts) and the rule does not apply."""
    if not language:
        return None
    if language in STOP_WORDS or lists != "iso" or language in _NO_LIST:
        return STOP_WORDS.get(language)
    return _iso_stop_words(_ISO_LIST_OF.get(language, language))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def heuristic_rejection(text: str, language: str | None,
                        o: HeuristicsOptions = HeuristicsOptions()) -> tuple[str, str] | None:
    """The first Gopher rule ``text`` breaks, as ``(Reason, detail with the measured value)``;
    None when it passes them all."""
    words = text.split()
    n = len(words)
    if not o.min_words <= n <= o.max_words:
        return Reason.HEURISTIC_WORD_COUNT, f"{n} words, outside [{o.min_words}, {o.max_words}]"
    chars = sum(map(len, words))
    mean = chars / n
    if not o.min_mean_word_length <= mean <= o.max_mean_word_length:
        return Reason.HEURISTIC_WORD_LENGTH, (
            f"mean word length {mean:.2f}, outside "
            f"[{o.min_mean_word_length:g}, {o.max_mean_word_length:g}]")
    symbols = (text.count("#") + text.count("...") + text.count("…")) / n
    if symbols > o.max_symbol_ratio:
        return Reason.HEURISTIC_SYMBOL_RATIO, (f"symbol-to-word ratio {symbols:.3f} > "
                                               f"{o.max_symbol_ratio:g}")
    lines = _lines(text)
    bullets = sum(line.startswith(BULLETS) for line in lines) / len(lines)
    if bullets > o.max_bullet_lines:
        return Reason.HEURISTIC_BULLET_LINES, (f"{bullets:.2f} of lines start with a bullet > "
                                               f"{o.max_bullet_lines:g}")
    ellipsis = sum(line.endswith(ELLIPSES) for line in lines) / len(lines)
    if ellipsis > o.max_ellipsis_lines:
        return Reason.HEURISTIC_ELLIPSIS_LINES, (f"{ellipsis:.2f} of lines end with an ellipsis "
                                                 f"> {o.max_ellipsis_lines:g}")
    alpha = sum(bool(_ALPHA.search(w)) for w in words) / n
    if alpha < o.min_alpha_words:
        return Reason.HEURISTIC_ALPHA_WORDS, (f"{alpha:.2f} of words have a letter < "
                                              f"{o.min_alpha_words:g}")
    stop = stop_words(language, o.stop_word_lists)
    if stop is not None and o.min_stop_words:
        found = len(stop & {w.strip(_PUNCT).lower() for w in words})
        if found < o.min_stop_words:
            return Reason.HEURISTIC_STOP_WORDS, (f"{found} distinct {language} stop words < "
                                                 f"{o.min_stop_words}")
    for what, items, limit, reason in (
            ("lines", lines, o.max_duplicate_lines, Reason.HEURISTIC_DUPLICATE_LINES),
            ("paragraphs", [p.strip() for p in _PARAGRAPH.split(text) if p.strip()],
             o.max_duplicate_paragraphs, Reason.HEURISTIC_DUPLICATE_PARAGRAPHS)):
        frac, char_frac = duplicate_fractions(items)
        if frac > limit or char_frac > limit * 2 / 3:
            return reason, (f"{frac:.2f} of {what} ({char_frac:.2f} of their characters) repeat "
                            f"an earlier one > {limit:g} ({limit * 2 / 3:.2g})")
    return _ngram_rejection(words, chars, o.ngram_scale)


def judge(text: str, language: str | None, o: HeuristicsOptions = HeuristicsOptions()
          ) -> tuple[str, dict[str, int], tuple[str, str] | None]:
    """``(text to keep, {C4 line rule: lines dropped}, rejection or None)``: C4's rules when
    ``o.c4`` (which may drop lines), then Gopher's on what is left."""
    dropped: dict[str, int] = {}
    if o.c4:
        text, dropped, why = c4_rules.c4_clean(text, min_line_words=o.c4_min_line_words,
                                               min_sentences=o.c4_min_sentences)
        if why is not None:
            return text, dropped, why
    return text, dropped, heuristic_rejection(text, language, o)


# -- the stage -----------------------------------------------------------------------------------


class Heuristics(FilterStage):
    """Gopher's heuristic filters on components with ``cleaning.heuristics`` (others pass
    untouched). Built as ``Heuristics(config, mixture)``; options ``config.heuristics``. It runs
    after language ID, whose label picks the stop-word list."""

    name = STAGE

    def __init__(self, config, mixture: Mixture, *, label: str | None = None):
        super().__init__(mixture, label=label)
        self.options: HeuristicsOptions = config.heuristics

    def applies(self, doc: Document) -> bool:
        return self.mixture.component(doc.component).cleaning.heuristics

    def decide(self, doc: Document) -> Decision:
        text, dropped, why = judge(doc.text, doc.language, self.options)
        changes = {}
        if why is None and text != doc.text:
            changes["text"] = text
        lost = ";".join(f"{r}={n}" for r, n in sorted(dropped.items()) if n)
        if lost:  # on the document (kept or rejected), where stats_key and a user find it
            changes["metadata"] = {**doc.metadata, LINES_DROPPED: lost}
        return (dataclasses.replace(doc, **changes) if changes else doc), why

    def stats_key(self, doc: Document, why) -> tuple:
        # (component, outcome, C4 line rules that dropped lines): at most 2^4 keys per outcome
        lost = doc.metadata.get(LINES_DROPPED, "") if self.options.c4 else ""
        return (doc.component, "kept" if why is None else why[0],
                tuple(x.split("=")[0] for x in lost.split(";") if x))

    def summarise(self, counts: list) -> dict:
        """[((component, outcome, line rules), n)] -> per component: docs, kept, per rule the
        number and rate of documents it rejected, and with C4 on per line rule the documents
        that lost lines to it (``lines_dropped``) and their rate."""
        out: dict[str, dict] = {}
        for key, n in counts:
            component, outcome, line_rules = (*key, ())[:3]
            row = out.setdefault(component, {"docs": 0, "kept": 0, "rejected": {}})
            row["docs"] += n
            if outcome == "kept":
                row["kept"] += n
            else:
                row["rejected"][outcome] = row["rejected"].get(outcome, 0) + n
            for rule in line_rules:
                lines = row.setdefault("lines_dropped", {})
                lines[rule] = lines.get(rule, 0) + n
        for row in out.values():
            row["rates"] = {r: round(n / row["docs"], 4) for r, n in row["rejected"].items()}
            if "lines_dropped" in row:
                row["lines_dropped"] = dict(sorted(row["lines_dropped"].items()))
                row["line_rates"] = {r: round(n / row["docs"], 4)
                                     for r, n in row["lines_dropped"].items()}
        return {"components": out}
