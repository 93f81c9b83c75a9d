"""The pack job: cleaned corpus -> tokenized, sampled to the mixture, shuffled, packed shards.

    palmkit pack --corpus OUT --vocab VOCAB.model --output SHARDS [--mixture palm]
                 [--total-tokens N] [--seq-len 2048] [--num-shards K] [--seed S]
                 [--segment-ids] [--format parquet|array_record] [Beam flags]

One Beam pipeline:

    ListCorpusFiles -> ReadDocuments -> Reshuffle -> BatchDocuments -> Tokenize
      -> (TokenHistogram per component -> PlanSampling)          [side input]
      -> SampleAndShuffle (copies per document, shard by order key)
      -> GroupByShard -> PackAndWriteShard -> WriteManifest

Output: ``SHARDS/shard-XXXXX-of-YYYYY.parquet`` (column ``tokens``: int32, exactly ``seq_len``
per row, rows in training order), beside each its ``components-XXXXX-of-YYYYY.parquet`` (each
row's component per segment, ``records.COMPONENTS_SCHEMA``) and ``SHARDS/manifest.json``
(stage ``pack``; the fields the trainer reads are ``palmkit.contracts.PackedDataSpec``), all
written through ``pipelines.io`` like the corpus job's, into ``.incoming`` first when replacing a previous pack. Training order
is the shards in index order, each read front to back: global example ``i`` lives in the shard
where the cumulative ``examples_per_shard`` first exceeds ``i``. Documents were assigned to
shards uniformly at random (by order key), so every shard is a shuffled sample of the whole mix.

All decisions are pure functions in ``pipelines.packing`` of (seed, id, counts): byte-identical
output for any number of workers. Sizing: one shard is packed in one worker's memory (4 bytes
per token plus the Arrow copy), so ``num_shards`` defaults to estimated tokens / 100M
(``shard_tokens``; ``auto_num_shards``).
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # `python -m pipelines.pack ARGS` is `palmkit pack ARGS`; handing
    from palmkit import cli  # over before anything is defined loads this file once, not twice

    sys.exit(cli.main(["pack", *sys.argv[1:]]))

import dataclasses
import functools
import logging
import pickle
from typing import Iterator

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

import mixtures
from palmkit import flags
from palmkit.errors import UserError
from palmkit.contracts import PackedDataSpec
from palmkit.manifest import MANIFEST_NAME, Manifest, library_versions
from palmkit.records import PACKED_FORMATS, components_name
from pipelines import io as outputs
from pipelines import job_progress, packing, timings
from pipelines import progress as progress_meters
from pipelines import resume
from pipelines.fs import read_text, write_text_atomic
from pipelines.beam_options import check_pipeline_args, config_flags
from palmkit.corpus_files import clean_files, iter_documents, read_corpus_manifest
from palmkit.paths import join
from pipelines.pack_checks import (PREVIOUS_OUTPUT, STAGE, VocabInfo, _check_fits,  # noqa: F401
                                   _check_output, _drop_stale_shards, _local_copy,
                                   auto_num_shards, BYTES_PER_TOKEN, up_to_date, vocab_info,
                                   warn_dropped)
from pipelines.pack_shards import pack_shard, resumed_shards, run_fingerprint

log = logging.getLogger(__name__)



@dataclasses.dataclass
class PackConfig:
    corpus: str = flags.option(help="folder written by `palmkit corpus`")
    vocab: str = flags.option(help="SentencePiece .model written by `palmkit vocab train`")
    output: str = flags.option(help="folder for shards and manifest.json")
    mixture: str | None = flags.option(
        None, help="built-in name (palm, palm-refresh) or YAML file; default: the corpus's")
    total_tokens: int | None = flags.option(
        None, help="token budget; default: the largest that repeats no component. With a "
                   "larger budget, short components repeat whole epochs (with a warning)")
    seq_len: int = flags.option(2048, help="tokens per example, as in PaLM")
    num_shards: int | None = flags.option(
        None, help="output shards; one shard is packed in one worker's memory (4 bytes "
                   "per token plus the Arrow copy). Unset: estimated tokens / --shard-tokens, at least 1 "
                   "(see auto_num_shards)")
    shard_tokens: int = flags.option(
        100_000_000, help="without --num-shards: target tokens per shard")
    seed: int = flags.option(0, help="seed of sampling and shuffling")
    segment_ids: bool = flags.option(
        False, help="also write per-token segment_ids (document index in the row, from 1; an "
                    "[eod] belongs to the document it ends) and positions (index in the "
                    "document) columns; 3x the shard size before compression")
    format: str = flags.option(
        "parquet", choices=PACKED_FORMATS,
        help="shard files: Parquet (one tokens column) or ArrayRecord (one record per example: "
             "int32 little-endian tokens, then segment_ids and positions with --segment-ids; "
             "grain.sources.ArrayRecordDataSource reads it)")
    batch_size: int = flags.option(256, help="documents per encode_batch call", cli=False)
    overwrite: bool = flags.option(
        False, help="replace a previous pack in --output; it is kept until this run succeeds, "
                    "and none of its shards is left beside the new ones")
    resume: bool = flags.option(
        True, help="start from zero instead of continuing an interrupted or failed run of this "
                   "command: by default corpus files already tokenized and shards already "
                   "written are taken from OUTPUT/.resume (pipelines/resume.py; deleted after "
                   "success)")
    verify_checksums: bool = flags.option(
        True, help="skip re-hashing the corpus shards against their manifest (sizes are "
                   "still checked); hashing costs a few seconds per GB")

    def __post_init__(self):
        """Refuse values no run can use, before anything starts (one line each)."""
        if self.seq_len <= 1:
            raise UserError(f"--seq-len must be >= 2, got {self.seq_len}")
        if self.num_shards is not None and self.num_shards < 1:
            raise UserError(f"--num-shards must be >= 1, got {self.num_shards}")
        if self.shard_tokens < 1:
            raise UserError(f"--shard-tokens must be >= 1, got {self.shard_tokens}")
        if self.total_tokens is not None and self.total_tokens <= 0:
            raise UserError(f"--total-tokens must be positive, got {self.total_tokens}")
        if self.batch_size < 1:
            raise UserError(f"--batch-size must be >= 1, got {self.batch_size}")
        if self.format not in PACKED_FORMATS:
            raise UserError(f"--format {self.format!r}: one of {', '.join(PACKED_FORMATS)}")



@dataclasses.dataclass(frozen=True)
class TokenizedDoc:
    component: str
    id: str
    key: int  # packing.selection_key(seed, id)
    tokens: np.ndarray  # int32


# -- per-element functions -----------------------------------------------------------------------




def tokens_key(file_sha256: str, vocab_sha256: str, seed: int) -> str:
    """Resume-cache key of one corpus file's tokens (``pipelines.resume``)."""
    return resume.fingerprint({"v": resume.CACHE_VERSION, "file": file_sha256,
                               "vocab": vocab_sha256, "seed": seed})


def encode_tokenized(doc: TokenizedDoc) -> bytes:
    return pickle.dumps((doc.component, doc.id, doc.key, doc.tokens.tobytes()), protocol=5)


def decode_tokenized(blob: bytes) -> TokenizedDoc:
    component, doc_id, key, raw = pickle.loads(blob)
    return TokenizedDoc(component, doc_id, key, np.frombuffer(raw, dtype=np.int32))


class TokenizeFile(beam.DoFn):
    """Encodes one corpus file's documents in batches; the vocabulary is loaded once per
    worker. With a resume cache (``pipelines.resume``), a file tokenized by an interrupted run
    is replayed from it, and a new one is cached on the way."""

    def __init__(self, vocab: str, seed: int, *, corpus: str, batch_size: int,
                 vocab_sha256: str, cache: str | None = None):
        self._vocab_path, self._seed = vocab, seed
        self._corpus, self._batch_size = corpus, batch_size
        self._vocab_sha256, self._cache = vocab_sha256, cache
        self._tokens = beam.metrics.Metrics.counter(STAGE, "tokens")

    def setup(self):
        import tokenizer

        self._tok = tokenizer.load(_local_copy(self._vocab_path))

    def process(self, element: tuple[str, str]) -> Iterator[TokenizedDoc]:
        rel, file_sha256 = element
        cache = resume.WorkCache(self._cache) if self._cache else None
        key = tokens_key(file_sha256, self._vocab_sha256, self._seed)
        if cache is not None and cache.verified("tokens", key) is not None:
            log.info("pack: %s: tokens from the resume cache", rel)
            for blob in resume.iter_frames(cache, "tokens", key):
                doc = decode_tokenized(blob)
                self._tokens.inc(len(doc.tokens))
                yield doc
            return
        writer = resume.FrameWriter(cache, "tokens", key) if cache is not None else None
        try:
            batch: list[tuple[str, str, str]] = []
            for row in read_documents(rel, corpus=self._corpus):
                batch.append(row)
                if len(batch) >= self._batch_size:
                    yield from self._encode(batch, writer)
                    batch = []
            yield from self._encode(batch, writer)
        except BaseException:
            if writer is not None:
                writer.abandon()
            raise
        if writer is not None:
            writer.commit({"file": rel})

    def _encode(self, batch, writer) -> Iterator[TokenizedDoc]:
        if not batch:
            return
        ids = self._tok.encode_batch([text for _, _, text in batch])
        for (component, doc_id, _), toks in zip(batch, ids):
            arr = np.asarray(toks, dtype=np.int32)
            self._tokens.inc(len(arr))
            doc = TokenizedDoc(component, doc_id, packing.selection_key(self._seed, doc_id), arr)
            if writer is not None:
                writer.add(encode_tokenized(doc))
            yield doc


class HistogramFn(beam.CombineFn):
    """Tokens per selection-key bucket (65,536 int64 counters) for one component."""

    def create_accumulator(self):
        return np.zeros(packing.HIST_SIZE, dtype=np.int64)

    def add_input(self, acc, item):
        key, n = item
        acc[packing.bucket_of(key)] += n
        return acc

    def merge_accumulators(self, accs):
        return np.sum(list(accs), axis=0, dtype=np.int64)

    def extract_output(self, acc):
        return acc


def plan_from_histograms(hists: dict, *, shares: dict, total_tokens: int | None):
    plan = packing.plan_sampling(hists, shares, total_tokens=total_tokens)
    if plan.repeats:
        log.warning(
            "components %s have too little data for the budget and repeat documents "
            "(epochs: %s)", list(plan.repeats),
            {c: round(plan.components[c].rate, 3) for c in plan.repeats},
        )
    return plan


def sample_copies(doc: TokenizedDoc, plan, *, seed: int, num_shards: int,
                  skip: frozenset = frozenset()):
    """Emit ``(shard, (order_key, component, id, epoch, tokens))`` for each copy kept (the
    last one possibly a prefix: see ``packing.SamplingPlan.take``), except for the shards in
    ``skip`` (written by an interrupted run: ``resumed_shards``)."""
    whole, prefix = plan.take(doc.component, doc.key, len(doc.tokens))
    copies = [doc.tokens] * whole + ([doc.tokens[:prefix]] if prefix else [])
    for epoch, tokens in enumerate(copies):
        key = packing.order_key(seed, doc.id, epoch)
        if key % num_shards not in skip:
            yield key % num_shards, (key, doc.component, doc.id, epoch, tokens)



def read_documents(rel: str, *, corpus: str) -> Iterator[tuple[str, str, str]]:
    with FileSystems.open(join(corpus, rel)) as f:
        yield from iter_documents(f)


def build_manifest(shards: list[dict], plan, *, config: PackConfig, mixture, corpus_manifest,
                   vocab: VocabInfo, run: str | None = None) -> Manifest:
    shards = sorted(shards, key=lambda s: s["index"])
    names = packing.component_order(mixture.shares)  # the sidecars' indices (pack_shard)
    after: dict[str, int] = {}
    for s in shards:
        for c, n in s["tokens_per_component"].items():
            after[c] = after.get(c, 0) + n
    total_after = sum(after.values()) or 1
    components = {
        c: {
            "tokens_available": p.tokens,
            "target_tokens": p.target,
            "tokens_sampled": after.get(c, 0),
            "rate": p.rate,
            "epochs": p.epochs,
            "target_share": mixture.components[c].share,
            "actual_share": after.get(c, 0) / total_after,
        }
        for c, p in plan.components.items()
    }
    spec = PackedDataSpec(seq_len=config.seq_len, vocab_size=vocab.size, vocab_sha256=vocab.sha256,
                          eod_id=vocab.eod_id, seed=config.seed,
                          shards=tuple(s["name"] for s in shards),
                          examples_per_shard=tuple(s["entry"].rows for s in shards),
                          segment_ids=config.segment_ids, format=config.format, components=names)
    return spec.to_manifest(
        # The output folder is where the manifest lies: not recorded, so that the same inputs
        # give the same bytes wherever they are written; nor is --no-resume (same bytes).
        config={**{k: v for k, v in dataclasses.asdict(config).items()
                   if k not in ("output", "resume")},
                "mixture": mixture.name},
        inputs={"corpus": config.corpus, "corpus_manifest_outputs": len(corpus_manifest.outputs),
                "vocab": config.vocab},
        outputs={**{s["name"]: s["entry"] for s in shards},
                 **{components_name(s["name"]): s["components_entry"] for s in shards}},
        counts={
            "components": components,
            "documents_packed": sum(s["documents"] for s in shards),
            "tokens_packed": spec.num_examples * config.seq_len,
            "dropped_tokens": sum(s["dropped_tokens"] for s in shards),
            "budget": plan.budget,
        },
        extra={
            "sampling_plan": {c: dataclasses.asdict(p) for c, p in plan.components.items()},
            "repeats": list(plan.repeats),
            **({"run_fingerprint": run} if run else {}),  # run_fingerprint: up to date?
        },
        versions=library_versions(["apache-beam", "numpy", "pyarrow", "sentencepiece"]),
    )


def write_manifest(shards, plan, *, output: str, **kw) -> str:
    """Written last (after every shard), atomically, as the corpus job writes its own."""
    text = build_manifest(shards, plan, **kw).to_json()
    write_text_atomic(join(output, MANIFEST_NAME), text)
    return text


# -- wiring --------------------------------------------------------------------------------------


class PackCorpus(beam.PTransform):
    """Corpus files -> sampled, shuffled, packed shards and a manifest (see module docstring)."""

    def __init__(self, config: PackConfig, *, mixture, corpus_manifest, vocab: VocabInfo,
                 done: dict[int, dict] | None = None, run: str | None = None):
        super().__init__()
        self.config, self.mixture = config, mixture
        self.corpus_manifest, self.vocab = corpus_manifest, vocab
        self.done, self.run = done or {}, run  # resumed shards (resumed_shards), fingerprint

    def expand(self, pbegin):
        cfg = self.config
        files = [(rel, self.corpus_manifest.outputs[rel].sha256)
                 for _, rels in sorted(clean_files(self.corpus_manifest).items()) for rel in rels]
        cache = resume.cache_root(cfg.output) if cfg.resume else None
        tokenized = (
            pbegin
            | "ListCorpusFiles" >> beam.Create(files)
            | "SpreadFiles" >> beam.Reshuffle()
            | "Tokenize" >> beam.ParDo(progress_meters.Metered(TokenizeFile(  # meter: progress.py
                cfg.vocab, cfg.seed, corpus=cfg.corpus, batch_size=cfg.batch_size,
                vocab_sha256=self.vocab.sha256, cache=cache), stage="tokenize",
                measure=job_progress.ByFile(job_progress.pack_file_bytes(self.corpus_manifest)),
                count_out=job_progress.tokenized_out))
        )
        plan = (
            tokenized
            | "KeyByComponent" >> beam.Map(lambda d: (d.component, (d.key, len(d.tokens))))
            | "TokenHistogram" >> beam.CombinePerKey(HistogramFn())
            | "CollectHistograms" >> beam.combiners.ToDict()
            | "PlanSampling" >> beam.Map(plan_from_histograms, shares=self.mixture.shares,
                                         total_tokens=cfg.total_tokens)
        )
        # empty shards are still written; shards a resumed run finished are not packed again
        every_shard = [(i, None) for i in range(cfg.num_shards) if i not in self.done]
        shards = (
            (
                tokenized
                | "SampleAndShuffle" >> beam.ParDo(progress_meters.Metered(
                    sample_copies, stage="sample", measure=job_progress.tokens_in,
                    count_out=job_progress.one_copy), beam.pvalue.AsSingleton(plan),
                                                     seed=cfg.seed, num_shards=cfg.num_shards,
                                                     skip=frozenset(self.done)),
                pbegin | "EveryShard" >> beam.Create(every_shard),
            )
            | "MergeShardKeys" >> beam.Flatten()
            | "GroupByShard" >> beam.GroupByKey()
            | "PackAndWriteShard" >> beam.ParDo(progress_meters.Metered(
                pack_shard, stage="pack_write", flat=False, count_out=job_progress.shard_out),
                output=cfg.output, seq_len=cfg.seq_len,
                                              eod_id=self.vocab.eod_id,
                                              num_shards=cfg.num_shards,
                                              segment_ids=cfg.segment_ids, fmt=cfg.format,
                                              cache=cache, run=self.run,
                                              components=packing.component_order(
                                                  self.mixture.shares))
        )
        resumed = pbegin | "ResumedShards" >> beam.Create(
            [r for _, r in sorted(self.done.items())])
        return (
            (shards, resumed)
            | "AllShards" >> beam.Flatten()
            | "CollectShards" >> beam.combiners.ToList()
            | "WriteManifest" >> beam.Map(write_manifest, beam.pvalue.AsSingleton(plan),
                                          output=cfg.output, config=cfg, mixture=self.mixture,
                                          corpus_manifest=self.corpus_manifest,
                                          vocab=self.vocab, run=self.run)
        )


def main(config: PackConfig, pipeline_args: list[str] | None = None, *,
         progress: bool = False) -> Manifest:
    """Run the pack job; ``progress``: draw the live line (the CLI, unless ``--quiet``)."""
    check_pipeline_args(pipeline_args or [], job="pack", own_flags=config_flags(config))
    corpus_manifest = read_corpus_manifest(config.corpus, checksums=config.verify_checksums)
    mixture = mixtures.from_manifest(corpus_manifest.config, config.mixture)
    components = clean_files(corpus_manifest)
    mixture.check_components(components, what=f"corpus {config.corpus}")
    shared = [c for c, s in mixture.shares.items() if s > 0]
    auto_shards = config.num_shards is None
    if auto_shards:
        config = dataclasses.replace(config, num_shards=auto_num_shards(
            corpus_manifest, shared, total_tokens=config.total_tokens,
            shard_tokens=config.shard_tokens))
    _check_fits(config, corpus_manifest, shared)
    info = vocab_info(config.vocab)
    run = run_fingerprint(config, corpus_manifest, info, mixture)
    current = up_to_date(config, run)
    if current is not None:
        return current
    staging = _check_output(config)
    done = resumed_shards(staging, run) if config.resume else {}
    if done:
        log.info("pack: resuming: %d of %d shards were written by an interrupted run of the "
                 "same command and are kept (%s); --no-resume to start from zero",
                 len(done), config.num_shards, resume.cache_root(staging))
    if config.resume:
        _drop_stale_shards(staging, config, keep={n for r in done.values() for n in
                                                  (r["name"], components_name(r["name"]))})
    if auto_shards:  # after every check: a refusal stays one line
        log.info("pack: %d shards (--num-shards unset: ~%d tokens each at most)",
                 config.num_shards, config.shard_tokens)
    options = PipelineOptions(pipeline_args or [])
    p = beam.Pipeline(options=options)
    _ = p | "PackCorpus" >> PackCorpus(dataclasses.replace(config, output=staging),
                                       mixture=mixture, corpus_manifest=corpus_manifest,
                                       vocab=info, done=done, run=run)
    render = functools.partial(job_progress.pack_line,  # live line, timings: job_progress.py
                               documents=job_progress.corpus_documents(corpus_manifest))
    _, timing = job_progress.run(p, render=render, stages=job_progress.PACK_STAGES,
                                 pipeline_args=pipeline_args or [], show=progress)
    timings.add_to_manifest(staging, timing)
    manifest = Manifest.from_json(read_text(join(staging, MANIFEST_NAME)))
    if config.resume:
        resume.finish(staging)
    outputs.publish(config.output, staging, files=manifest.outputs, previous=PREVIOUS_OUTPUT)
    if not PackedDataSpec.from_manifest(manifest).num_examples:
        raise UserError(f"no example of {config.seq_len} tokens was filled: each of the "
                        f"{config.num_shards} shards got fewer tokens; lower --seq-len or "
                        f"--num-shards (the empty output is in {config.output})")
    warn_dropped(manifest)
    return manifest
