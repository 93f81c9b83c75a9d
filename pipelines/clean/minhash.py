"""MinHash signatures, LSH band keys and pair verification (Levenshtein similarity).

Pure functions (numpy + Levenshtein only, no Beam), used by ``near_dedup.NearDedup``.

Why a vectorised numpy MinHash and not ``datasketch.MinHash``
-------------------------------------------------------------
datasketch hashes every shingle with sha1 in Python and keeps one object per document:
measured on the benchmark's 20,503 real source files (100 permutations, 3-token shingles),
datasketch 2.0.0 ``update_batch`` ran at 12.2 MB/s per core, this module at 32.3 MB/s per core
(2.6x). The speed comes from (1) hashing every token of a file at once with a polynomial
hash built from one ``cumsum`` over the UTF-8 bytes, and (2) applying all permutations as one
(shingles x perms) ``uint64`` multiply-add-shift.

Shingles
--------
Tokens are runs of identifier characters (ASCII letters, digits, ``_``, any non-ASCII byte);
whitespace and punctuation only separate them. Digits and case are kept (datatrove maps
digits to 0, which made unrelated tables of constants look alike). Dropping punctuation
matters for recall: a release that switched quote style (``'`` -> ``"``, e.g. after running
black) keeps Levenshtein similarity >= 0.9 but changes almost every whitespace token
(requests' ``status_codes.py`` across versions: similarity 0.90, whitespace-token Jaccard
0.21). Tokens only *propose* candidates; every decision is made on the raw text, so this
costs verification time, never precision. Shingles are 3 consecutive tokens.

Measured on 634 same-path pairs with similarity >= 0.9 across installed versions of the same
libraries: expected probability of becoming a candidate (mean of 1 - (1 - J^r)^b) is 0.994
for these tokens with 25 bands x 4 rows, 0.987 for whitespace tokens, 0.92 for datatrove's
default (5-word shingles, 14 x 8).

Hash functions
--------------
Token hash: polynomial rolling hash mod 2^64 over the bytes, finalised with splitmix64.
Shingle hash: sum of position-weighted token hashes, finalised, top 32 bits kept.
Permutation j: ``((a_j * x + b_j) mod 2^64) >> 32`` with odd random 64-bit ``a_j``:
Dietzfelbinger's multiply-add-shift, a 2-independent family for 32-bit keys. Every
constant comes from ``numpy.random.default_rng(seed)``, so signatures are identical on every
worker and every run.
"""

from __future__ import annotations

import dataclasses
import struct

import numpy as np

import Levenshtein

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_BASE = np.uint64(0x100000001B3)  # odd, so invertible mod 2^64
_BASE_INV = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_SHIFT32 = np.uint64(32)
# Token bytes: ASCII letters, digits, "_" and every non-ASCII byte (so UTF-8 letters stay
# inside tokens); every other byte (whitespace, punctuation) only separates tokens.
_IS_SEPARATOR = np.ones(256, dtype=bool)
_IS_SEPARATOR[[*range(48, 58), *range(65, 91), *range(97, 123), 95, *range(128, 256)]] = False
# Shingles are processed in chunks so a 1 MB file never builds a 170k x 128 matrix at once.
_CHUNK = 4096
_HINT = 1024  # initial Levenshtein band (see levenshtein_similarity)
EMPTY_SHINGLE = np.uint64(0x9E3779B97F4A7C15)  # the one shingle of a file with < n tokens


@dataclasses.dataclass(frozen=True)
class MinHashParams:
    """The hash family: ``num_perm = bands * rows`` permutations, derived from ``seed``."""

    bands: int = 25
    rows: int = 4
    shingle_size: int = 3
    seed: int = 1

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


_POW_CACHE: dict[str, np.ndarray] = {"pow": np.ones(1, np.uint64), "inv": np.ones(1, np.uint64)}


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """BASE^i and BASE^-i mod 2^64 for i < n (cached, grown by doubling)."""
    if len(_POW_CACHE["pow"]) < n:
        size = max(n, 2 * len(_POW_CACHE["pow"]), 1 << 16)
        with np.errstate(over="ignore"):
            _POW_CACHE["pow"] = np.cumprod(np.full(size, _BASE, np.uint64)) * _BASE_INV
            _POW_CACHE["inv"] = np.cumprod(np.full(size, _BASE_INV, np.uint64)) * _BASE
    return _POW_CACHE["pow"][:n], _POW_CACHE["inv"][:n]


def token_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the identifier/number tokens of ``text``, in order (vectorised)."""
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    if data.size == 0:
        return np.zeros(0, np.uint64)
    word = ~_IS_SEPARATOR[data]
    edges = np.diff(np.concatenate(([False], word, [False])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    if starts.size == 0:
        return np.zeros(0, np.uint64)
    pw, inv = _powers(data.size)
    with np.errstate(over="ignore"):
        prefix = np.concatenate(([np.uint64(0)], np.cumsum((data.astype(np.uint64) + 1) * pw)))
        raw = (prefix[ends] - prefix[starts]) * inv[starts]
        return _splitmix64(raw + ends.astype(np.uint64) - starts.astype(np.uint64))


def shingle_hashes(text: str, shingle_size: int) -> np.ndarray:
    """Distinct 32-bit hashes (as uint64) of the ``shingle_size``-token shingles of ``text``."""
    tokens = token_hashes(text)
    n = tokens.size - shingle_size + 1
    if n <= 0:
        # Too short for one shingle: hash whatever tokens exist (an empty file gets a constant).
        with np.errstate(over="ignore"):
            one = np.uint64(tokens.sum(dtype=np.uint64)) if tokens.size else EMPTY_SHINGLE
        return _splitmix64(np.array([one], np.uint64)) >> _SHIFT32
    acc = np.zeros(n, np.uint64)
    with np.errstate(over="ignore"):
        for k in range(shingle_size):
            acc = acc * _BASE + tokens[k : k + n]
    return np.unique(_splitmix64(acc) >> _SHIFT32)


def permutations(params: MinHashParams) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) coefficients of the ``num_perm`` hash functions (a odd)."""
    rng = np.random.default_rng(params.seed)
    a = rng.integers(0, 1 << 63, size=params.num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, size=params.num_perm, dtype=np.uint64) * np.uint64(2)
    return a, b


def signature(text: str, params: MinHashParams, perms: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """MinHash signature of ``text``: ``num_perm`` uint32 minima."""
    return signature_of_shingles(shingle_hashes(text, params.shingle_size), params, perms)


def signature_of_shingles(
    shingles: np.ndarray, params: MinHashParams, perms: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """MinHash of precomputed ``shingle_hashes``: all permutations as one matrix op per chunk."""
    a, b = perms
    sig = np.full(params.num_perm, 0xFFFFFFFF, np.uint64)
    with np.errstate(over="ignore"):
        for lo in range(0, shingles.size, _CHUNK):
            x = shingles[lo : lo + _CHUNK, None]
            sig = np.minimum(sig, ((x * a + b) >> _SHIFT32).min(axis=0))
    return sig.astype(np.uint32)


def band_keys(sig: np.ndarray, params: MinHashParams, *, namespace: str = "") -> list[bytes]:
    """One key per band: band index + namespace + the band's ``rows`` values (bytes).

    The namespace (the component name) keeps documents of different components apart.
    """
    ns = namespace.encode()
    rows = sig.reshape(params.bands, params.rows)
    return [struct.pack(">H", i) + ns + b"\x00" + rows[i].tobytes() for i in range(params.bands)]


def key_namespace(key: bytes) -> str:
    """The namespace (component) a ``band_keys`` key was made with."""
    return key[2 : key.index(b"\x00", 2)].decode()


def jaccard_estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Fraction of equal MinHash slots: an unbiased estimate of the shingle-set Jaccard."""
    return float(np.count_nonzero(sig_a == sig_b)) / sig_a.size


def max_distance(longest: int, threshold: float) -> int:
    """Largest distance d with ``1 - d / longest >= threshold``, evaluated in floating point
    exactly as callers compare (``int((1 - 0.9) * 2390)`` is 238, not 239: a distance of 239
    gives similarity 0.9 and must pass, and a distance of cutoff + 1 must not)."""
    d = int((1.0 - threshold) * longest)
    while 1.0 - (d + 1) / longest >= threshold:
        d += 1
    while d >= 0 and 1.0 - d / longest < threshold:
        d -= 1
    return d


def levenshtein_similarity(a: str, b: str, threshold: float = 0.0) -> float:
    """Normalised similarity ``1 - distance / max(len_a, len_b)``, exact when >= threshold.

    Below ``threshold`` the value is only an upper bound (< threshold), which is all a
    decision needs: the length-ratio pre-check returns ``min/max`` without any edit work
    (distance >= max - min), and ``score_cutoff`` lets Levenshtein stop early, so a
    hopeless pair costs O(1) or a band of the DP instead of len_a * len_b.
    """
    la, lb = len(a), len(b)
    longest = max(la, lb)
    if longest == 0:
        return 1.0
    if min(la, lb) / longest < threshold:
        return min(la, lb) / longest
    cutoff = max_distance(longest, threshold)
    # score_hint starts rapidfuzz on a narrow diagonal band that it widens only when needed:
    # two 420 kB files 300 edits apart took 3.3 s without it, 0.09 s with it.
    dist = Levenshtein.distance(a, b, score_cutoff=cutoff, score_hint=min(cutoff, _HINT))
    return 1.0 - dist / longest
