"""Train PaLM's vocabulary from a cleaned corpus: ``TrainConfig`` + ``main(config)``.

Writes ``PREFIX.model`` (plain SentencePiece, loads anywhere) and ``PREFIX.json`` (settings,
sample composition, piece counts by kind, held-out compression per component and language).

SentencePiece settings, each for one of PaLM's properties (section 2 of the paper):

* ``byte_fallback``: out-of-vocabulary characters become one token per UTF-8 byte;
* ``split_digits`` (ASCII) plus every other Unicode ``Nd`` digit (650 code points: Arabic-Indic,
  Devanagari, fullwidth, ...) as a ``user_defined_symbol``: SentencePiece's ``split_digits`` only
  knows 0-9 and happily learns ``"१३"`` or ``"▁٨٨"`` otherwise. Cost: 650 of 256,000 pieces
  (0.25%); ``--digits ascii`` gives them back;
* ``normalization_rule_name=identity``, ``remove_extra_whitespaces=False``,
  ``add_dummy_prefix=False``, ``allow_whitespace_only_pieces=True``: text and whitespace untouched;
* ``[eod]`` in ``control_symbols`` (never produced from raw text; ``user_defined_symbols`` would
  be), ``<pad>`` = 0, ``<unk>`` = 1, ``[eod]`` = 2, no BOS/EOS.

Resources (measured on 230 MB, 2 cores, see docs/benchmarks.md): 256k pieces need about 200 MB
of text (21 MB caps SentencePiece at 47,555 pieces). BPE 256k: 37 s, 2.8 GiB peak; unigram 256k:
5.6 min, 4.5 GiB (unigram 32k is *slower*, 7.2 min: more pruning rounds). Peak memory
is about 12x (BPE) / 20x (unigram) ``sample_bytes``, which is the knob that bounds it.

Default model type BPE: 2% fewer tokens than unigram on every held-out component at 256k, 9x
faster training, pieces independent of the thread count; it encodes 4x slower (5 vs 21 MB/s per
core), a one-off, parallel cost of the pack job (~160 core-hours for PaLM's ~3 TB).

Determinism: the sample is a function of (corpus, mixture, seed) only. SentencePiece is seeded
with ``set_random_generator_seed(seed)``. Measured (tests/test_tokenizer_train.py checks the
first): the same seed *and* ``num_threads`` give byte-identical ``.model`` and ``.json`` files.
``num_threads`` is written into the model's trainer spec, so models trained with different thread
counts never compare byte-equal; BPE's pieces and scores are nonetheless identical across thread
counts, unigram's are not (its EM sums per-thread partial counts in floating point). Pass the
same ``--num-threads`` (default: the machine's cores) to reproduce a unigram model elsewhere.
"""

from __future__ import annotations

from palmkit.errors import UserError

import dataclasses
import io
import json
import logging
import math
import os
import re
import time
import unicodedata

import sentencepiece as spm

import mixtures
from palmkit import flags
from palmkit.manifest import Manifest, library_versions
from tokenizer import report, sample
from tokenizer.vocab import EOD, Vocabulary

log = logging.getLogger(__name__)

MODEL_TYPES = ("unigram", "bpe")

#: Measured: 21 MB of text capped SentencePiece unigram at 47,555 pieces; 200 MB reached 256k.
#: Assuming reachable pieces grow as bytes**0.8 through the first point, V pieces need about
#: 21e6 * (V / 47_555) ** 1.25 bytes: 13 MB for 32k, 172 MB for 256k.
_MEASURED_BYTES, _MEASURED_PIECES, _EXPONENT = 21e6, 47_555, 1.25

NON_ASCII_DIGITS = tuple(
    c for c in map(chr, range(0x110000)) if unicodedata.category(c) == "Nd" and not "0" <= c <= "9"
)


class VocabTrainingError(UserError):
    """Training cannot produce the asked-for vocabulary; the message says what to change."""


def _byte_count(text: str) -> int:
    """A flag's byte count: ``2e8`` and ``200000000`` alike."""
    return int(float(text))


@dataclasses.dataclass
class TrainConfig:
    corpus: str = flags.option(help="folder written by `palmkit corpus`")
    output: str = flags.option(
        help="file prefix, not a folder: writes PREFIX.model and PREFIX.json", metavar="PREFIX")
    vocab_size: int = flags.option(256_000, help="pieces")
    model_type: str = flags.option("bpe", choices=MODEL_TYPES, help=(
        "bpe: 2%% fewer tokens than unigram on held-out text at 256k, 9x faster training, "
        "same pieces whatever --num-threads; encodes 4x slower (5 vs 21 MB/s per core). unigram: "
        "pick it when encode speed matters more than compression (docs/benchmarks.md, "
        "'Choosing the model type')"))
    sample_bytes: int = flags.option(
        200_000_000, parse=_byte_count,
        help="UTF-8 bytes of text to train on, drawn by mixture share")
    seed: int = flags.option(0, help="sample and SentencePiece seed")
    mixture: str | None = flags.option(None, help="mixture name or YAML (default: the corpus's)")
    language_temperature: float = flags.option(
        1.0, help="language share in a component ~ bytes**(1/T); >1 flattens")
    heldout_bytes: int = flags.option(2_000_000, parse=_byte_count,
                                      help="held-out text for the compression report")
    chunk_bytes: int = flags.option(
        4096, help="documents are fed as multi-line sentences of at most this many bytes")
    character_coverage: float = flags.option(
        0.9995, help="share of characters that get their own piece; the rarest rest fall back "
                     "to UTF-8 byte tokens")
    digits: str = flags.option("all", choices=("all", "ascii"), help=(
        "all: every Unicode decimal digit is one piece (650 extra pieces); ascii: only 0-9 "
        "are split"))
    max_sentencepiece_length: int = flags.option(16, help="longest piece in characters")
    num_threads: int = flags.option(
        default_factory=lambda: os.cpu_count() or 1, show_default=False,
        help="SentencePiece threads (default: this machine's cores); recorded in the model, and "
             "unigram pieces depend on it: reuse it to reproduce a model")
    skip_size_check: bool = flags.option(
        False, help="train even when the sample looks too small for --vocab-size")
    verify_checksums: bool = flags.option(
        True, help="check file sizes only, not SHA-256, of the corpus")

    def __post_init__(self):
        """Refuse values no training can use, before reading anything (one line each)."""
        positive = {"vocab-size": self.vocab_size, "sample-bytes": self.sample_bytes,
                    "chunk-bytes": self.chunk_bytes, "num-threads": self.num_threads,
                    "max-sentencepiece-length": self.max_sentencepiece_length}
        for flag, value in positive.items():
            if value < 1:
                raise VocabTrainingError(f"--{flag} must be >= 1, got {value}")
        if self.heldout_bytes < 0:
            raise VocabTrainingError(f"--heldout-bytes must be >= 0, got {self.heldout_bytes}")
        if not (0 < self.character_coverage <= 1):
            raise VocabTrainingError(
                f"--character-coverage must be in (0, 1], got {self.character_coverage}")
        if not (self.language_temperature > 0 and math.isfinite(self.language_temperature)):
            raise VocabTrainingError(
                f"--language-temperature must be positive, got {self.language_temperature}")
        if os.path.isdir(self.output) or self.output.endswith(("/", os.sep)):
            raise VocabTrainingError(f"--output {self.output} is a folder; give a prefix such as "
                                     f"{os.path.join(self.output.rstrip('/'), 'vocab')}")


def required_bytes(vocab_size: int) -> int:
    """Rough text size SentencePiece needs for ``vocab_size`` pieces (see the constants)."""
    return int(_MEASURED_BYTES * (vocab_size / _MEASURED_PIECES) ** _EXPONENT)


def spm_settings(config: TrainConfig) -> dict:
    """Keyword arguments for ``SentencePieceTrainer.train`` (recorded in PREFIX.json)."""
    return dict(
        vocab_size=config.vocab_size,
        model_type=config.model_type,
        byte_fallback=True,
        split_digits=True,
        user_defined_symbols=list(NON_ASCII_DIGITS) if config.digits == "all" else [],
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=False,
        allow_whitespace_only_pieces=True,
        control_symbols=[EOD],
        pad_id=0,
        unk_id=1,
        bos_id=-1,
        eos_id=-1,
        character_coverage=config.character_coverage,
        max_sentencepiece_length=config.max_sentencepiece_length,
        # Chunks are at most chunk_bytes long; 2x leaves a margin so no sentence is ever skipped.
        max_sentence_length=2 * config.chunk_bytes,
        input_sentence_size=0,  # the sample is already bounded by sample_bytes
        shuffle_input_sentence=False,
        num_threads=config.num_threads,
        minloglevel=2,
    )


def _check_config(config: TrainConfig) -> None:
    if config.model_type not in MODEL_TYPES:
        raise ValueError(f"model_type must be one of {MODEL_TYPES}, got {config.model_type!r}")
    if config.digits not in ("all", "ascii"):
        raise ValueError(f"digits must be 'all' or 'ascii', got {config.digits!r}")
    if config.language_temperature <= 0:
        raise ValueError("language_temperature must be > 0")


def _check_size(config: TrainConfig, planned: float) -> None:
    need = required_bytes(config.vocab_size)
    if planned >= need or config.skip_size_check:
        return
    message = (
        f"the sample has {planned / 1e6:.1f} MB of text, but {config.vocab_size:,} pieces need "
        f"about {need / 1e6:.2g} MB (measured: 21 MB capped SentencePiece at 47,555 pieces, "
        f"200 MB trained 256,000); raise --sample-bytes, add text to the corpus or lower "
        f"--vocab-size"
    )
    if planned < need / 4:
        raise VocabTrainingError(message + " (or pass --skip-size-check to try anyway)")
    log.warning("%s; trying anyway", message)


def _train_spm(config: TrainConfig, sentences, settings: dict) -> bytes:
    spm.set_random_generator_seed(config.seed)
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(sentence_iterator=sentences, model_writer=model, **settings)
    except RuntimeError as e:
        found = re.search(r"value <= (\d+)", str(e))
        if found:
            raise VocabTrainingError(
                f"SentencePiece could build only {int(found.group(1)):,} pieces from this sample, "
                f"not {config.vocab_size:,}: give it more text (about "
                f"{required_bytes(config.vocab_size) / 1e6:.0f} MB; 200 MB trained 256k) or lower "
                f"--vocab-size"
            ) from e
        found = re.search(r"smaller than required_chars. (\d+) vs (\d+)", str(e))
        if found:
            raise VocabTrainingError(
                f"the sample has {found.group(2)} characters and special pieces that must each "
                f"be a piece, more than --vocab-size {found.group(1)}: raise --vocab-size or "
                f"lower --character-coverage (now {config.character_coverage})"
            ) from e
        raise
    return model.getvalue()


def _composition(stats: sample.SampleStats, rates: dict) -> dict:
    components: dict[str, dict] = {}
    for (comp, lang), rate in sorted(rates.items()):
        entry = components.setdefault(comp, {"bytes": 0, "docs": 0, "wanted_bytes": 0, "languages": {}})
        got = {"bytes": stats.bytes.get((comp, lang), 0), "docs": stats.docs.get((comp, lang), 0),
               "wanted_bytes": int(rate.wanted_bytes)}
        entry["languages"][lang] = got
        entry["bytes"] += got["bytes"]
        entry["docs"] += got["docs"]
        entry["wanted_bytes"] += int(rate.wanted_bytes)
    return {
        "bytes": stats.total_bytes,
        "docs": sum(stats.docs.values()),
        "sentences": stats.chunks,
        "docs_split_into_sentences": stats.docs_split,
        "heldout_docs": sum(len(v) for v in stats.heldout.values()),
        "components": components,
    }


def main(config: TrainConfig) -> dict:
    """Train and write ``PREFIX.model`` + ``PREFIX.json``; returns the JSON report."""
    _check_config(config)
    manifest = Manifest.read(config.corpus, stage="corpus")
    manifest.verify_files(config.corpus, checksums=config.verify_checksums)
    if not (config.mixture or manifest.config.get("mixture")):
        raise VocabTrainingError(f"{config.corpus}: the manifest names no mixture; pass --mixture")
    mixture = mixtures.from_manifest(manifest.config, config.mixture)
    files = sample.component_files(manifest, config.corpus)
    mixture.check_components(files, what=f"corpus {config.corpus}")
    sizes = sample.scan(files)
    rates = sample.plan(
        sizes,
        mixture.shares,
        sample_bytes=config.sample_bytes,
        language_temperature=config.language_temperature,
        heldout_bytes=config.heldout_bytes,
    )
    planned = sum(min(r.wanted_bytes, sizes[k][1]) for k, r in rates.items())
    _check_size(config, planned)
    stats = sample.SampleStats()
    sentences = sample.iter_chunks(
        files, rates, seed=config.seed, chunk_bytes=config.chunk_bytes, stats=stats
    )
    settings = spm_settings(config)
    start = time.perf_counter()
    proto = _train_spm(config, sentences, settings)
    log.info("SentencePiece trained in %.1f s", time.perf_counter() - start)
    model_path = config.output + ".model"
    os.makedirs(os.path.dirname(os.path.abspath(model_path)), exist_ok=True)
    with open(model_path, "wb") as f:
        f.write(proto)
    vocab = Vocabulary(proto, path=model_path, num_threads=config.num_threads)
    settings["user_defined_symbols"] = f"{len(settings['user_defined_symbols'])} non-ASCII digits"
    result = {
        "model": os.path.basename(model_path),
        "sha256": vocab.sha256,
        "vocab_size": vocab.vocab_size,
        "eod_id": vocab.eod_id,
        "pad_id": vocab.pad_id,
        "config": {**dataclasses.asdict(config), "mixture": mixture.name},
        "sentencepiece": settings,
        "corpus_sizes": {f"{c}/{lang}": {"docs": d, "bytes": b} for (c, lang), (d, b) in sizes.items()},
        "sample": _composition(stats, rates),
        "pieces": report.piece_counts(vocab),
        "compression": report.compression_by(vocab, stats.heldout),
        "versions": library_versions(["sentencepiece", "pyarrow"]),
    }
    del result["config"]["num_threads"]  # recorded in "sentencepiece"; keeps paths out of JSON
    result["config"].pop("corpus"), result["config"].pop("output")
    with open(config.output + ".json", "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    return result
