"""Cleaning stages of the corpus job, one module each.

* ``langid``: fastText language ID on every document; English-only components reject others.
* ``quality``: web quality classifier (curated vs web) and score-proportional sampling.
* ``exact_dedup``: full-document exact dedup (PaLM, section 7).
* ``code_filter``: permissive licenses and PaLM's 24 programming languages for code.
* ``near_dedup`` (with ``minhash``, ``components``): Levenshtein (code) and MinHash (text)
  near-dedup.

Every stage follows ``pipelines/stage.py``: built as ``Stage(config, mixture)``, it reads its
options dataclass from the job config (``config.langid``, ...) and its ``expand(docs)`` returns a
``StageOutput`` (kept documents, rejects, and small JSON-able stats for the manifest).
Per-element decisions are the module-level functions of each module, testable without Beam;
randomness comes only from ``doc_hash(seed, doc.id)`` so outputs are identical on any number of
workers.

This package file holds only what the stages share and imports nothing heavy.
"""

from __future__ import annotations

import hashlib


def doc_hash(seed: int, *parts: str) -> int:
    """A 64-bit integer from (seed, parts): the only source of randomness in the stages.

    blake2b is stable across processes and Python versions (unlike ``hash()``), so a
    document's draw depends on its id and the seed, never on bundling or worker count.
    """
    h = hashlib.blake2b(digest_size=8)
    h.update(str(seed).encode())
    for part in parts:
        h.update(b"\x00")
        h.update(part.encode("utf-8", "surrogatepass"))
    return int.from_bytes(h.digest(), "big")
