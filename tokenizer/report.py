"""What a trained vocabulary contains and how well it compresses: the figures in ``PREFIX.json``.

Pure functions over a ``Vocabulary``; ``palmkit vocab inspect`` prints the same figures.
"""

from __future__ import annotations

import collections
import unicodedata
from typing import Iterable, Mapping

from tokenizer.vocab import LOWER_BLOCK, Vocabulary

_WHITESPACE = {LOWER_BLOCK, "\t", "\n", "\r", "\x0b", "\x0c"}


def piece_kind(vocab: Vocabulary, i: int) -> str:
    """``control``, ``byte``, ``unknown``, ``user_defined`` or ``normal``."""
    sp = vocab.processor
    if sp.is_control(i):
        return "control"
    if sp.is_byte(i):
        return "byte"
    if sp.is_unknown(i):
        return "unknown"
    if sp.is_unused(i):
        return "unused"
    # The model proto's piece type is not exposed and its generated Python module does not load
    # under protobuf 6; our only user-defined pieces are the single non-ASCII digits, at score 0.
    piece = sp.id_to_piece(i)
    if sp.get_score(i) == 0.0 and len(piece) == 1 and unicodedata.category(piece) == "Nd":
        return "user_defined"
    return "normal"


def is_digit_piece(piece: str) -> bool:
    return any(unicodedata.category(ch) == "Nd" for ch in piece)


def piece_counts(vocab: Vocabulary) -> dict[str, int]:
    """Pieces by kind, plus digit-, whitespace- and newline-containing normal pieces.

    ``multi_char_digit`` must be 0: a piece that holds a digit and anything else would break
    "numbers are always split into single digits".
    """
    counts: collections.Counter = collections.Counter()
    for i in range(vocab.vocab_size):
        kind = piece_kind(vocab, i)
        counts[kind] += 1
        if kind not in ("normal", "user_defined"):
            continue
        piece = vocab.id_to_piece(i)
        if is_digit_piece(piece):
            counts["digit"] += 1
            counts["multi_char_digit"] += len(piece) > 1
        if any(ch in _WHITESPACE or ch.isspace() for ch in piece):
            counts["whitespace_containing"] += 1
            if all(ch in _WHITESPACE or ch.isspace() for ch in piece):
                counts["whitespace_only"] += 1
        if "\n" in piece:
            counts["newline_containing"] += 1
    counts.setdefault("multi_char_digit", 0)
    return dict(sorted(counts.items()))


def compression(vocab: Vocabulary, texts: Iterable[str]) -> dict[str, float]:
    """Bytes and characters per token of ``texts`` (encoded with the lossless wrapper)."""
    texts = list(texts)
    tokens = sum(len(ids) for ids in vocab.encode_batch(texts))
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    chars = sum(len(t) for t in texts)
    return {
        "docs": len(texts),
        "bytes": nbytes,
        "chars": chars,
        "tokens": tokens,
        "bytes_per_token": round(nbytes / tokens, 4) if tokens else 0.0,
        "chars_per_token": round(chars / tokens, 4) if tokens else 0.0,
    }


def compression_by(
    vocab: Vocabulary, heldout: Mapping[tuple[str, str], list[str]]
) -> dict[str, dict[str, dict[str, float]]]:
    """Compression per component and per language of held-out documents."""
    by_component: dict[str, list[str]] = collections.defaultdict(list)
    by_language: dict[str, list[str]] = collections.defaultdict(list)
    for (component, language), texts in sorted(heldout.items()):
        by_component[component].extend(texts)
        by_language[language].extend(texts)
    return {
        "by_component": {c: compression(vocab, t) for c, t in sorted(by_component.items())},
        "by_language": {lang: compression(vocab, t) for lang, t in sorted(by_language.items())},
    }
