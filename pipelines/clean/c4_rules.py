"""C4's page-cleaning rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a
Unified Text-to-Text Transformer", section 2.2), as pure functions for the heuristics stage.

C4 cleaned Common Crawl pages line by line, then judged what was left:

* **lines dropped** (not the page): lines of fewer than ``min_line_words`` words (5), lines that do
  not end in a terminal punctuation mark, lines containing the word "javascript" (a "please
  enable JavaScript" warning) and cookie/privacy-policy boilerplate lines (C4's list, from TFDS'
  ``c4_utils``: "terms of use", "privacy policy", "cookie policy", "uses cookies", "use of
  cookies", "use cookies");
* **pages rejected**: a page containing "lorem ipsum" (placeholder text) or a curly brace "{"
  (code), and a page left with fewer than ``min_sentences`` sentences (3) after the lines were
  dropped.

Differences from C4, on purpose: terminal punctuation also accepts the Unicode marks of other
scripts ("。", "！", "？", "؟", "।", "”", "»", "…" is *not* one: C4 kept only ``. ! ? "``), since the
stage runs on every language; sentences are counted as terminal-mark runs followed by a space or
the end (C4 used NLTK's English tokenizer); the page rules see the whole page, before lines are
dropped (C4 saw only lines that survived the line rules). The line rules are reported as
``LINE_RULES`` keywords (stats: documents that lost lines to each rule); page rejections use the
``heuristic_c4_*`` reasons with the measured value in the detail.
"""

from __future__ import annotations

import re

from palmkit.records import Reason

#: Page-level reasons (reject keywords).
LOREM_IPSUM = Reason.HEURISTIC_C4_LOREM_IPSUM
CURLY_BRACE = Reason.HEURISTIC_C4_CURLY_BRACE
SENTENCES = Reason.HEURISTIC_C4_SENTENCES
REASONS = (LOREM_IPSUM, CURLY_BRACE, SENTENCES)
#: Line-level rules, in the order a line is tested (the first that matches drops it).
SHORT, UNTERMINATED, JAVASCRIPT, POLICY = ("c4_short_lines", "c4_unterminated_lines",
                                           "c4_javascript_lines", "c4_policy_lines")
LINE_RULES = (SHORT, UNTERMINATED, JAVASCRIPT, POLICY)
TERMINAL = (".", "!", "?", '"', "”", "。", "！", "？", "؟", "।", "»")
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies",
                  "use of cookies", "use cookies")
_SENTENCE_END = re.compile(r"[.!?。！？؟।]+[\"'”’»)\]]*(?=\s|$)")


def line_rule(line: str, *, min_line_words: int) -> str | None:
    """The C4 line rule that drops ``line`` (stripped), or None when it is kept."""
    if len(line.split()) < min_line_words:
        return SHORT
    if not line.endswith(TERMINAL):
        return UNTERMINATED
    low = line.lower()
    if "javascript" in low:
        return JAVASCRIPT
    if any(p in low for p in POLICY_PHRASES):
        return POLICY
    return None


def count_sentences(text: str) -> int:
    """Sentences in ``text``: runs of terminal marks followed by a space or the end."""
    return len(_SENTENCE_END.findall(text))


def c4_clean(text: str, *, min_line_words: int = 5, min_sentences: int = 3
             ) -> tuple[str, dict[str, int], tuple[str, str] | None]:
    """``(kept text, {line rule: lines it dropped}, rejection or None)``.

    The rejection is ``(reason, detail with the measured value)``; the kept text is the page's
    surviving lines joined by newlines (the page's own text when it is rejected).
    """
    low = text.lower()
    at = low.find("lorem ipsum")
    if at >= 0:
        return text, {}, (LOREM_IPSUM, f"'lorem ipsum' at character {at}")
    braces = text.count("{")
    if braces:
        return text, {}, (CURLY_BRACE, f"{braces} curly brace(s) '{{', first at character "
                                       f"{text.find('{')}")
    kept, dropped = [], {}
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        rule = line_rule(line, min_line_words=min_line_words)
        if rule is None:
            kept.append(line)
        else:
            dropped[rule] = dropped.get(rule, 0) + 1
    out = "\n".join(kept)
    n = count_sentences(out)
    if n < min_sentences:
        lost = ", ".join(f"{r} {k}" for r, k in sorted(dropped.items())) or "none"
        return text, dropped, (SENTENCES, f"{n} sentences < {min_sentences} after dropping "
                                          f"{sum(dropped.values())} of "
                                          f"{len(kept) + sum(dropped.values())} lines ({lost})")
    return out, dropped, None
