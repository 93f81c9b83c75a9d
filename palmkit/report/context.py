"""What a report section reads: the stats, the manifests, and bounded reads of the rejects.

``Context.from_stats(stats)`` takes ``palmkit.stats.collect``'s result and finds the corpus
and pack folders it came from. A section never scans a whole output: rejects are read per
reason with a filter and ``head(k)`` (pyarrow stops at the first ``k`` matches, and reads the
columns it needs only), so a corpus with 10^8 rejects costs a few batches per reason, not a
pass over all of them.
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import os
from typing import Any

import pyarrow.compute as pc
import pyarrow.dataset as ds

from palmkit.corpus_files import REJECTS_DIR, clean_files
from palmkit.manifest import MANIFEST_NAME, Manifest, ManifestError

#: Example rejects shown per reason, and characters of text shown per example.
EXAMPLES_PER_REASON = 3
EXAMPLE_CHARS = 300
#: Near-duplicate rejects read to build example clusters, and clusters shown.
CLUSTER_REJECTS_READ = 500
CLUSTERS_SHOWN = 5
#: Scanner settings of those reads: pyarrow's defaults (batches of 131,072 rows, 16 batches
#: and 4 files read ahead) decode the texts of ~10^6 rejects to return 3 of them.
_SMALL_SCAN = {"batch_size": 1024, "batch_readahead": 1, "fragment_readahead": 1}


def _manifest(folder: str | None, stage: str) -> Manifest | None:
    if not folder or not os.path.exists(os.path.join(folder, MANIFEST_NAME)):
        return None
    try:
        return Manifest.read(folder, stage=stage)
    except ManifestError:
        return None


@dataclasses.dataclass
class Context:
    """Everything a section may read. ``stats`` is ``palmkit.stats.collect``'s result; the
    manifests are None where that output is not at hand (a report of a pack whose corpus was
    moved has no rejects to show)."""

    stats: dict[str, Any]
    corpus_dir: str | None = None
    pack_dir: str | None = None
    corpus_manifest: Manifest | None = None
    pack_manifest: Manifest | None = None

    @classmethod
    def from_stats(cls, stats: dict[str, Any]) -> "Context":
        if stats.get("kind") == "pack":
            pack_dir, corpus_dir = stats.get("path"), stats.get("corpus")
        else:
            pack_dir, corpus_dir = None, stats.get("path")
        return cls(stats=stats, corpus_dir=corpus_dir, pack_dir=pack_dir,
                   corpus_manifest=_manifest(corpus_dir, "corpus"),
                   pack_manifest=_manifest(pack_dir, "pack"))

    @property
    def components(self) -> dict[str, dict]:
        return self.stats.get("components") or {}

    @property
    def stage_stats(self) -> dict[str, Any]:
        if self.corpus_manifest is not None:
            return self.corpus_manifest.extra.get("stages") or {}
        return self.stats.get("stages") or {}

    @property
    def corpus_counts(self) -> dict[str, dict]:
        """Per component ``{read, kept, kept_bytes, rejected}`` from the corpus manifest (or
        the stats when no manifest is at hand)."""
        if self.corpus_manifest is not None:
            counts = self.corpus_manifest.counts
            return {c: v for c, v in counts.items() if isinstance(v, dict)}
        return {c: e for c, e in self.components.items() if "read" in e}

    @property
    def stage_names(self) -> list[str]:
        """The cleaning stages in pipeline order, as the manifest records them."""
        config = self.corpus_manifest.config if self.corpus_manifest is not None else {}
        stages = config.get("stages")
        return [str(s) for s in stages] if isinstance(stages, list) else []

    def _reject_files(self) -> list[str]:
        if not self.corpus_dir:
            return []
        return sorted(glob.glob(os.path.join(self.corpus_dir, REJECTS_DIR, "*.parquet")))

    @functools.cached_property
    def _rejects(self) -> ds.Dataset | None:
        files = self._reject_files()
        return ds.dataset(files, format="parquet") if files else None

    @property
    def has_rejects(self) -> bool:
        return self._rejects is not None

    def reject_examples(self, reason: str, k: int = EXAMPLES_PER_REASON) -> list[dict]:
        """Up to ``k`` rejects with ``reason`` (text cut to ``EXAMPLE_CHARS``)."""
        data = self._rejects
        if data is None:
            return []
        columns = [c for c in ("component", "reason", "detail", "source", "record", "text",
                               "duplicate_of", "similarity") if c in data.schema.names]
        rows = data.head(k, columns=columns, filter=pc.field("reason") == reason,
                         **_SMALL_SCAN).to_pylist()
        for r in rows:
            text = r.get("text")
            if isinstance(text, str) and len(text) > EXAMPLE_CHARS:
                r["text"] = text[:EXAMPLE_CHARS] + "…"
        return rows

    def near_duplicate_clusters(self, k: int = CLUSTERS_SHOWN) -> list[dict]:
        """The ``k`` largest clusters among the first ``CLUSTER_REJECTS_READ`` near-duplicate
        rejects: the kept document (id, file, path) and its removed near-duplicates with
        their similarity to it."""
        data = self._rejects
        if data is None:
            return []
        rows = data.head(CLUSTER_REJECTS_READ,
                         columns=["id", "component", "source", "record", "duplicate_of",
                                  "similarity"],
                         filter=pc.field("reason") == "near_duplicate",
                         **_SMALL_SCAN).to_pylist()
        by_keeper: dict[tuple[str, str], list[dict]] = {}
        for r in rows:
            by_keeper.setdefault((r["component"], r["duplicate_of"] or ""), []).append(r)
        top = sorted(by_keeper.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:k]
        kept = self._lookup_kept({key for key, _ in top})
        return [{"component": comp, "kept_id": keeper,
                 "kept": kept.get((comp, keeper)),
                 "members": sorted(members, key=lambda r: -(r["similarity"] or 0))}
                for (comp, keeper), members in top]

    def _lookup_kept(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """Where the kept documents ``(component, id)`` lie: read the id column of that
        component's clean files, filtered (the texts are not read)."""
        if not keys or self.corpus_manifest is None:
            return {}
        out = {}
        files = clean_files(self.corpus_manifest)
        for comp in sorted({c for c, _ in keys}):
            rels = files.get(comp) or []
            if not rels:
                continue
            data = ds.dataset([os.path.join(self.corpus_dir, r) for r in rels], format="parquet")
            cols = [c for c in ("id", "source", "record", "path") if c in data.schema.names]
            ids = sorted(i for c, i in keys if c == comp)
            for r in data.to_table(columns=cols, filter=pc.field("id").isin(ids)).to_pylist():
                out[(comp, r["id"])] = r
        return out

    def timings(self) -> dict[str, dict | None]:
        """``extra["timings"]`` of each manifest at hand: {"corpus": ..., "pack": ...}."""
        out: dict[str, dict | None] = {}
        for name, m, key in (("corpus", self.corpus_manifest, "corpus_timings"),
                             ("pack", self.pack_manifest, "timings")):
            if m is not None:
                t = m.extra.get("timings")
            elif name == "corpus" and self.stats.get("kind") == "corpus":
                t = self.stats.get("timings")
            else:
                t = self.stats.get(key) if self.stats.get("kind") == "pack" else None
            if m is not None or t is not None:
                out[name] = t if isinstance(t, dict) else None
        return out
