"""N-grams of text for the contamination check: normalisation, units, stable 64-bit hashes.

Pure functions (NumPy, no Beam), shared by the evaluation side and the corpus side so that
both hash the same n-gram to the same number in every process and on every machine.

Units are **words** (the default; PaLM section 8 speaks of "8-grams" of examples, as GPT-3's
method does, whose n-grams are of words after lower-casing and stripping punctuation; see
docs/contamination.md) or **tokens** of the PaLM vocabulary (ids from ``tokenizer``).

Hashing: each unit gets a 64-bit hash once (words: blake2b of their UTF-8 bytes, memoised
per process since words are Zipf-distributed; token ids: splitmix64 of the id), and an m-gram
is the polynomial ``sum(h[i+k] * P**(m-1-k)) mod 2**64`` of its units, mixed with its length
and finalised with splitmix64. The polynomial is computed for all positions of a document at
once in NumPy (m vector operations), ~20x faster than hashing every n-gram string. Two
different n-grams collide with probability ~2**-64 per pair: among 10^9 distinct corpus
n-grams and 10^8 evaluation n-grams, ~5e-3 false hits in all, negligible against a 70% rule.
Hashes are returned as int64 (Parquet and NumPy's signed default), two's complement of the
uint64 value.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Iterable, Sequence

import numpy as np

_P = np.uint64(0x100000001B3)  # FNV-64 prime: odd, so the polynomial is a bijection per length
_LEN_SALT = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)

#: Punctuation and symbols (everything that is neither a word character nor whitespace, and
#: the underscore): replaced by a space, so "end.Start" gives two words, as on the other side.
_PUNCT = re.compile(r"[^\w\s]|_")
#: Words with the whitespace that follows them, for ``whitespace=False`` (runs kept distinct).
_WORD_WITH_SPACE = re.compile(r"\S+\s*")


@dataclasses.dataclass(frozen=True)
class Normalisation:
    """What is done to a text before it is cut into words (each switchable; paper: all on)."""

    lowercase: bool = True
    punctuation: bool = True  # strip punctuation and symbols
    whitespace: bool = True  # collapse whitespace runs (off: "a  b" and "a b" differ)

    def describe(self) -> dict[str, bool]:
        return dataclasses.asdict(self)


def normalise(text: str, norm: Normalisation = Normalisation()) -> str:
    """``text`` lower-cased, punctuation replaced by spaces (as ``norm`` says)."""
    if norm.lowercase:
        text = text.lower()
    if norm.punctuation:
        text = _PUNCT.sub(" ", text)
    return text


#: The default normalisation in one pass: runs of word characters other than "_" (the same
#: words as replacing punctuation by spaces and splitting; ~30% faster).
_WORD = re.compile(r"[^\W_]+")


def words(text: str, norm: Normalisation = Normalisation()) -> list[str]:
    """The word units of ``text``: whitespace-separated after ``normalise``. With
    ``whitespace=False`` each word keeps the whitespace after it (the last one's stripped), so
    a reformatted run of spaces or a newline makes a different unit."""
    if norm.punctuation and norm.whitespace:
        return _WORD.findall(text.lower() if norm.lowercase else text)
    text = normalise(text, norm)
    if norm.whitespace:
        return text.split()
    units = _WORD_WITH_SPACE.findall(text.lstrip())
    if units:
        units[-1] = units[-1].rstrip()
    return units


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise on uint64 (wrapping arithmetic)."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


class WordHasher:
    """64-bit hashes of words, memoised: a corpus repeats its words (Zipf), so after the first
    few MB nearly every lookup is a dict hit (~50 ns) instead of a blake2b (~400 ns)."""

    def __init__(self, limit: int = 2_000_000):
        self._cache: dict[str, int] = {}
        self._limit = limit

    def __call__(self, units: Sequence[str]) -> np.ndarray:
        cache = self._cache
        out = list(map(cache.get, units))  # C-speed lookups; misses are None
        if None in out:
            for i, w in enumerate(units):
                if out[i] is None:
                    h = int.from_bytes(hashlib.blake2b(w.encode("utf-8", "surrogatepass"),
                                                       digest_size=8).digest(), "little")
                    if len(cache) < self._limit:
                        cache[w] = h
                    out[i] = h
        return np.array(out, dtype=np.uint64)


def token_unit_hashes(ids: Iterable[int] | np.ndarray) -> np.ndarray:
    """64-bit unit hashes of token ids (int32): splitmix64 of the id."""
    arr = np.asarray(ids, dtype=np.int64).astype(np.uint64)
    return _mix(arr + _LEN_SALT)


def gram_hashes(units: np.ndarray, m: int) -> np.ndarray:
    """Hashes (int64) of every m-gram of ``units`` (uint64 unit hashes), in position order;
    empty when there are fewer than ``m`` units."""
    count = len(units) - m + 1
    if m < 1 or count <= 0:
        return np.empty(0, dtype=np.int64)
    acc = units[:count].copy()
    with np.errstate(over="ignore"):
        for k in range(1, m):
            acc = acc * _P + units[k:k + count]
        acc = _mix(acc ^ (np.uint64(m) * _LEN_SALT))
    return acc.view(np.int64)


def example_grams(units: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """The distinct n-gram hashes of one evaluation example, sorted, and the gram length used.

    An example with fewer than ``n`` units (but at least one) is one gram: the whole example,
    so it counts as contaminated exactly when it occurs verbatim (normalised) in the corpus.
    """
    m = n if len(units) >= n else len(units)
    return np.unique(gram_hashes(units, m)), m


#: Bits of the membership pre-filter per indexed hash: one probe, false-positive rate ~1/32.
FILTER_BITS_PER_HASH = 32
_THREE, _SEVEN = np.uint64(3), np.uint64(7)


def membership_filter(index: np.ndarray) -> np.ndarray:
    """A one-probe Bloom filter of ``index`` (uint8 bit array, a power of two bytes, >= 128 KiB):
    ``may_contain`` on it is ~10x faster than a binary search of the sorted index (measured,
    docs/benchmarks.md), and rejects ~97% of the corpus's n-grams before that search."""
    nbits = 1 << max(20, int(np.ceil(np.log2(max(1, len(index)) * FILTER_BITS_PER_HASH))))
    bits = np.zeros(nbits // 8, dtype=np.uint8)
    x = index.view(np.uint64)
    np.bitwise_or.at(bits, (x >> _THREE) & np.uint64(len(bits) - 1),
                     np.left_shift(np.uint8(1), (x & _SEVEN).astype(np.uint8)))
    return bits


def may_contain(bits: np.ndarray, grams: np.ndarray) -> np.ndarray:
    """Boolean mask: False where ``grams[i]`` is surely not in the filtered index."""
    x = grams.view(np.uint64)
    byte = bits[(x >> _THREE) & np.uint64(len(bits) - 1)]
    return ((byte >> (x & _SEVEN).astype(np.uint8)) & 1).astype(bool)


def hits(units: np.ndarray, lengths: Iterable[int], index: np.ndarray,
         bits: np.ndarray | None = None) -> np.ndarray:
    """The distinct gram hashes of a corpus document (all ``lengths``) found in ``index``
    (a sorted int64 array; ``bits``: its ``membership_filter``, optional), sorted. Only these
    leave the worker."""
    if len(index) == 0:
        return np.empty(0, dtype=np.int64)
    found = []
    for m in lengths:
        grams = gram_hashes(units, m)
        if bits is not None and len(grams):
            grams = grams[may_contain(bits, grams)]
        if len(grams):
            pos = np.searchsorted(index, grams)
            pos[pos == len(index)] = 0
            found.append(grams[index[pos] == grams])
    if not found:
        return np.empty(0, dtype=np.int64)
    return np.unique(np.concatenate(found))


def contaminated(hit_count: int, gram_count: int, fraction: float) -> bool:
    """The paper's rule: at least ``fraction`` of the example's n-grams occur in the corpus."""
    return gram_count > 0 and hit_count >= fraction * gram_count - 1e-9  # 0.7 * 10 exactly
