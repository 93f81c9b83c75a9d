"""The contamination job: which evaluation examples occur in a corpus (PaLM section 8).

    palmkit contamination --corpus OUT --eval-sets evals.yaml --output DIR
                          [--n 8] [--fraction 0.7] [--unit words|tokens --vocab V.model]
                          [--no-lowercase] [--no-strip-punctuation] [--no-collapse-whitespace]
                          [--remove [--remove-ngram 13]] [--shards SHARDS] [Beam flags]

The paper's rule: an example is contaminated when at least 70% of its 8-grams occur at least
once in the training data. One Beam pipeline:

    eval sets -> ReadExamples -> UniqueIds ------------+--> BuildIndex (sorted hashes) [side input]
                                                      +--> KeyByGram (hash -> (set, id))
    corpus files -> ScanFile(index) -> (hash, 1) per distinct hit per document
                 -> CountHitDocs (CombinePerKey) -> JoinGrams (CoGroupByKey with KeyByGram)
                 -> HitsPerExample (CombinePerKey) -> JoinExamples -> GroupBySet -> WriteSet
    everything -> Gather -> WriteReports (summary.json, manifests)

No worker holds the corpus's n-grams: each worker streams one corpus file and emits only the
hashes that hit the evaluation index; the one shuffle of corpus data is those hits (measured:
docs/scale.md). With ``--remove``, the scan also writes each corpus file without the documents
sharing a ``--remove-ngram`` n-gram (GPT-3's 13) with an evaluation example, each a Reject with
reason ``contamination``, and a corpus manifest: ``DIR/corpus`` is a corpus ``palmkit pack``
accepts. Same file names, same row order as the input: no shuffle of documents.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Literal

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from palmkit import flags
from palmkit.corpus_files import clean_files, read_corpus_manifest
from palmkit.errors import UserError
from palmkit.manifest import MANIFEST_NAME, Manifest
from palmkit.paths import join
from pipelines import beam_fixes, io, readers
from pipelines.beam_options import check_pipeline_args
from pipelines.contamination import ngrams, outputs, scan
from pipelines.contamination.evalsets import EvalSet, load_eval_sets

log = logging.getLogger(__name__)


@dataclasses.dataclass
class ContaminationConfig:
    eval_sets: str = flags.option(help="YAML naming the evaluation sets (docs/contamination.md)")
    output: str = flags.option(help="folder for per-set results, summary.json and manifest")
    corpus: str | None = flags.option(None, help="folder written by `palmkit corpus`")
    shards: str | None = flags.option(
        None, help="instead of --corpus: folder written by `palmkit pack` (Parquet shards; "
                   "token n-grams only, needs --unit tokens and its --vocab)")
    n: int = flags.option(8, help="n-gram length (PaLM: 8)")
    fraction: float = flags.option(
        0.7, help="an example is contaminated when at least this fraction of its n-grams "
                  "occur in the corpus (PaLM: 0.7)")
    unit: Literal["words", "tokens"] = flags.option(
        "words", help="n-grams of words (after normalisation; what the paper implies) or of "
                      "tokens of --vocab (raw text, no normalisation)")
    vocab: str | None = flags.option(None, help="SentencePiece .model for --unit tokens")
    lowercase: bool = flags.option(True, help="do not lower-case before cutting words")
    strip_punctuation: bool = flags.option(True, help="keep punctuation and symbols in words")
    collapse_whitespace: bool = flags.option(
        True, help="keep whitespace runs: a word carries the whitespace after it")
    remove: bool = flags.option(
        False, help="also write DIR/corpus: the corpus without the documents that share a "
                    "--remove-ngram n-gram with any evaluation example (rejects: contamination)")
    remove_ngram: int = flags.option(
        13, help="with --remove: n-gram length shared with an example that removes a document "
                 "(GPT-3: 13; examples shorter than it but at least --n units long count whole)")
    overwrite: bool = flags.option(
        False, help="replace a previous output in --output (kept until this run succeeds)")
    verify_checksums: bool = flags.option(
        True, help="skip re-hashing the corpus files against their manifest")

    def __post_init__(self):
        """Refuse what no run can use, before anything starts (one line each)."""
        if (self.corpus is None) == (self.shards is None):
            raise UserError("give exactly one of --corpus (a corpus output) and --shards (a "
                            "pack output)")
        if self.n < 1 or self.remove_ngram < 1:
            raise UserError(f"--n and --remove-ngram must be >= 1, got {self.n}, "
                            f"{self.remove_ngram}")
        if not 0 < self.fraction <= 1:
            raise UserError(f"--fraction must be in (0, 1], got {self.fraction}")
        if self.unit not in ("words", "tokens"):
            raise UserError(f"--unit {self.unit!r}: one of words, tokens")
        if self.unit == "tokens" and not self.vocab:
            raise UserError("--unit tokens needs --vocab V.model (the vocabulary to encode with)")
        if self.shards is not None and self.unit != "tokens":
            raise UserError("--shards holds token ids: pass --unit tokens --vocab V.model (the "
                            "pack's vocabulary)")
        if self.shards is not None and self.remove:
            raise UserError("--remove writes a corpus: it needs --corpus, not --shards")

    @property
    def norm(self) -> ngrams.Normalisation:
        return ngrams.Normalisation(lowercase=self.lowercase, punctuation=self.strip_punctuation,
                                    whitespace=self.collapse_whitespace)

    def units(self) -> scan.UnitSpec:
        return scan.UnitSpec(unit=self.unit, norm=self.norm, vocab=self.vocab)

    def rule(self) -> dict:
        """The rule as summary.json and the manifest record it."""
        return {"n": self.n, "fraction": self.fraction, "unit": self.unit,
                "normalisation": self.norm.describe() if self.unit == "words" else "none (tokens)",
                "shorter_than_n": "the whole example is one n-gram (contaminated iff it occurs)",
                "counted_over": "distinct n-grams of the example",
                **({"remove_ngram": self.remove_ngram} if self.remove else {})}


class ReadEvalSets(beam.PTransform):
    """Evaluation sets -> ``((set, id), Example)`` (main, ids unique) and Rejects."""

    def __init__(self, sets: list[EvalSet], config: ContaminationConfig):
        super().__init__()
        self.sets, self.config = sets, config

    def expand(self, pbegin):
        cfg = self.config
        fields = {s.name: s.text_fields for s in self.sets}
        read = (pbegin
                | "Inputs" >> beam.Create(readers.initial_items([s.spec for s in self.sets]))
                | "Plan" >> beam.FlatMap(readers.plan)
                | "Read" >> beam.ParDo(scan.ReadExamples(
                    cfg.units(), fields, n=cfg.n,
                    remove_ngram=cfg.remove_ngram if cfg.remove else None))
                .with_outputs(scan.REJECTS_TAG, main="examples"))
        unique = (read.examples
                  | "GroupById" >> beam.GroupByKey()
                  | "UniqueIds" >> beam.FlatMap(scan.dedupe).with_outputs(scan.REJECTS_TAG,
                                                                          main="examples"))
        rejects = (read[scan.REJECTS_TAG], unique[scan.REJECTS_TAG]) | "Rejects" >> beam.Flatten()
        return unique.examples, rejects


class ScanCorpus(beam.PTransform):
    """Corpus files (or packed shards) -> the scan's tagged outputs (``scan.ScanFile``)."""

    def __init__(self, config: ContaminationConfig, *, files: list[str], eod_id: int | None,
                 corpus_output: str | None, index, removal=None):
        super().__init__()
        self.config, self.files, self.eod_id = config, files, eod_id
        self.corpus_output, self.index, self.removal = corpus_output, index, removal

    def expand(self, pbegin):
        cfg, index, removal = self.config, self.index, self.removal
        files = (pbegin | "Files" >> beam.Create(self.files)
                 | "Spread" >> beam.Reshuffle())
        tags = (scan.REJECTS_TAG, scan.COUNTS_TAG, scan.FILES_TAG, scan.SCAN_TAG)
        if cfg.shards is not None:
            fn = scan.ScanShard(shards=cfg.shards, eod_id=self.eod_id)
            return files | "ScanShards" >> beam.ParDo(fn, beam.pvalue.AsSingleton(index)
                                                      ).with_outputs(*tags, main="hits")
        fn = scan.ScanFile(cfg.units(), corpus=cfg.corpus, output=self.corpus_output)
        side = [beam.pvalue.AsSingleton(removal)] if removal is not None else []
        return files | "ScanFiles" >> beam.ParDo(fn, beam.pvalue.AsSingleton(index), *side
                                                 ).with_outputs(*tags, main="hits")


def build(p: beam.Pipeline, *, config: ContaminationConfig, sets: list[EvalSet],
          files: list[str], eod_id: int | None, corpus_config: dict | None,
          components: list[str], inputs: dict) -> None:
    """Add the whole job to ``p`` (see the module docstring for the shape)."""
    cfg = config
    examples, eval_rejects = p | "ReadEvalSets" >> ReadEvalSets(sets, cfg)
    index = (examples | "GramsOf" >> beam.MapTuple(lambda _, e: (e.grams, e.gram_len))
             | "BuildIndex" >> beam.CombineGlobally(scan.BuildIndex()))
    removal = None
    corpus_out = join(cfg.output, outputs.CORPUS_DIR) if cfg.remove else None
    if cfg.remove:
        removal = (examples | "RemovalGrams" >> beam.FlatMapTuple(
                       lambda _, e: scan.removal_grams(e))
                   | "FirstLabel" >> beam.CombinePerKey(min)
                   | "BuildRemovalIndex" >> beam.CombineGlobally(scan.BuildLabelledIndex()))
    scanned = p | "ScanCorpus" >> ScanCorpus(cfg, files=files, eod_id=eod_id,
                                             corpus_output=corpus_out, index=index,
                                             removal=removal)
    corpus_hits = scanned.hits | "CountHitDocs" >> beam.CombinePerKey(sum)
    eval_grams = examples | "KeyByGram" >> beam.FlatMapTuple(
        lambda key, e: ((h, key) for h in e.grams.tolist()))
    hits = ({"corpus": corpus_hits, "eval": eval_grams}
            | "JoinGrams" >> beam.CoGroupByKey()
            | "ExampleHits" >> beam.FlatMap(scan.example_hits)
            | "HitsPerExample" >> beam.CombinePerKey(sum))
    markers = p | "EverySet" >> beam.Create([(s.name, None) for s in sets])
    set_files = (({"example": examples, "hits": hits}
                  | "JoinExamples" >> beam.CoGroupByKey()
                  | "Row" >> beam.Map(scan.example_row, fraction=cfg.fraction),
                  markers)
                 | "WithMarkers" >> beam.Flatten()
                 | "GroupBySet" >> beam.GroupByKey()
                 | "WriteSet" >> beam.Map(outputs.write_set, output=cfg.output, n=cfg.n))
    reports = [set_files, _eval_reject_entries(eval_rejects, cfg.output),
               scanned[scan.SCAN_TAG] | "ScanEntry" >> beam.Map(lambda s: ("scan", s)),
               index | "IndexEntry" >> beam.Map(lambda i: ("index", "eval_ngrams",
                                                            len(i.hashes)))]
    if cfg.remove:
        from pipelines.corpus import WriteShards

        reports.append(removal | "RemovalIndexEntry" >> beam.Map(
            lambda i: ("index", "removal_ngrams", len(i.hashes))))

        written = (scanned[scan.REJECTS_TAG] | "WriteCorpusRejects" >> WriteShards(
            kind=io.REJECTS, output=corpus_out, num_shards={io.REJECTS: 1}, groups=[io.REJECTS]))
        reports.append((scanned[scan.FILES_TAG], scanned[scan.COUNTS_TAG], written)
                       | "CorpusEntries" >> beam.Flatten()
                       | "TagCorpus" >> beam.Map(lambda e: ("corpus", e)))
    _ = (reports
         | "Report" >> beam.Flatten()
         | "Gather" >> beam.combiners.ToList()
         | "WriteReports" >> beam.Map(
             outputs.write_reports, output=cfg.output, config=_config_record(cfg),
             rule=cfg.rule(), set_names=[s.name for s in sets], inputs=inputs,
             corpus_config=corpus_config, components=components))


def _eval_reject_entries(rejects, output: str):
    """Evaluation rejects -> their Parquet file, and counts per (set, reason)."""
    from pipelines.corpus import WriteShards

    written = (rejects | "WriteEvalRejects" >> WriteShards(
        kind=io.REJECTS, output=output, num_shards={io.REJECTS: 1}, groups=[io.REJECTS])
        | "EvalFileEntry" >> beam.MapTuple(lambda _, rel, entry: ("eval_file", rel, entry)))
    counts = (rejects | "KeyReason" >> beam.Map(lambda r: ((r.component, r.reason), 1))
              | "CountReasons" >> beam.CombinePerKey(sum)
              | "RejectEntry" >> beam.MapTuple(lambda k, n: ("eval_reject", k[0], k[1], n)))
    return (written, counts) | "EvalRejectEntries" >> beam.Flatten()


def _config_record(cfg: ContaminationConfig) -> dict:
    """The config as the manifest records it: not the output folder nor how it was replaced
    or checked (equal inputs, equal bytes wherever written, first run or --overwrite)."""
    return {k: v for k, v in dataclasses.asdict(cfg).items()
            if k not in ("output", "overwrite", "verify_checksums")}


def _inputs(config: ContaminationConfig) -> tuple[list[str], int | None, dict | None,
                                                   list[str], dict]:
    """Checks the input and returns (files to scan, [eod] id, the decontaminated corpus's
    config, its components, the inputs record)."""
    if config.shards is not None:
        return _shard_inputs(config)
    manifest = read_corpus_manifest(config.corpus, checksums=config.verify_checksums)
    by_component = clean_files(manifest)
    files = [rel for _, rels in sorted(by_component.items()) for rel in rels]
    corpus_config = None
    if config.remove:
        corpus_config = {**manifest.config, "decontaminated": {
            "corpus": config.corpus, "eval_sets": config.eval_sets,
            "remove_ngram": config.remove_ngram, "unit": config.unit}}
    return files, None, corpus_config, sorted(by_component), {
        "corpus": config.corpus, "eval_sets": config.eval_sets, "corpus_files": len(files)}


def _shard_inputs(config: ContaminationConfig):
    from palmkit.contracts import PackedDataSpec

    import tokenizer

    manifest = Manifest.read(config.shards, stage="pack")
    manifest.verify_files(config.shards, checksums=config.verify_checksums)
    spec = PackedDataSpec.from_manifest(manifest)
    if spec.format != "parquet":
        raise UserError(f"--shards {config.shards}: {spec.format} shards; this job reads the "
                        f"Parquet ones (pack again with --format parquet)")
    vocab = tokenizer.load(config.vocab)
    if vocab.sha256 != spec.vocab_sha256:
        raise UserError(f"--vocab {config.vocab} is not the vocabulary the shards were packed "
                        f"with (SHA-256 differs from {config.shards}/manifest.json)")
    return list(spec.shards), spec.eod_id, None, [], {
        "shards": config.shards, "eval_sets": config.eval_sets, "corpus_files": spec.num_shards}


def main(config: ContaminationConfig, pipeline_args: list[str] | None = None) -> Manifest:
    """Run the job; return its manifest (``extra.summary`` is summary.json)."""
    pipeline_args = list(pipeline_args or [])
    check_pipeline_args(pipeline_args, job="contamination",
                        own_flags=list(flags.flag_names(ContaminationConfig)))
    sets = load_eval_sets(config.eval_sets)
    if config.unit == "tokens":
        import tokenizer

        tokenizer.load(config.vocab)  # a bad --vocab: one line now, not a worker traceback
    files, eod_id, corpus_config, components, inputs = _inputs(config)
    staging = io.prepare_output(config.output, overwrite=config.overwrite,
                                previous=outputs.PREVIOUS_OUTPUT, what="a contamination output")
    log.info("contamination: %d evaluation sets against %d files of %s", len(sets), len(files),
             config.corpus or config.shards)
    beam_fixes.apply()  # the local runner's data-losing race (pipelines/beam_fixes.py)
    with beam.Pipeline(options=PipelineOptions(pipeline_args)) as p:
        build(p, config=dataclasses.replace(config, output=staging), sets=sets, files=files,
              eod_id=eod_id, corpus_config=corpus_config, components=components, inputs=inputs)
    manifest = Manifest.from_json(io.read_text(join(staging, MANIFEST_NAME)))
    io.publish(config.output, staging, files=manifest.outputs, previous=outputs.PREVIOUS_OUTPUT)
    return manifest
