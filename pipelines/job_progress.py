"""What `palmkit corpus` and `palmkit pack` show while they run, and which steps make each
stage of their timings (``pipelines.progress`` draws the line, ``pipelines.timings`` reads
the metrics).

The live line, from the meters' snapshots (counts summed over every worker process)::

    corpus: inputs 3/20, 12.3/40.0 MB (31%), 1,234 rec/s, read ETA 0:42 | read 12,000
      validate 11,900 langid 11,000 ... | rejected 800: language 500, too_large 10

The ETA is that of the read phase (bytes read of those planned at launch, ``ReadPlan``): the
DirectRunner runs one fused stage at a time, so the stages after a shuffle (dedup, quality)
start once everything is read; their counters then move on. ``pack`` shows documents
tokenized of the corpus's kept documents, tokens, and examples written.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from pipelines import beam_fixes, progress, timings

# -- stage lists (name, label prefix) in pipeline order ----------------------------------------


def corpus_stages(stages: Sequence[Any]) -> list[tuple[str, tuple[str, ...]]]:
    """The corpus job's stages: labels as ``pipelines.corpus.build`` gives them."""
    from pipelines.stage import timing_name

    names = [("read", "ReadSources/"), ("validate", "Validate/"), ("unique_ids", "UniqueIds/")]
    names += [(timing_name(s), f"Clean/Stage{i}_{type(s).__name__}/")
              for i, s in enumerate(stages)]
    names += [("write_clean", "WriteClean/"), ("write_rejects", "WriteRejects/")]
    return timings.stages_by_prefix(names)


def merge_stage_prefixes(stages: Iterable[tuple[str, tuple[str, ...]]]):
    """Join rows of the same stage name (keeping the first one's position)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, prefixes in stages:
        out[name] = out.get(name, ()) + tuple(prefixes)
    return list(out.items())


#: The pack job's stages (labels of ``pipelines.pack.PackCorpus``): tokenize reads the corpus
#: files too; plan is the token histograms and the sampling plan; pack_write sorts, packs and
#: writes each shard.
PACK_STAGES = merge_stage_prefixes(timings.stages_by_prefix([
    ("tokenize", "PackCorpus/ListCorpusFiles"), ("tokenize", "PackCorpus/SpreadFiles"),
    ("tokenize", "PackCorpus/Tokenize"), ("plan", "PackCorpus/KeyByComponent"),
    ("plan", "PackCorpus/TokenHistogram"), ("plan", "PackCorpus/CollectHistograms"),
    ("plan", "PackCorpus/PlanSampling"), ("sample", "PackCorpus/SampleAndShuffle"),
    ("pack_write", "PackCorpus/EveryShard"), ("pack_write", "PackCorpus/MergeShardKeys"),
    ("pack_write", "PackCorpus/GroupByShard"), ("pack_write", "PackCorpus/PackAndWriteShard"),
]))


# -- what the pack job's meters count ---------------------------------------------------------


def pack_file_bytes(corpus_manifest) -> dict[str, int]:
    """Corpus file -> estimated text bytes (its component's ``kept_bytes`` shared by rows): the
    bytes behind the tokenize stage's MB/s, known before any file is opened."""
    out = {}
    for rel, entry in corpus_manifest.outputs.items():
        parts = rel.split("/")
        counts = corpus_manifest.counts.get(parts[1]) if len(parts) > 2 else None
        if isinstance(counts, dict) and counts.get("kept"):
            out[rel] = int(counts.get("kept_bytes", 0) * entry.rows / counts["kept"])
    return out


def corpus_documents(corpus_manifest) -> int:
    """Documents the pack job tokenizes: every kept document of the corpus."""
    return sum(c.get("kept", 0) for c in corpus_manifest.counts.values() if isinstance(c, dict))


class ByFile:
    """``measure`` of the tokenize stage: one corpus file ``(rel, sha256)`` coming in."""

    def __init__(self, nbytes: dict[str, int]):
        self.nbytes = nbytes

    def __call__(self, element) -> dict[str, float]:
        return {"files": 1, "bytes": self.nbytes.get(element[0], 0)}


def tokenized_out(doc) -> dict[str, float]:
    return {"records": 1, "tokens": len(doc.tokens)}


def tokens_in(doc) -> dict[str, float]:
    return {"records": 1, "bytes": 4 * len(doc.tokens)}  # int32 tokens


def one_copy(_out) -> dict[str, float]:
    return {"copies": 1}


def shard_out(shard: dict) -> dict[str, float]:
    entry = shard["entry"]
    return {"records": shard["documents"], "examples": entry.rows, "bytes": entry.bytes}


# -- the live lines ---------------------------------------------------------------------------


def _n(totals: dict, key: str) -> float:
    return totals.get(key, 0)


def corpus_line(totals: dict[str, float], elapsed: float, *, plan_inputs: int, plan_bytes: int,
                stage_names: Sequence[str]) -> str:
    """One status line of the corpus job (see the module docstring)."""
    inputs, nbytes = _n(totals, "read/inputs"), _n(totals, "read/bytes")
    records = _n(totals, "read/records")
    done, total = (nbytes, plan_bytes) if plan_bytes else (inputs, plan_inputs)
    rate, _ = progress.rate_and_eta(records, 0, elapsed)
    _, eta = progress.rate_and_eta(done, total, elapsed)
    share = f" ({done / total:.0%})" if total else ""
    pace = (f"read done, {progress.format_eta(elapsed)} elapsed" if total and done >= total
            else f"{rate:,.0f} rec/s, read ETA {progress.format_eta(eta)}")
    head = (f"corpus: inputs {inputs:.4g}/{plan_inputs}, {nbytes / 1e6:,.1f}/{plan_bytes / 1e6:,.1f}"
            f" MB{share}, {pace}")
    counts = " ".join(f"{name} {int(_n(totals, name + '/records')):,d}"
                      for name in ("read", "validate", *stage_names, "write_clean")
                      if _n(totals, name + "/records"))
    reasons: dict[str, float] = {}
    for key, n in totals.items():
        if "/rejected." in key:
            reason = key.split("/rejected.", 1)[1]
            reasons[reason] = reasons.get(reason, 0) + n
    rejected = ""
    if reasons:
        top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        rejected = (f" | rejected {int(sum(reasons.values())):,d}: "
                    + ", ".join(f"{r} {int(n):,d}" for r, n in top[:4])
                    + (", ..." if len(top) > 4 else ""))
    return f"{head} | {counts or 'starting'}{rejected}"


def pack_line(totals: dict[str, float], elapsed: float, *, documents: int) -> str:
    """One status line of the pack job."""
    docs, tokens = _n(totals, "tokenize/records"), _n(totals, "tokenize/tokens")
    rate, eta = progress.rate_and_eta(docs, documents, elapsed)
    share = f" ({docs / documents:.0%})" if documents else ""
    eta_text = ("tokenized" if documents and docs >= documents
                else f"ETA {progress.format_eta(eta)}")
    return (f"pack: tokenized {int(docs):,d}/{documents:,d} documents{share}, "
            f"{int(tokens):,d} tokens, {rate:,.0f} docs/s, {eta_text} | sampled "
            f"{int(_n(totals, 'sample/copies')):,d} copies | examples written "
            f"{int(_n(totals, 'pack_write/examples')):,d}")


# -- running a metered pipeline -----------------------------------------------------------------


def run(pipeline, *, render, stages, pipeline_args: Iterable[str], show: bool):
    """Run ``pipeline`` and wait; with the live channel where the runner allows it
    (DirectRunner) and the line drawn when ``show``. Returns ``(result, timings)``."""
    beam_fixes.apply()  # before run(): the local runner reads it when it starts
    clock = timings.Clock()
    if progress.channel_possible(pipeline_args):
        with progress.LiveProgress(render, enabled=show) as live:
            progress.attach(pipeline, live.folder)
            result = pipeline.run()
            result.wait_until_finish()
    else:  # workers elsewhere (Dataflow): Beam metrics only
        result = pipeline.run()
        result.wait_until_finish()
    return result, timings.collect(result, stages, clock)
