"""What the pack job checks and decides before it starts and says after it ends: the
vocabulary against the report written beside it (``vocab_info``), the output folder
(``_check_output``), whether a previous run of the same command left a finished pack
(``up_to_date``) or shards to drop (``_drop_stale_shards``), whether the corpus can fill the
shards (``_check_fits``), the shard count (``auto_num_shards``), and the dropped-token warning
(``warn_dropped``). Used by ``pipelines.pack.main``; no Beam pipeline here."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from apache_beam.io.filesystems import FileSystems

from palmkit.contracts import PackedDataSpec
from palmkit.errors import UserError
from palmkit.manifest import MANIFEST_NAME, Manifest
from palmkit.paths import join
from pipelines import io as outputs
from pipelines.fs import local_copy

if TYPE_CHECKING:
    from pipelines.pack import PackConfig

log = logging.getLogger("pipelines.pack")

STAGE = "pack"
# what a previous pack left in a folder
PREVIOUS_OUTPUT = (MANIFEST_NAME, "shard-*.parquet", "shard-*.array_record",
                   "components-*.parquet")  # records.components_name: each shard's sidecar


@dataclasses.dataclass(frozen=True)
class VocabInfo:
    """The vocabulary the shards are encoded with, as the manifest records it."""

    size: int
    eod_id: int
    sha256: str  # of the .model file



def _local_copy(path: str) -> str:
    """Workers load the vocabulary from local disk: copy it down when it is remote (gs://)."""
    return local_copy(path, suffix=".model")


def vocab_info(vocab: str) -> VocabInfo:
    """What the trainer checks against the model: vocabulary size, [eod] id, file checksum.

    When ``PREFIX.json`` (written by ``palmkit vocab train``) lies beside ``PREFIX.model``, the
    model must be the one it describes (SHA-256, size, [eod] id): a model swapped or damaged
    after training is refused here, not found by a trainer later.
    """
    import json

    import tokenizer

    tok = tokenizer.load(_local_copy(vocab))
    info = VocabInfo(size=tok.vocab_size, eod_id=tok.eod_id, sha256=tok.sha256)
    report = vocab[: -len(".model")] + ".json" if vocab.endswith(".model") else vocab + ".json"
    if FileSystems.exists(report):
        with FileSystems.open(report) as f:
            try:
                written = json.loads(f.read().decode("utf-8"))
            except ValueError as e:
                raise UserError(f"{report}: not valid JSON ({e})") from None
        pairs = {"vocab_sha256": (written.get("sha256"), info.sha256),  # (report, model)
                 "vocab_size": (written.get("vocab_size"), info.size),
                 "eod_id": (written.get("eod_id"), info.eod_id)}
        wrong = [k for k, (said, found) in pairs.items() if said is not None and said != found]
        if wrong:
            raise UserError(f"{vocab} does not match {report} ({', '.join(wrong)} differ): the "
                            f"model was replaced or damaged after training; retrain or copy both")
    return info


def _check_output(config: PackConfig) -> str:
    """The folder this run writes into (see ``pipelines.io.prepare_output``)."""
    return outputs.prepare_output(config.output, overwrite=config.overwrite,
                                  previous=PREVIOUS_OUTPUT, what="a pack output",
                                  resume=config.resume)


def up_to_date(config: PackConfig, run: str) -> Manifest | None:
    """The finished pack in ``--output`` when it was made from the same corpus, vocabulary and
    options (its manifest's ``run_fingerprint``) and its files are intact: rerunning the
    command then does nothing (``--overwrite`` repacks anyway)."""
    if config.overwrite or not config.resume or not FileSystems.exists(
            join(config.output, MANIFEST_NAME)):
        return None
    try:
        manifest = Manifest.read(config.output, stage=STAGE)
        manifest.verify_files(config.output, checksums=False)
    except Exception:  # damaged or of another kind: the usual refusal explains
        return None
    if manifest.extra.get("run_fingerprint") != run:
        return None
    log.info("pack: %s is up to date (same corpus, vocabulary and options): nothing to do; "
             "--overwrite to repack", config.output)
    return manifest


def _drop_stale_shards(run_dir: str, config: PackConfig, *, keep: set[str]) -> None:
    """Shard files an interrupted run left that this run will not keep: deleted before it
    starts, so no shard of another configuration lies beside the new ones."""
    stale = [m.path for pattern in PREVIOUS_OUTPUT[1:]
             for m in FileSystems.match([join(run_dir, pattern)])[0].metadata_list
             if m.path.rsplit("/", 1)[-1] not in keep]
    if stale:
        FileSystems.delete(stale)


def _check_fits(config: PackConfig, corpus_manifest: Manifest, components) -> None:
    """Tokens are never more than bytes (every piece is >= 1 byte), so a corpus whose kept
    bytes cannot fill one example per shard is refused before tokenizing anything."""
    counts = corpus_manifest.counts
    for c in components:  # every share > 0 needs documents (packing.plan_sampling would fail)
        entry = counts.get(c) if isinstance(counts.get(c), dict) else {}
        if entry.get("kept", 0) == 0:
            hint = next((w for w in corpus_manifest.extra.get("warnings", ())
                         if w.startswith(f"component {c}:")), None)
            why = (hint.split(": ", 1)[1] if hint else
                   f"read {entry.get('read', 0)}, rejected {entry.get('rejected', {})}")
            raise UserError(
                f"component {c} has a share in the mixture but no kept documents in corpus "
                f"{config.corpus} ({why}); rebuild the corpus, or pack with a --mixture that "
                f"gives {c} share 0")
    kept = [counts.get(c, {}) for c in components]
    if all(isinstance(c, dict) and "kept_bytes" in c for c in kept):
        upper = sum(c["kept_bytes"] + c["kept"] for c in kept) + config.num_shards
        if upper < config.seq_len:
            raise UserError(f"--seq-len {config.seq_len} is longer than all the data: the corpus "
                            f"holds at most {upper} tokens; lower --seq-len")


#: Bytes per token assumed when sizing shards from the corpus: lower than measured (2.9-3.7
#: by component with the demo vocabulary; a 256k vocabulary compresses better), so shards come
#: out at or below ``shard_tokens``.
BYTES_PER_TOKEN = 3


def auto_num_shards(corpus_manifest: Manifest, components, *, total_tokens: int | None,
                    shard_tokens: int) -> int:
    """Shards for ``--num-shards`` unset, decided at launch from the corpus manifest (the same
    for every run and worker count): ``total_tokens`` if given, else the kept bytes of the
    components with a share / ``BYTES_PER_TOKEN`` (an upper bound of the default budget),
    divided by ``shard_tokens``, at least 1. At 780B tokens and 100M per shard: 7,800."""
    if total_tokens is None:
        counts = corpus_manifest.counts
        kept = sum(counts.get(c, {}).get("kept_bytes", 0) for c in components
                   if isinstance(counts.get(c), dict))
        total_tokens = kept // BYTES_PER_TOKEN
    return max(1, -(-total_tokens // shard_tokens))


#: ``pack`` warns when the partial last rows of the shards drop more than this share of tokens.
DROP_WARN_FRACTION = 0.01


def warn_dropped(manifest: Manifest) -> float:
    """Each shard drops its final partial row (< seq_len tokens), so a pack drops up to
    ``num_shards * seq_len`` tokens whatever its size: 0.4% of 2 x 138k tokens at seq_len 256,
    but 6.6% of the same data in 8 shards of 2048. One warning line above
    ``DROP_WARN_FRACTION``, naming the options that reduce it. Returns the fraction."""
    spec = PackedDataSpec.from_manifest(manifest)
    dropped = int(manifest.counts.get("dropped_tokens", 0))
    total = spec.num_examples * spec.seq_len + dropped
    fraction = dropped / total if total else 0.0
    if fraction > DROP_WARN_FRACTION:
        log.warning("pack dropped %d of %d tokens (%.1f%%, the partial last row of each of %d "
                    "shards of --seq-len %d): use fewer --num-shards or a smaller --seq-len",
                    dropped, total, 100 * fraction, spec.num_shards, spec.seq_len)
    return fraction
