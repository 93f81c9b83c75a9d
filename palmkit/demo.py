"""The whole flow on the bundled sample: corpus -> vocab -> pack -> train -> stats.

    palmkit demo --output out/demo          # what `make demo` runs; ~2-5 min on 2 cores

Each stage is called through its own typed config and ``main(config)``, exactly what its
`palmkit` subcommand does, so the demo exercises the real jobs (Beam DirectRunner, SentencePiece,
JAX) and leaves real outputs a user can inspect. Sizes are scaled to the ~2.5 MB sample:

* vocabulary 8,000 pieces (the sample's ~2.3 MB of kept text supports that, not 256k);
* sequences of 256 tokens instead of PaLM's 2,048, so a CPU trains enough steps in minutes;
* quality sampling with alpha 1 instead of GPT-3's 9, which would keep ~1-2% of the sample's
  130 web pages (possibly none);
* the default pack budget (the largest that repeats no component; the sample's small dialogue
  part limits it), trained for several epochs so the loss clearly falls.

This module orchestrates both sides, so it imports each stage lazily inside its step.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from typing import Any, Callable

from palmkit import flags
from palmkit.contracts import PackedDataSpec

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_SOURCES = os.path.join(REPO, "data", "sample", "sources.yaml")


@dataclasses.dataclass
class DemoConfig:
    output: str = flags.option("out/demo", help="folder for every output (replaced)")
    sources: str = flags.option(SAMPLE_SOURCES, show_default=False,
                                help="sources YAML (default: the sample, data/sample/sources.yaml)")
    mixture: str = flags.option("palm", cli=False, help="mixture the corpus is built for")
    vocab_size: int = flags.option(
        8000, help="vocabulary size the sample supports (256k needs ~200 MB of text)")
    seq_len: int = flags.option(
        256, help="example length (PaLM: 2048; shorter trains faster on a CPU)")
    preset: str = flags.option("palm-small", help="model preset (see `palmkit model info`)")
    steps: int = flags.option(300, help="training steps")
    batch_size: int = flags.option(8, help="sequences per step")
    quality_alpha: float = flags.option(
        1.0, help="web quality sampling alpha (GPT-3: 9; the sample is too small for it)")
    seed: int = flags.option(0, help="seed of every stage (sampling, vocabulary, model init)")
    fresh: bool = flags.option(True, cli=False, help="remove the output folder first")


def _stage(n: int, total: int, title: str, fn: Callable[[], Any]) -> tuple[Any, float]:
    print(f"\n=== [{n}/{total}] {title} ===", flush=True)
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"=== [{n}/{total}] done in {seconds:.1f} s ===", flush=True)
    return result, seconds


def run_corpus(cfg: DemoConfig, paths: dict[str, str]):
    from pipelines.clean.quality import QualityOptions
    from pipelines.corpus import CorpusConfig, main

    return main(CorpusConfig(sources=cfg.sources, output=paths["corpus"], mixture=cfg.mixture,
                             num_shards=2, seed=cfg.seed,
                             quality=QualityOptions(alpha=cfg.quality_alpha)))


DEMO_EVAL_SETS = os.path.join(REPO, "pipelines", "contamination", "data", "demo_evals.yaml")


def run_contamination(cfg: DemoConfig, paths: dict[str, str]):
    """A small contamination check (PaLM section 8) of a benchmark-shaped set against the
    corpus: some of its examples are copied from the sample, so some are found."""
    from palmkit.report import contamination as report
    from pipelines.contamination.job import ContaminationConfig, main

    manifest = main(ContaminationConfig(corpus=paths["corpus"], eval_sets=DEMO_EVAL_SETS,
                                        output=paths["contamination"]))
    print(report.summary_table(manifest.extra["summary"]))
    return manifest


def run_vocab(cfg: DemoConfig, paths: dict[str, str]):
    from tokenizer.train import TrainConfig, main

    return main(TrainConfig(corpus=paths["corpus"], output=paths["vocab"],
                            vocab_size=cfg.vocab_size, seed=cfg.seed,
                            heldout_bytes=200_000))


def run_pack(cfg: DemoConfig, paths: dict[str, str]):
    from pipelines.pack import PackConfig, main

    return main(PackConfig(corpus=paths["corpus"], vocab=paths["vocab"] + ".model",
                           output=paths["shards"], seq_len=cfg.seq_len, num_shards=2,
                           seed=cfg.seed))


def run_train(cfg: DemoConfig, paths: dict[str, str]):
    from trainer.train import TrainConfig, main

    return main(TrainConfig(
        data=paths["shards"], workdir=paths["train"], steps=cfg.steps, preset=cfg.preset,
        batch_schedule=((0, cfg.batch_size),), lr_peak=1e-2, lr_constant_steps=100,
        checkpoint_every=100, seed=cfg.seed, allow_repeat=True,
    ))


def run_stats(cfg: DemoConfig, paths: dict[str, str]):
    from palmkit import report_html, stats

    result = stats.collect(paths["shards"])
    with open(paths["report"], "w", encoding="utf-8") as f:
        f.write(report_html.render(result))
    print(stats.format_table(result))
    return result


def _losses(metrics_path: str) -> list[float]:
    with open(metrics_path, encoding="utf-8") as f:
        return [json.loads(line)["loss"] for line in f if line.strip()]


def summary(cfg: DemoConfig, paths: dict[str, str], results: dict[str, Any],
            seconds: dict[str, float]) -> str:
    corpus, pack = results["corpus"], results["pack"]
    lines = ["", "=" * 72, "palmkit demo: summary", "=" * 72, "corpus (kept / read, rejected by reason):"]
    for c, e in corpus.counts.items():
        rej = ", ".join(f"{k} {v}" for k, v in sorted(e["rejected"].items())) or "-"
        lines.append(f"  {c:<10} {e['kept']:>5} / {e['read']:<5} rejected: {rej}")
    for name, row in results["contamination"].extra["summary"]["sets"].items():
        lines.append(f"contamination ({name}): {row['contaminated']} of {row['examples']} "
                     f"examples contaminated ({row['contaminated_percent']:.1f}%)")
    vocab = results["vocab"]
    lines.append(f"vocabulary: {vocab['vocab_size']:,} pieces, [eod] id {vocab['eod_id']}")
    lines.append(f"mixture achieved ({cfg.mixture}), tokens sampled (target -> actual share):")
    for c, e in pack.counts["components"].items():
        lines.append(f"  {c:<10} {e['tokens_sampled']:>8,} tokens  {e['target_share']:6.2%} -> "
                     f"{e['actual_share']:6.2%}  (epochs {e['rate']:.3f})")
    lines.append(f"packed: {pack.counts['tokens_packed']:,} tokens in "
                 f"{PackedDataSpec.from_manifest(pack).num_examples} examples of {cfg.seq_len}; "
                 f"{pack.counts['dropped_tokens']} dropped")
    losses = _losses(os.path.join(paths["train"], "metrics.jsonl"))
    k = max(1, min(10, len(losses) // 10))
    start, end = sum(losses[:k]) / k, sum(losses[-k:]) / k
    lines.append(f"training ({cfg.preset}, {len(losses)} steps): loss {start:.3f} -> {end:.3f} "
                 f"(mean of first/last {k} steps)")
    lines.append("outputs:")
    for name in ("corpus", "shards", "train", "report"):
        lines.append(f"  {name:<8} {paths[name]}")
    lines.append(f"  vocab    {paths['vocab']}.model (+ .json)")
    lines.append("time: " + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()))
    return "\n".join(lines)


def main(cfg: DemoConfig) -> dict[str, Any]:
    out = os.path.abspath(cfg.output)
    if cfg.fresh and os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    paths = {"corpus": os.path.join(out, "corpus"), "vocab": os.path.join(out, "vocab"),
             "contamination": os.path.join(out, "contamination"),
             "shards": os.path.join(out, "shards"), "train": os.path.join(out, "train"),
             "report": os.path.join(out, "report.html")}
    steps = [("corpus", "palmkit corpus: read, validate, clean the sample (Beam)", run_corpus),
             ("contamination", "palmkit contamination: a benchmark-shaped set against the "
                               "corpus (Beam)", run_contamination),
             ("vocab", f"palmkit vocab train: {cfg.vocab_size:,}-piece lossless vocabulary",
              run_vocab),
             ("pack", f"palmkit pack: sample to the mixture, pack {cfg.seq_len}-token examples "
                      "(Beam)", run_pack),
             ("train", f"palmkit train: {cfg.preset}, {cfg.steps} steps", run_train),
             ("stats", "palmkit stats --html", run_stats)]
    results, seconds = {}, {}
    for i, (name, title, fn) in enumerate(steps, 1):
        results[name], seconds[name] = _stage(i, len(steps), title, lambda fn=fn: fn(cfg, paths))
    text = summary(cfg, paths, results, seconds)
    print(text)
    with open(os.path.join(out, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    return {"paths": paths, "results": results, "seconds": seconds}
