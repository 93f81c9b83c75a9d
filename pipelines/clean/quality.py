"""Web quality: a curated-vs-web fastText classifier, then score-proportional sampling.

PaLM and GLaM score every webpage with a classifier trained to recognise known high-quality
collections and *sample* pages in proportion to the score instead of cutting at a threshold
(PaLM, section 3). Neither paper publishes its sampling rule; GPT-3's (its appendix A) is used:
keep a page iff ``pareto(alpha) > 1 - score``, alpha = 9 by default. For a Lomax(alpha) draw
``P(keep) = (2 - score) ** -alpha``: at alpha 9 a page scoring 1.0 is always kept, 0.9 is kept
42% of the time, 0.5 2.6%, 0.0 0.2% (``expected_keep_fraction``). Each page draws from its own
``numpy.random.Generator`` seeded by ``hash(seed, id)``, so the choice is the same on any runner.

Classifier
----------
* **Labels.** ``curated``: documents of the mixture's ``quality_reference`` components
  (PaLM: Wikipedia, books, news). ``web``: documents of the components being sampled
  (``cleaning.quality_sampling``). A user model (``--quality-model``) must use these two labels.
* **Features.** fastText supervised on words and word bigrams of the lowercased text, whitespace
  runs as one space, first ``--quality-max-chars`` (default 4,000, ~700 words) characters: cost
  is linear in length, and a page's first 4 KB show its register as well as the rest.
* **Training set.** Per class, the ``--quality-train-docs`` (default 10,000) documents with the
  smallest ``hash(seed, id)``: a uniform sample whose choice does not depend on bundling.
  ``beam.combiners.Top.SmallestPerKey`` holds at most that many feature strings per class per
  worker (10,000 x 4 KB = 40 MB).
* **Cross-fitting.** A page must not be scored by a classifier that was trained on it: trained
  web pages would score lower than unseen ones (the model has learnt that *they* are web), and
  be dropped more often. Each document has a fold, ``hash(seed, id) % --quality-folds``
  (default 5); model ``f`` is trained on the training sample minus fold ``f``, and every page
  of fold ``f`` (trained on or not) is scored by model ``f``. The held-out accuracy in the stats
  is the out-of-fold accuracy over the whole training sample. Cost: k trainings on (k-1)/k of
  the sample, run as k concurrent processes, and k models broadcast and held in each
  worker's memory (5 x ~55 MB at 2 x 10,000 pages; 92 MB in all on data/sample). Measured
  (docs/benchmarks.md): on 800 same-distribution training pages one model scored its own web
  pages 0.23 against 0.47 for unseen ones (kept at alpha 9: 1.0% vs 5.4%); cross-fit, 0.488
  vs 0.487. ``--quality-folds 1`` trains one model on everything (minus a 10% held-out slice
  for the accuracy) and scores with it: the biased variant, kept to measure the bias.
* **Determinism.** Examples are written sorted by their hash (classes interleaved) and fastText
  trains with ``thread=1`` and a fixed ``seed`` in a fresh interpreter (see
  ``_train_in_fresh_processes`` for why): runs give byte-identical models (tested). It runs once
  per fold per job; see docs/benchmarks.md for its time on 2 x 10,000 documents.
* **Size.** dim 16 and 2^18 hash buckets keep the model at 17 MB plus 64 bytes per distinct
  word: 62 MB when trained on 18,000 documents of technical text (docs/benchmarks.md), broadcast
  to workers as a side input. fastText's defaults (dim 100, 2M buckets) would make it 800 MB+.

Stats (``quality``): classifier source, training set sizes, held-out accuracy, a 20-bucket
score histogram, and per score decile the documents, kept documents and kept fraction next to
the fraction the rule predicts at the decile's mean score (``P(pareto(alpha) > 1 - s)``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from typing import Any, Iterable

import apache_beam as beam

from palmkit import spill
from apache_beam.io.filesystems import FileSystems
import numpy as np

from mixtures import Mixture
from palmkit import flags
from palmkit.paths import join
from palmkit.records import Document, Reason
from pipelines.clean import doc_hash
from pipelines.clean.langid import ModelError, check_fasttext_model, fasttext_problem
from pipelines import resume
from pipelines.fs import local_copy
from pipelines.stage import (REJECTS, STATS, StageOutput, SummariseStats, reject, require_at_least,
                             require_positive, stat)

STAGE = "quality"
CURATED, WEB = "curated", "web"
HELDOUT_PER_MILLE = 100
_WHITESPACE = re.compile(r"\s+")
TRAIN_ARGS = dict(dim=16, bucket=1 << 18, wordNgrams=2, lr=0.1, minCount=1,
                  loss="softmax", thread=1, verbose=0)
logger = logging.getLogger(__name__)
MIN_TOKEN_UPDATES = 10_000_000  # epochs are raised until training sees this many tokens
MIN_EPOCHS, MAX_EPOCHS = 5, 100

_MODELS: dict[str, object] = {}


@dataclasses.dataclass(frozen=True)
class QualityOptions:
    """``QualitySampling``'s options: ``CorpusConfig.quality``, flags ``--quality-*``."""

    model: str | None = flags.option(
        None, metavar="PATH",
        help="fastText quality classifier with labels curated and web (unset: train one on "
             "this corpus, the mixture's quality_reference vs web)")
    alpha: float = flags.option(
        9.0, metavar="ALPHA", help="keep a page iff pareto(alpha) > 1 - score (GPT-3's)")
    train_docs: int = flags.option(
        10_000, metavar="N", help="documents per class to train the quality classifier on")
    max_chars: int = flags.option(
        4000, metavar="N", help="characters of a page the classifier reads")
    folds: int = flags.option(
        5, metavar="K", help="cross-fitting: a page is scored by a model trained without its "
                             "fold (1: one model trained on all, which scores the pages it was "
                             "trained on too low)")

    def __post_init__(self):
        require_positive("--quality-alpha", self.alpha)
        require_at_least("--quality-train-docs", self.train_docs)
        require_at_least("--quality-max-chars", self.max_chars)
        require_at_least("--quality-folds", self.folds)


def quality_features(text: str, max_chars: int = QualityOptions.max_chars) -> str:
    """The classifier's input: lowercased, one line, at most ``max_chars`` characters."""
    return _WHITESPACE.sub(" ", text[: max_chars * 2].lower()).strip()[:max_chars]


def class_of(component: str, mixture: Mixture) -> str | None:
    """``curated`` for reference components, ``web`` for sampled ones, else None."""
    if component in mixture.quality_reference:
        return CURATED
    if mixture.component(component).cleaning.quality_sampling:
        return WEB
    return None


def expected_keep_fraction(score: float, alpha: float = QualityOptions.alpha) -> float:
    """P(pareto(alpha) > 1 - score) = (2 - score) ** -alpha for numpy's (Lomax) Pareto."""
    return float((2.0 - score) ** -alpha)


def pareto_keep(score: float, *, seed: int, doc_id: str, alpha: float = QualityOptions.alpha) -> bool:
    """GPT-3's rule with a per-document generator: same (seed, id, score) -> same answer."""
    rng = np.random.default_rng(doc_hash(seed, "quality-sample", doc_id))
    return bool(rng.pareto(alpha) > 1.0 - score)


def score_decile(score: float) -> int:
    return min(int(score * 10), 9)


HISTOGRAM_BUCKETS = 20
SCORE_UNITS = 1_000_000  # scores are summed as integers (micro-units): order-independent


def score_bucket(score: float) -> int:
    return min(int(score * HISTOGRAM_BUCKETS), HISTOGRAM_BUCKETS - 1)


def fold_of(doc_id: str, *, seed: int, folds: int) -> int:
    """The document's cross-fitting fold: model ``fold`` scores it, and never trained on it."""
    return doc_hash(seed, "quality-fold", doc_id) % folds if folds > 1 else 0


def training_example(doc: Document, *, mixture: Mixture, seed: int,
                     max_chars: int = QualityOptions.max_chars):
    """(class, (hash, id, features)) for a document that can train the classifier, else None."""
    label = class_of(doc.component, mixture)
    if label is None:
        return None
    return label, (doc_hash(seed, "quality-train", doc.id), doc.id, quality_features(doc.text, max_chars))


def train_classifier(samples: Iterable[tuple[str, list]], *, seed: int,
                     folds: int = QualityOptions.folds,
                     cache: str | None = None,
                     reuse: bool = True) -> tuple[list[bytes] | list[str] | None, dict]:
    """Train fastText on [(class, [(hash, id, features)])]; ([model per fold], info).

    ``folds`` > 1: model ``f`` is trained on the examples outside fold ``f`` (``fold_of``) and
    the accuracy is out-of-fold over all examples. ``folds`` == 1: one model, 10% held out.
    ``cache``: the run's work folder (``RUN/.resume``, ``pipelines.resume``): the models are
    written there and their *paths* returned, so the side input that reaches every scoring
    worker is a few paths, not ~20 MB per fold that the runner copies several times (measured:
    ~500 MB of the corpus job's peak with 5 folds); with ``reuse``, models an interrupted run
    trained on the same rows with the same arguments are taken as they are (training is
    deterministic). Without ``cache``: the model bytes themselves.
    No web examples: nothing will be scored, no model (None). Web but no curated examples: an
    error, since every page would otherwise be judged by an untrained model.
    """
    by_class = {label: list(examples) for label, examples in samples}
    sizes = {label: len(by_class.get(label, [])) for label in (CURATED, WEB)}
    if sizes[WEB] == 0:
        return None, {"source": "none (no documents to score)", "train_docs": sizes}
    if sizes[CURATED] == 0:
        raise ValueError(
            "quality sampling: no curated documents to train the classifier; the mixture's "
            "quality_reference components have no documents in this run. Add sources for them "
            "or pass --quality-model PATH."
        )
    rows = sorted((h, i, label, f) for label, ex in by_class.items() for h, i, f in ex)
    if folds > 1:
        fold = {r[1]: fold_of(r[1], seed=seed, folds=folds) for r in rows}
        train_sets = [[r for r in rows if fold[r[1]] != f] or rows for f in range(folds)]
        judged = [(fold[r[1]], r) for r in rows]  # out-of-fold: each row by its fold's model
    else:
        heldout = [r for r in rows if (r[0] >> 20) % 1000 < HELDOUT_PER_MILLE]
        train_sets = [[r for r in rows if (r[0] >> 20) % 1000 >= HELDOUT_PER_MILLE] or rows]
        judged = [(0, r) for r in heldout]
    args = [dict(TRAIN_ARGS, seed=seed % (1 << 31), epoch=epochs_for(t)) for t in train_sets]
    data, sizes_b, digests = _train_cached(
        [[(label, feat) for _, _, label, feat in t] for t in train_sets], args, cache=cache,
        reuse=reuse)
    models = [load_model(d) for d in data]
    correct = sum((_predict_curated(models[f], r[3]) >= 0.5) == (r[2] == CURATED)
                  for f, r in judged)
    n_judged = len(judged)
    train_docs = ({lab: sizes[lab] for lab in (CURATED, WEB)} if folds > 1 else
                  {lab: sum(r[2] == lab for r in train_sets[0]) for lab in (CURATED, WEB)})
    del models, rows, train_sets, judged, by_class
    spill.release_free_memory()  # the training rows and k models: not kept by the scorers
    info = {
        "source": "trained",
        "folds": folds,
        "train_docs": train_docs,
        "heldout": "out-of-fold (every training document)" if folds > 1 else "10% of the sample",
        "heldout_docs": n_judged,
        "heldout_accuracy": round(correct / n_judged, 4) if n_judged else None,
        "model_bytes": sum(sizes_b),
        "model_blake2b": digests,
        "train_args": {k: v for k, v in args[0].items() if k not in ("verbose", "epoch")},
        "epochs": [a["epoch"] for a in args],
    }
    return data, info


# fastText is trained in a fresh interpreter: measured with fasttext-numpy2 0.10.4, the first
# training in a process is reproducible byte for byte, but later trainings in the same process
# on identical input gave 16 different models in 30 (2 ended in "Encountered NaN"), which
# points at memory the C++ code reads before writing. A new process costs ~0.3 s, once per job.
_TRAIN_SCRIPT = """
import json, sys
import fasttext
model = fasttext.train_supervised(input="train.txt", **json.loads(sys.argv[1]))
model.save_model("model.bin")
"""


def epochs_for(rows: list) -> int:
    """fastText's default 5 epochs, more for small training sets (at most 100).

    Measured on data/sample (258 training documents, ~100k tokens): 10 epochs (1M token
    updates) left every web page at a score of 0.50 and 61% held-out accuracy, i.e. the model
    had not moved from its start; 50 epochs (5M updates) gave 100% held-out accuracy and scores
    spread from 0.02 to 0.4. We ask for 10M updates (a few seconds on one thread); a PaLM-scale
    sample (2 x 10,000 pages of ~700 words, 14M tokens) gets the default 5.
    """
    tokens = sum(row[-1].count(" ") + 1 for row in rows)
    return max(MIN_EPOCHS, min(MAX_EPOCHS, -(-MIN_TOKEN_UPDATES // max(tokens, 1))))


def _train_cached(row_sets: list[list[tuple[str, str]]], args: list[dict], *, cache: str | None,
                  reuse: bool = True) -> tuple[list, list[int], list[str]]:
    """``_train_in_fresh_processes`` -> (models, their sizes, their blake2b-128 digests). With
    ``cache``: the models are files ``CACHE/quality/KEY-F.bin`` (their paths are returned),
    KEY a hash of the inputs; with ``reuse``, files of the same KEY are taken as they are."""
    if cache is None:
        data = _train_in_fresh_processes(row_sets, args)
        return data, [len(d) for d in data], [_digest(d) for d in data]
    h = hashlib.sha256(json.dumps([resume.CACHE_VERSION, args], sort_keys=True).encode())
    for rows in row_sets:
        h.update(b"\x00set")
        for label, features in rows:
            h.update(len(label).to_bytes(4, "little") + label.encode("utf-8", "surrogatepass"))
            data = features.encode("utf-8", "surrogatepass")
            h.update(len(data).to_bytes(8, "little") + data)
    key = h.hexdigest()[:32]
    store = resume.WorkCache(cache)
    paths = [join(cache, "quality", f"{key}-{f}.bin") for f in range(len(row_sets))]
    meta = store.meta("quality", key) if reuse else None
    if meta is not None and all(FileSystems.exists(p) for p in paths):
        logger.info("quality: classifier from the resume cache (%s)", cache)
        return paths, meta["bytes"], meta["blake2b"]
    data = _train_in_fresh_processes(row_sets, args)
    for path, model in zip(paths, data):
        resume.write_atomic(path, model)
    sizes, digests = [len(d) for d in data], [_digest(d) for d in data]
    store.mark("quality", key, {"bytes": sizes, "blake2b": digests})
    return paths, sizes, digests


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def load_model(model: bytes | str):
    """A fold's model as the side input carries it: a path (``model_from_path``) or bytes."""
    return model_from_bytes(model) if isinstance(model, bytes) else model_from_path(model)


def _train_in_fresh_process(rows: list[tuple[str, str]], args: dict) -> bytes:
    return _train_in_fresh_processes([rows], [args])[0]


def _train_in_fresh_processes(row_sets: list[list[tuple[str, str]]],
                              args: list[dict]) -> list[bytes]:
    """One model per row set, each trained in its own fresh interpreter (one thread each); at
    most one process per core at a time (``training_parallelism``), so k folds take about one
    training's wall time on k cores and memory holds at most that many models in training
    (each ~170 MB; 5 folds at once on 2 cores would hold 850 MB for no speed)."""
    with tempfile.TemporaryDirectory() as tmp:
        folders = []
        for n, rows in enumerate(row_sets):
            folder = os.path.join(tmp, str(n))
            os.mkdir(folder)
            with open(os.path.join(folder, "train.txt"), "w", encoding="utf-8") as f:
                f.writelines(f"__label__{label} {feat}\n" for label, feat in rows)
            folders.append(folder)
        running: list[subprocess.Popen] = []
        width = training_parallelism()
        for n, (folder, a) in enumerate(zip(folders, args)):
            running.append(subprocess.Popen(
                [sys.executable, "-c", _TRAIN_SCRIPT, json.dumps(a, sort_keys=True)],
                cwd=folder, env=dict(os.environ, PYTHONHASHSEED="0"),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
            if len(running) >= width or n == len(folders) - 1:
                _wait_all(running)
                running = []
        out = []
        for folder in folders:
            with open(os.path.join(folder, "model.bin"), "rb") as f:
                out.append(f.read())
        return out


def _wait_all(procs: list[subprocess.Popen]) -> None:
    """Wait for every training process; on a failure the others are killed (none outlives
    the temporary folder) and the first error is raised."""
    try:
        for proc in procs:
            _, err = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"fastText quality training failed: {err.strip()[-2000:]}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def training_parallelism() -> int:
    """Training processes at once: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _predict_curated(model, features: str) -> float:
    labels, probs = model.predict(features, k=2)
    for label, p in zip(labels, probs):
        if label == f"__label__{CURATED}":
            return float(min(max(p, 0.0), 1.0))
    return 0.0


def model_from_bytes(data: bytes):
    """Load a model sent as bytes (side input) once per process, keyed by its digest."""
    key = hashlib.blake2b(data, digest_size=16).hexdigest()
    if key not in _MODELS:
        import fasttext

        fd, path = tempfile.mkstemp(suffix=".bin")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        _MODELS[key] = fasttext.load_model(path)
        os.unlink(path)
    return _MODELS[key]


def model_from_path(path: str):
    """A user's model (``--quality-model``), loaded once per process; its structure is walked
    first (``langid.fasttext_problem``) so a truncated file raises ``ModelError``, not a hang."""
    path = os.path.abspath(local_copy(path))  # a URL (gs://, hf://): its local copy
    if path not in _MODELS:
        import fasttext

        problem = fasttext_problem(path)
        if problem:
            raise ModelError(f"quality model {path}: {problem}")
        _MODELS[path] = fasttext.load_model(path)
    return _MODELS[path]


def quality_score(model, text: str, max_chars: int = QualityOptions.max_chars) -> float:
    """Probability that ``text`` is curated text, in [0, 1]."""
    return _predict_curated(model, quality_features(text, max_chars))


def sample_document(doc: Document, model, *, seed: int, alpha: float = QualityOptions.alpha,
                    max_chars: int = QualityOptions.max_chars) -> tuple[Document, bool]:
    """The document with ``quality_score`` set, and whether sampling keeps it."""
    score = quality_score(model, doc.text, max_chars)
    scored = dataclasses.replace(doc, quality_score=score)
    return scored, pareto_keep(score, seed=seed, doc_id=doc.id, alpha=alpha)


def decile_table(counts: list, alpha: float) -> list[dict]:
    """[(("decile", d, kept), n), (("score_sum", d), micro-units)] -> one row per decile: docs,
    kept, kept fraction, mean score and the rule's expected fraction at that mean."""
    n = {key: c for key, c in counts}
    rows = []
    for d in range(10):
        kept = n.get(("decile", d, True), 0)
        docs = n.get(("decile", d, False), 0) + kept
        mean = n.get(("score_sum", d), 0) / SCORE_UNITS / docs if docs else (d + 0.5) / 10
        rows.append({
            "scores": f"[{d / 10:.1f}, {(d + 1) / 10:.1f})",
            "docs": docs,
            "kept": kept,
            "kept_fraction": round(kept / docs, 4) if docs else None,
            "mean_score": round(mean, 4) if docs else None,
            "expected_fraction": round(expected_keep_fraction(mean, alpha), 4),
        })
    return rows


def score_histogram(counts: list) -> dict[str, int]:
    """[(("bucket", b), n)] -> {"0.00": n, "0.05": n, ...} (lower bound of each 0.05 bucket)."""
    n = {key[1]: c for key, c in counts if key[0] == "bucket"}
    return {f"{b / HISTOGRAM_BUCKETS:.2f}": n.get(b, 0) for b in range(HISTOGRAM_BUCKETS)}


def score_stats(score: float, keep: bool) -> list[tuple]:
    """The stats rows of one scored page (summed per key by ``SummariseStats``)."""
    d = score_decile(score)
    return [(("decile", d, keep), 1), (("score_sum", d), int(round(score * SCORE_UNITS))),
            (("bucket", score_bucket(score)), 1)]


def _training_keys(doc: Document, *, mixture: Mixture, seed: int):
    """(class, (hash, id)) of a document that can train the classifier: what the sample is
    drawn on (the smallest hashes per class), without the features."""
    label = class_of(doc.component, mixture)
    return [] if label is None else [(label, (doc_hash(seed, "quality-train", doc.id), doc.id))]


def _chosen_example(doc: Document, chosen: dict, *, mixture: Mixture, seed: int,
                    max_chars: int):
    """``training_example`` of a document the sample chose (``chosen``: its ids)."""
    if doc.id not in chosen:
        return []
    return [training_example(doc, mixture=mixture, seed=seed, max_chars=max_chars)]


def _by_class(examples: list) -> list[tuple[str, list]]:
    """[(class, example)] -> [(class, [example])], the shape ``train_classifier`` reads."""
    grouped: dict[str, list] = {}
    for label, example in examples:
        grouped.setdefault(label, []).append(example)
    return sorted(grouped.items())


def _is_sampled(doc: Document, mixture: Mixture) -> bool:
    return mixture.component(doc.component).cleaning.quality_sampling


class _ScoreFn(beam.DoFn):
    """Score a page (by its fold's model) and draw it: kept, or a ``quality`` reject; its
    ``score_stats`` rows."""

    def __init__(self, *, seed: int, options: QualityOptions):
        self._seed, self._options = seed, options
        self._model = None

    def setup(self):
        if self._options.model:
            self._model = model_from_path(self._options.model)
        self._folds: tuple[Any, list] | None = None  # (side input object, its loaded models)

    def _fold_models(self, model_bytes: list[bytes]) -> list:
        """The side input's models, loaded once per worker: ``model_from_bytes`` keys its cache
        by a digest of the bytes, which for 5 models of ~20 MB cost ~30 ms per page (measured:
        80% of the whole job's CPU at 100-250 MB) when it was called for every page."""
        if self._folds is None or self._folds[0] is not model_bytes:
            self._folds = (model_bytes, [load_model(b) for b in model_bytes])
        return self._folds[1]

    def finish_bundle(self):
        """In a local job, the fold models (~27 MB each) are dropped when the bundle ends: the
        DirectRunner scores every page in one or a few bundles and keeps a DoFn until the whole
        pipeline ends, so they would otherwise sit through the shard writes (250 MB corpus:
        ~1,180 -> ~1,050 MB peak). Remote workers keep them (bundles are many; reloading
        each from the object store would cost more than it frees)."""
        if self._folds is not None and spill.active():
            for model in self._folds[1]:
                for key in [k for k, v in _MODELS.items() if v is model]:
                    del _MODELS[key]
            self._folds = None
            spill.release_free_memory()

    def process(self, doc: Document, model_bytes: list[bytes] | None = None):
        if self._model is not None:
            model = self._model
        else:  # cross-fitting: the model that never saw this page's fold
            models = self._fold_models(model_bytes)
            model = models[fold_of(doc.id, seed=self._seed, folds=len(models))]
        alpha = self._options.alpha
        scored, keep = sample_document(doc, model, seed=self._seed, alpha=alpha,
                                       max_chars=self._options.max_chars)
        for key, n in score_stats(scored.quality_score, keep):
            yield stat(key, n)
        if keep:
            yield scored
            return
        detail = (f"quality score {scored.quality_score:.3f} not drawn by pareto({alpha:g}) "
                  f"sampling (keep probability {expected_keep_fraction(scored.quality_score, alpha):.3f})")
        yield reject(STAGE, scored, Reason.QUALITY, detail)


def summarise(counts: list, info: dict, *, alpha: float, seed: int) -> dict:
    """``score_stats`` rows summed per key, and the classifier's info -> the manifest row."""
    deciles = decile_table(counts, alpha)
    docs, kept = sum(r["docs"] for r in deciles), sum(r["kept"] for r in deciles)
    return {
        "classifier": info, "alpha": alpha, "seed": seed, "scored_docs": docs, "kept_docs": kept,
        "kept_fraction": round(kept / docs, 4) if docs else None,
        "score_histogram": score_histogram(counts), "deciles": deciles,
    }


class QualitySampling(beam.PTransform):
    """Score documents of ``quality_sampling`` components and keep them by Pareto sampling.

    Other components pass through untouched. Without ``--quality-model`` the classifier is
    trained in the pipeline on this run's reference and web documents (see the module
    docstring). Built by the corpus job as ``QualitySampling(config, mixture)``; options:
    ``config.quality`` (``QualityOptions``) and ``config.seed``.
    """

    def __init__(self, config, mixture: Mixture, *, label: str | None = None):
        super().__init__(label)
        if mixture is None:
            raise TypeError("QualitySampling needs the mixture")
        self._mixture, self._seed, self._options = mixture, config.seed, config.quality

    def check_sources(self, components: set[str]) -> None:
        """Before the pipeline starts: a classifier can be trained, or the one supplied is a
        fastText classifier with the labels ``curated`` and ``web`` that loads
        (``langid.check_fasttext_model``: a truncated ``--quality-model`` fails in one line)."""
        model = self._options.model
        if model:
            check_fasttext_model(model, what="--quality-model", labels=(CURATED, WEB))
        sampled = sorted(c for c in components if c in self._mixture.components
                         and self._mixture.component(c).cleaning.quality_sampling)
        reference = set(self._mixture.quality_reference) & components
        if sampled and not model and not reference:
            raise ValueError(
                f"quality sampling of {sampled} needs a classifier: the sources have none of the "
                f"mixture's curated components {list(self._mixture.quality_reference)} to train "
                f"one on; add such sources, pass --quality-model PATH, or use a mixture without "
                f"quality_sampling for {sampled}")

    def _classifier(self, docs):
        """(model bytes PCollection or None, info PCollection)."""
        if self._options.model:
            info = {"source": os.path.abspath(self._options.model)}
            return None, docs.pipeline | "ClassifierInfo" >> beam.Create([info])
        # The sample is drawn on keys alone (ids are unique, so the same documents as drawing on
        # (hash, id, features)); only the chosen documents' features are then computed and
        # collected, once: 2 x train_docs x max_chars held where there were ~4 copies.
        m = dict(mixture=self._mixture, seed=self._seed)
        chosen = (
            docs
            | "TrainingKeys" >> beam.FlatMap(_training_keys, **m)  # (class, (hash, id))
            | "SampleTraining" >> beam.combiners.Top.SmallestPerKey(self._options.train_docs)
            | "ChosenIds" >> beam.FlatMap(lambda kv: ((i, True) for _, i in kv[1]))
        )
        trained = (
            docs
            | "TrainingExamples" >> beam.FlatMap(  # (class, (hash, id, features))
                _chosen_example, beam.pvalue.AsDict(chosen), max_chars=self._options.max_chars,
                **m)
            | "CollectTraining" >> beam.combiners.ToList()
            | "ByClass" >> beam.Map(_by_class)  # [(class, [(hash, id, features)])]
            | "TrainClassifier" >> beam.Map(train_classifier, seed=self._seed,
                                            folds=self._options.folds,
                                            cache=getattr(self, "memo", None),
                                            reuse=getattr(self, "reuse", True))  # (models, info)
        )
        model = trained | "ModelBytes" >> beam.Map(lambda t: t[0])
        return model, trained | "ClassifierStats" >> beam.Map(lambda t: t[1])

    def expand(self, docs):
        model, info = self._classifier(docs)
        to_score = docs | "ToScore" >> beam.Filter(_is_sampled, self._mixture)
        passthrough = docs | "NotSampled" >> beam.Filter(lambda d, m: not _is_sampled(d, m), self._mixture)
        side = {"model_bytes": beam.pvalue.AsSingleton(model)} if model is not None else {}
        fn = _ScoreFn(seed=self._seed, options=self._options)
        scored = to_score | "ScoreAndSample" >> beam.ParDo(fn, **side).with_outputs(
            REJECTS, STATS, main="kept")
        kept = (passthrough, scored.kept) | "Kept" >> beam.Flatten()
        stats = scored[STATS] | "Stats" >> SummariseStats(
            STAGE, summarise, beam.pvalue.AsSingleton(info), alpha=self._options.alpha,
            seed=self._seed)
        return StageOutput(kept=kept, rejects=scored[REJECTS], stats=stats)
