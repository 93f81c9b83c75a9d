"""Per-core throughput of the text cleaning stages' element functions: language ID, quality
training + scoring + sampling, exact-dedup keying.

    nice python benchmarks/bench_clean_text.py --docs 24000 --mb 200

Text: every .md/.rst/.txt file under the virtualenv's site-packages and /usr/share/doc plus the
sample corpus' Wikipedia and books (about 30 MB of real prose and documentation), cut into
documents of log-normal length (median 4 KB) and cycled with shifted cut points until
``--docs`` documents / ``--mb`` MB; 3% of documents are exact copies of another, so dedup has
work to do. One process, one core: the Beam stages run these same functions per element, so a
worker's throughput is this minus Beam's per-element overhead. Prints one JSON line per stage.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pipelines.clean import exact_dedup, langid, quality  # noqa: E402

ROOTS = [os.path.join(sys.prefix, "lib"), "/usr/share/doc"]


def text_pool() -> str:
    parts = []
    for root in ROOTS:
        for ext in ("md", "rst", "txt"):
            for path in sorted(glob.glob(f"{root}/**/*.{ext}", recursive=True)):
                try:
                    with open(path, encoding="utf-8") as f:
                        parts.append(f.read())
                except (UnicodeDecodeError, OSError):
                    continue
    for path in sorted(glob.glob("data/sample/wikipedia/*.jsonl")):
        with open(path, encoding="utf-8") as f:
            parts += [json.loads(line).get("text", "") for line in f if line.strip()]
    return "\n\n".join(p for p in parts if p.strip())


def make_docs(pool: str, n_docs: int, mb: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    mean = mb * 1e6 / n_docs
    sizes = np.minimum(rng.lognormal(np.log(mean * 0.6), 1.0, n_docs), 200_000).astype(int) + 200
    docs, pos = [], 0
    for size in sizes:
        if pos + size > len(pool):
            pos = int(rng.integers(0, 5000))  # next pass: shifted cut points
        docs.append(pool[pos : pos + size])
        pos += size
    for i in rng.choice(n_docs, n_docs * 3 // 100, replace=False):  # exact copies
        docs[i] = docs[int(rng.integers(0, n_docs))]
    return docs


def report(stage: str, seconds: float, docs: list[str], **extra) -> None:
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    row = {"stage": stage, "docs": len(docs), "MB": round(mb, 1), "seconds": round(seconds, 2),
           "docs_per_s": round(len(docs) / seconds), "MB_per_s": round(mb / seconds, 1),
           "peak_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, **extra}
    print(json.dumps(row), flush=True)


def bench_langid(docs):
    model = langid.load_model()
    t = time.perf_counter()
    labels = [langid.identify_language(model, d)[0] for d in docs]
    dt = time.perf_counter() - t
    top = {k: labels.count(k) for k in sorted(set(labels), key=labels.count, reverse=True)[:5]}
    # Windows vs the whole document (up to 1 MB) on the documents longer than 3 windows.
    scored_whole = langid.LangIdOptions.windows * langid.LangIdOptions.window_chars
    long_docs = [d for d in docs if len(d) > scored_whole][:1000]
    t = time.perf_counter()
    whole = [langid.identify_language(model, d, windows=1, window_chars=1_000_000) for d in long_docs]
    whole_s = time.perf_counter() - t
    t = time.perf_counter()
    spread = [langid.identify_language(model, d) for d in long_docs]
    spread_s = time.perf_counter() - t
    agree = sum(a[0] == b[0] for a, b in zip(whole, spread)) / max(len(long_docs), 1)
    report("langid", dt, docs, top_languages=top, long_docs_compared=len(long_docs),
           windows_vs_whole_label_agreement=round(agree, 3),
           whole_doc_seconds=round(whole_s, 2), windows_seconds=round(spread_s, 2))


def bench_quality(docs, train_per_class: int):
    # "curated" = every other document: the classifier learns nothing real here; this measures cost.
    t = time.perf_counter()
    samples = {quality.CURATED: [], quality.WEB: []}
    for i, d in enumerate(docs[: 2 * train_per_class]):
        label = quality.CURATED if i % 2 else quality.WEB
        samples[label].append((quality.doc_hash(0, "q", str(i)), str(i), quality.quality_features(d)))
    data, info = quality.train_classifier(sorted(samples.items()), seed=0, folds=1)
    data = data[0]
    train_s = time.perf_counter() - t
    model = quality.model_from_bytes(data)
    t = time.perf_counter()
    kept = 0
    for i, d in enumerate(docs):
        kept += quality.pareto_keep(quality.quality_score(model, d), seed=0, doc_id=str(i))
    report("quality_score_and_sample", time.perf_counter() - t, docs, kept=kept,
           train_seconds=round(train_s, 1), train_docs=info["train_docs"],
           model_MB=round(len(data) / 1e6, 1))


def bench_exact_dedup(docs):
    t = time.perf_counter()
    groups: dict[bytes, int] = {}
    for i, d in enumerate(docs):
        groups.setdefault(exact_dedup.text_key(d), i)
    dt = time.perf_counter() - t
    report("exact_dedup_key", dt, docs, duplicates=len(docs) - len(groups))
    t = time.perf_counter()
    for d in docs:
        exact_dedup.text_key(d, normalisation="nfc_lower")
    report("exact_dedup_key_nfc_lower", time.perf_counter() - t, docs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=24_000)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--train-per-class", type=int, default=10_000)
    args = parser.parse_args(argv)
    t = time.perf_counter()
    pool = text_pool()
    docs = make_docs(pool, args.docs, args.mb)
    print(json.dumps({"pool_MB": round(len(pool.encode()) / 1e6, 1), "docs": len(docs),
                      "build_seconds": round(time.perf_counter() - t, 1)}), flush=True)
    del pool
    bench_langid(docs)
    bench_exact_dedup(docs)
    bench_quality(docs, args.train_per_class)
    return 0


if __name__ == "__main__":
    sys.exit(main())
