"""Cleaning stages of the corpus job, one module each.

* ``langid``: fastText language ID on every document; English-only components reject others.
* ``quality``: web quality classifier (curated vs web) and score-proportional sampling.
* ``exact_dedup``: full-document exact dedup (PaLM, section 7).
* ``code_filter``: permissive licenses and PaLM's 24 programming languages for code.
* ``near_dedup*``: Levenshtein (code) and MinHash (text) near-dedup (another module set).

Every stage is a ``beam.PTransform`` whose ``expand(docs)`` returns a ``StageOutput`` (kept
documents, rejects, and small JSON-able stats for the manifest). Per-element decisions are the
module-level functions of each module, testable without Beam; randomness comes only from
``doc_hash(seed, doc.id)`` so outputs are identical on any number of workers.

This package file holds only what the stages share and imports nothing heavy.
"""

from __future__ import annotations

import hashlib

from typing import Any

from pipelines.stage import StageOutput  # noqa: F401  (re-exported for the stage modules)

_UNSET: Any = object()


def option(config: Any, name: str, given: Any, default: Any) -> Any:
    """A stage option: the keyword given to the stage, else ``config.<name>``, else the default.

    Stages are built as ``Stage(config, mixture)`` by the corpus job (pipelines/stage.py); each
    stage documents the ``CorpusConfig`` field names it reads, so a job config that lacks one
    still runs with the stage's documented default.
    """
    if given is not _UNSET:
        return given
    value = getattr(config, name, None) if config is not None else None
    return default if value is None else value


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


def counter_name(component: str, reason: str) -> str:
    """Beam counter name for a rejection: ``<component>.<reason>`` (namespace = stage)."""
    return f"{component}.{reason}"
