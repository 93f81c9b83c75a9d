"""The bias cross-fitting removes from quality sampling (pipelines/clean/quality.py).

    nice python benchmarks/bench_quality_crossfit.py --docs 4000 --mb 20 --train-docs 1000

Documents: bench_clean_text.py's pool of real text cut into log-normal documents, split at
random (by id hash) into "curated" and "web": one distribution, so a classifier has nothing to
learn but the documents themselves and a fair score is ~0.5 for every page. ``--train-docs``
per class train it (the stage's smallest-hash sample), so about half the web pages are in the
training sample. For ``--quality-folds`` 1 (one model, scores its own training pages) and 5
(cross-fit) it reports the mean score and the Pareto kept fraction at alpha 1 and 9 of web
pages in and out of the training sample. One JSON line per setting.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_clean_text import make_docs, text_pool  # noqa: E402
from pipelines.clean import doc_hash, quality  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=4000)
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--train-docs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    texts = make_docs(text_pool(), args.docs, args.mb)
    seed = args.seed
    by_class: dict[str, list] = {quality.CURATED: [], quality.WEB: []}
    for i, text in enumerate(texts):
        label = quality.WEB if doc_hash(seed, "split", str(i)) % 2 else quality.CURATED
        by_class[label].append((doc_hash(seed, "quality-train", f"d{i}"), f"d{i}",
                                quality.quality_features(text)))
    sample = {k: sorted(v)[: args.train_docs] for k, v in by_class.items()}
    in_sample = {i for _, i, _ in sample[quality.WEB]}
    web = by_class[quality.WEB]
    for folds in (1, 5):
        t = time.perf_counter()
        data, info = quality.train_classifier(sorted(sample.items()), seed=seed, folds=folds)
        train_s = time.perf_counter() - t
        models = [quality.model_from_bytes(b) for b in data]
        rows = {True: [], False: []}
        for _, doc_id, feat in web:
            model = models[quality.fold_of(doc_id, seed=seed, folds=folds)]
            rows[doc_id in in_sample].append((doc_id, quality._predict_curated(model, feat)))
        out = {"folds": folds, "train_seconds": round(train_s, 1),
               "heldout_accuracy": info["heldout_accuracy"], "web_pages": len(web)}
        for seen, part in rows.items():
            name = "in_training_sample" if seen else "not_in_training_sample"
            scores = np.array([s for _, s in part])
            out[name] = {"pages": len(part), "mean_score": round(float(scores.mean()), 4),
                         **{f"kept_alpha_{a:g}": round(float(np.mean(
                             [quality.pareto_keep(s, seed=seed, doc_id=i, alpha=a)
                              for i, s in part])), 4) for a in (1.0, 9.0)}}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
