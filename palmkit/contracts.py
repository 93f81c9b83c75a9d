"""What the pack stage hands to the trainer, written and read through one typed definition.

`palmkit pack` writes ``SHARDS/shard-XXXXX-of-YYYYY.parquet`` (records.packed_schema) and
``SHARDS/manifest.json``; the trainer, `palmkit stats` and the demo read that manifest. The fields
both sides rely on live in ``manifest.extra`` and are defined here, once, as ``PackedDataSpec``:

    seq_len             tokens per example (every row has exactly this many)
    vocab_size          ids are in [0, vocab_size)
    vocab_sha256        SHA-256 of the SentencePiece .model the shards were encoded with
    eod_id              the ``[eod]`` id separating documents
    token_dtype         "int32" (records.TOKEN_DTYPE)
    num_shards          len(examples_per_shard)
    examples_per_shard  rows of each shard, in training order (the sorted shard names)
    seed                the seed that drew the sample and the order
    segment_ids         true when the shards also hold ``segment_ids`` and ``positions``
                        columns (records.SEGMENT_COLUMNS, `palmkit pack --segment-ids`);
                        written only when true, absent means false
    format              "array_record" for `palmkit pack --format array_record`
                        (records.example_record); written only then, absent means "parquet"
    components          the mixture's component names, ordered: the indices of each shard's
                        sidecar ``components-XXXXX-of-YYYYY.parquet`` (records.COMPONENTS_SCHEMA,
                        one row per example), which ``outputs`` lists beside its shard with the
                        same rows; absent (packs written before sidecars existed): no sidecars

The writer calls ``spec.to_manifest(...)``, every reader ``PackedDataSpec.from_manifest(...)``,
which checks each field and fails with a one-line ``ManifestError`` naming it. The JSON is the
same as before this class existed (same keys and values), so older pack outputs still load.

Pure data: no Beam, no JAX.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from palmkit.manifest import FileEntry, Manifest, ManifestError
from palmkit.records import PACKED_FORMATS, TOKEN_DTYPE, components_name, is_components_name

PACK_STAGE = "pack"


def packed_shard_name(index: int, num_shards: int, fmt: str = "parquet") -> str:
    """``shard-00003-of-00008.parquet`` (or ``.array_record``): zero-padded, so sorted names are
    training order."""
    if fmt not in PACKED_FORMATS:
        raise ValueError(f"packed format {fmt!r}, not one of {PACKED_FORMATS}")
    return f"shard-{index:05d}-of-{num_shards:05d}.{fmt}"


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


@dataclasses.dataclass(frozen=True)
class PackedDataSpec:
    """The pack output's hand-over fields (see the module docstring)."""

    seq_len: int
    vocab_size: int
    vocab_sha256: str
    eod_id: int
    seed: int
    shards: tuple[str, ...]  # file names relative to the manifest, in training order
    examples_per_shard: tuple[int, ...]
    token_dtype: str = TOKEN_DTYPE
    segment_ids: bool = False  # shards hold records.SEGMENT_COLUMNS too
    format: str = "parquet"  # one of records.PACKED_FORMATS
    components: tuple[str, ...] = ()  # sidecar indices -> names; () = no sidecars (older packs)

    @property
    def num_examples(self) -> int:
        return sum(self.examples_per_shard)

    @property
    def num_shards(self) -> int:
        return len(self.shards)

    @property
    def component_files(self) -> tuple[str, ...]:
        """Each shard's component sidecar (``records.components_name``), in shard order; empty
        when the pack has none."""
        return tuple(components_name(s) for s in self.shards) if self.components else ()

    def extra(self) -> dict[str, Any]:
        """The fields as written to ``manifest.extra``."""
        return {
            "seq_len": self.seq_len,
            "token_dtype": self.token_dtype,
            "num_shards": self.num_shards,
            "examples_per_shard": list(self.examples_per_shard),
            "seed": self.seed,
            "vocab_size": self.vocab_size,
            "eod_id": self.eod_id,
            "vocab_sha256": self.vocab_sha256,
            # Only when set: packs without the columns keep the bytes they always had.
            **({"segment_ids": True} if self.segment_ids else {}),
            **({"format": self.format} if self.format != "parquet" else {}),
            **({"components": list(self.components)} if self.components else {}),
        }

    def to_manifest(self, *, outputs: Mapping[str, FileEntry], config: dict[str, Any],
                    inputs: dict[str, Any], counts: dict[str, Any], versions: dict[str, str],
                    extra: Mapping[str, Any] | None = None) -> Manifest:
        """The pack stage's manifest. ``outputs`` must list exactly ``shards`` with
        ``examples_per_shard`` rows (and, with ``components``, each shard's sidecar with as many);
        ``extra`` adds the writer's own fields (sampling plan, ...)."""
        files = sorted(self.shards + self.component_files)
        rows = list(self.examples_per_shard)
        if sorted(outputs) != files or [outputs[s].rows for s in self.shards] != rows or \
                any(outputs[c].rows != n for c, n in zip(self.component_files, rows)):
            raise ValueError(f"outputs {sorted(outputs)} do not match shards {list(self.shards)} "
                             f"of {rows} examples (and their component sidecars)")
        own = self.extra()
        clash = sorted(set(own) & set(extra or {}))
        if clash:
            raise ValueError(f"extra fields {clash} belong to PackedDataSpec")
        return Manifest(stage=PACK_STAGE, config=config, inputs=inputs, outputs=dict(outputs),
                        counts=counts, extra={**own, **(extra or {})}, versions=versions)

    @classmethod
    def from_manifest(cls, manifest: Manifest, *, origin: str = "pack manifest") -> "PackedDataSpec":
        """Check ``manifest`` (from ``Manifest.read``) against this contract; ``origin`` names it
        in the errors (its path)."""
        if manifest.stage != PACK_STAGE:
            raise ManifestError(f"{origin}: written by stage '{manifest.stage}', but a "
                                f"'{PACK_STAGE}' output is needed here")
        manifest.require("token_dtype", TOKEN_DTYPE, origin=origin)
        extra = manifest.extra

        def field(key: str, ok, what: str):
            if key not in extra:
                raise ManifestError(f"{origin}: extra.{key} missing; re-run `palmkit pack`")
            if not ok(extra[key]):
                raise ManifestError(f"{origin}: extra.{key} is {extra[key]!r}, not {what}; "
                                    f"re-run `palmkit pack`")
            return extra[key]

        seq_len = field("seq_len", lambda v: _is_int(v) and v >= 1, "a positive integer")
        vocab_size = field("vocab_size", lambda v: _is_int(v) and v >= 1, "a positive integer")
        eod_id = field("eod_id", lambda v: _is_int(v) and 0 <= v < vocab_size,
                       f"an id in [0, {vocab_size})")
        vocab_sha256 = field("vocab_sha256", lambda v: isinstance(v, str) and v, "a checksum")
        seed = field("seed", _is_int, "an integer")
        counts = field("examples_per_shard",
                       lambda v: isinstance(v, list) and all(_is_int(n) and n >= 0 for n in v),
                       "a list of example counts")
        shards = tuple(sorted(n for n in manifest.outputs if not is_components_name(n)))
        if len(counts) != len(shards) or any(manifest.outputs[s].rows != n
                                             for s, n in zip(shards, counts)):
            raise ManifestError(f"{origin}: examples_per_shard {list(counts)} does not match the "
                                f"rows of the listed shards")
        field("num_shards", lambda v: v == len(shards), f"{len(shards)} (the shards listed)")
        segments = extra.get("segment_ids", False)
        if not isinstance(segments, bool):
            raise ManifestError(f"{origin}: extra.segment_ids is {segments!r}, not true or false; "
                                f"re-run `palmkit pack`")
        fmt = extra.get("format", "parquet")
        if fmt not in PACKED_FORMATS:
            raise ManifestError(f"{origin}: extra.format is {fmt!r}, not one of "
                                f"{', '.join(PACKED_FORMATS)}; re-run `palmkit pack`")
        components = extra.get("components", [])
        if not (isinstance(components, list) and all(isinstance(c, str) and c for c in components)
                and len(set(components)) == len(components) and len(components) < 2**15):
            raise ManifestError(f"{origin}: extra.components is {components!r}, not a list of "
                                f"distinct component names; re-run `palmkit pack`")
        listed = sorted(n for n in manifest.outputs if is_components_name(n))
        wanted = [components_name(s) for s in shards] if components else []
        if listed != sorted(wanted) or any(manifest.outputs[c].rows != n
                                           for c, n in zip(wanted, counts)):
            raise ManifestError(f"{origin}: component sidecars {listed} do not match the shards "
                                f"{list(shards)} (one per shard, as many rows, with "
                                f"extra.components); re-run `palmkit pack`")
        return cls(seq_len=seq_len, vocab_size=vocab_size, vocab_sha256=vocab_sha256,
                   eod_id=eod_id, seed=seed, shards=shards, examples_per_shard=tuple(counts),
                   segment_ids=segments, format=fmt, components=tuple(components))
