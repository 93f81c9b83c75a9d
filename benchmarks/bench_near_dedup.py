"""Benchmark of code near-dedup (pipelines/clean/near_dedup.py) against datatrove's MinHash.

Corpus: every text source file (<= 1 MB) under ``--roots``: by default unpacked wheels of
several versions of the same pure-Python libraries in /tmp/nd_corpus/src (see
docs/benchmarks.md for the ``pip download`` list) plus .venv's site-packages (which vendors
copies of some of them). Same-path files across versions are the natural near-duplicates.

What it reports (JSON on stdout and in WORK/result.json):

* per step, in-process on one core: MinHash signatures (and datasketch on a sample),
  LSH grouping + bounded bucket pairs, Levenshtein verification, connected components;
* the whole Beam stage end-to-end on the DirectRunner (one worker, in a child process: wall,
  CPU seconds, peak RSS), MB/s per core = MB / CPU seconds;
* datatrove 0.10.1's default MinHash pipeline on the same files (its own venv, see
  benchmarks/datatrove_minhash.py), same measures;
* quality for both: recall of same-path pairs with exact Levenshtein similarity >= 0.9 (pair
  counted when both files end up represented by the same kept file), removed files whose
  exact similarity to the kept file is < 0.5, random different-path pairs put together.

Run (about 15 minutes on 2 loaded cores)::

    nice python benchmarks/bench_near_dedup.py --work /tmp/nd_bench
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import random
import resource
import subprocess
import sys
import time


from palmkit.records import Document
from pipelines.clean import minhash
from pipelines.clean.near_dedup import NearDedupOptions, bucket_candidates

EXTENSIONS = {".py", ".pyi", ".pyx", ".pxd", ".c", ".h", ".cc", ".cpp", ".js", ".ts", ".html",
              ".css", ".rst", ".md", ".txt", ".toml", ".cfg", ".json", ".yaml", ".yml", ".sh"}


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    work: str = "/tmp/nd_bench"
    roots: tuple[str, ...] = ("/tmp/nd_corpus/src", ".venv/lib/python3.11/site-packages")
    max_file_bytes: int = 1_000_000
    shards: int = 16
    datatrove_python: str = "/tmp/dtvenv/bin/python"
    skip_datatrove: bool = False
    random_pairs: int = 20_000


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def same_file_key(root: str, path: str) -> str:
    """Path inside its package, vendoring stripped: pip/_vendor/rich/x.py -> rich/x.py."""
    rel = os.path.relpath(path, root)
    if root.endswith("src"):  # /tmp/nd_corpus/src/<wheel dir>/<package path>
        rel = rel.split("/", 1)[1]
    return rel.rsplit("_vendor/", 1)[-1]


def collect(config: BenchConfig) -> list[dict]:
    files = []
    for root in config.roots:
        for dirpath, dirnames, names in os.walk(root):
            dirnames.sort()
            for name in sorted(names):
                path = os.path.join(dirpath, name)
                if os.path.splitext(name)[1] not in EXTENSIONS or os.path.islink(path):
                    continue
                if not 0 < os.path.getsize(path) <= config.max_file_bytes:
                    continue
                try:
                    with open(path, encoding="utf-8") as f:
                        text = f.read()
                except (UnicodeDecodeError, OSError):
                    continue
                if text.strip():
                    files.append({"path": path, "key": same_file_key(root, path), "text": text})
    for i, f in enumerate(files):
        f["id"] = f"f{i:06d}"
    return files


def write_shards(files: list[dict], folder: str, shards: int) -> list[str]:
    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, f"part-{i:03d}.jsonl") for i in range(shards)]
    outs = [open(p, "w", encoding="utf-8") for p in paths]
    for i, f in enumerate(files):
        outs[i % shards].write(json.dumps({"id": f["id"], "text": f["text"], "path": f["path"]}) + "\n")
    for o in outs:
        o.close()
    return paths


# ---------------------------------------------------------------- per-step microbenchmarks


def bench_steps(files: list[dict], cfg: NearDedupOptions) -> tuple[dict, list, list]:
    params, perms = cfg.minhash, minhash.permutations(cfg.minhash)
    mb = sum(len(f["text"].encode()) for f in files) / 1e6
    steps = {}
    t = cpu_seconds()
    sigs = [minhash.signature(f["text"], params, perms) for f in files]
    steps["minhash"] = _rate(len(files), mb, cpu_seconds() - t)
    steps["minhash_datasketch_sample"] = _datasketch_rate(files[:: max(1, len(files) // 1500)], params)
    t = cpu_seconds()
    buckets = collections.defaultdict(list)
    for f, sig in zip(files, sigs):
        for key in minhash.band_keys(sig, params, namespace="code"):
            buckets[key].append((len(f["text"]), f["id"]))
    pairs = set()
    for item in buckets.items():
        pairs.update(bucket_candidates(item, min_ratio={"code": cfg.threshold},
                                       max_partners=cfg.max_partners))
    steps["lsh_grouping"] = _rate(len(files), mb, cpu_seconds() - t)
    steps["lsh_grouping"]["candidate_pairs"] = len(pairs)
    steps["lsh_grouping"]["largest_bucket"] = max(len(v) for v in buckets.values())
    text = {f["id"]: f["text"] for f in files}
    t = cpu_seconds()
    edges = [(a, b) for a, b in sorted(pairs)
             if minhash.levenshtein_similarity(text[a], text[b], cfg.threshold) >= cfg.threshold]
    steps["verification"] = _rate(len(files), mb, cpu_seconds() - t)
    steps["verification"].update(pairs=len(pairs), verified=len(edges))
    steps["components_beam"] = _bench_components(edges, cfg, len(files), mb)
    return steps, sorted(pairs), edges


def _rate(n: int, mb: float, seconds: float) -> dict:
    return {"cpu_s": round(seconds, 2), "docs_per_s": round(n / seconds, 1),
            "mb_per_s_per_core": round(mb / seconds, 2)}


def _datasketch_rate(sample: list[dict], params: minhash.MinHashParams) -> dict:
    from datasketch import MinHash

    mb = sum(len(f["text"].encode()) for f in sample) / 1e6
    t = cpu_seconds()
    for f in sample:
        tokens = f["text"].split()
        n = params.shingle_size
        shingles = [" ".join(tokens[i:i + n]).encode() for i in range(max(1, len(tokens) - n + 1))]
        m = MinHash(num_perm=params.num_perm, seed=params.seed)
        m.update_batch(shingles)
    return _rate(len(sample), mb, cpu_seconds() - t)


def _bench_components(edges: list, cfg: NearDedupOptions, n: int, mb: float) -> dict:
    import apache_beam as beam

    from pipelines.clean.components import ConnectedComponents

    t, wall = cpu_seconds(), time.perf_counter()
    with beam.Pipeline() as p:
        _ = p | beam.Create(edges) | ConnectedComponents(max_rounds=cfg.max_rounds)
    out = _rate(n, mb, cpu_seconds() - t)
    out.update(edges=len(edges), wall_s=round(time.perf_counter() - wall, 2))
    return out


# ---------------------------------------------------------------- the Beam stage end-to-end


def read_shard(path: str):
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            yield Document(id=row["id"], text=row["text"], component="code", source=row["path"],
                           record=0)


def reject_row(r) -> str:
    return json.dumps([r.id, r.duplicate_of, r.similarity])


def run_stage(shards: list[str], out_dir: str) -> dict:
    """Child-process entry: the NearDedup stage over the shards, one DirectRunner worker."""
    import apache_beam as beam
    import mixtures
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipelines.clean.near_dedup import NearDedup
    from pipelines.corpus import CorpusConfig

    wall, cpu = time.perf_counter(), cpu_seconds()
    opts = PipelineOptions(direct_num_workers=1)
    with beam.Pipeline(options=opts) as p:
        docs = p | "Shards" >> beam.Create(shards) | "Read" >> beam.FlatMap(read_shard)
        stage = NearDedup(CorpusConfig(sources="-", output=out_dir), mixtures.get("palm"))
        out = docs | "NearDedup" >> stage
        out.kept | "KeptIds" >> beam.Map(lambda d: d.id) | "WriteKept" >> beam.io.WriteToText(
            os.path.join(out_dir, "kept"))
        out.rejects | "RejectRows" >> beam.Map(reject_row) | "WriteRejects" >> beam.io.WriteToText(
            os.path.join(out_dir, "rejects"))
        out.stats | "StatsJson" >> beam.Map(json.dumps) | "WriteStats" >> beam.io.WriteToText(
            os.path.join(out_dir, "stats"))
    return {"wall_s": round(time.perf_counter() - wall, 1), "cpu_s": round(cpu_seconds() - cpu, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def _read_lines(out_dir: str, prefix: str) -> list[str]:
    lines = []
    for name in sorted(os.listdir(out_dir)):
        if name.startswith(prefix):
            with open(os.path.join(out_dir, name)) as f:
                lines += [line.rstrip("\n") for line in f if line.strip()]
    return lines


def palmkit_clusters(out_dir: str) -> tuple[dict, dict]:
    """id -> id of the kept file that represents it; and the stage's stats row."""
    rep = {i: i for i in _read_lines(out_dir, "kept")}
    for line in _read_lines(out_dir, "rejects"):
        rid, dup_of, _ = json.loads(line)
        rep[rid] = dup_of
    stats = json.loads(_read_lines(out_dir, "stats")[0])[1]
    return rep, stats


def datatrove_clusters(result: dict) -> dict:
    """id -> id of the kept file of its datatrove cluster (itself when not clustered)."""
    kept_of = {}
    for doc_id, (cluster, removed) in result["docs"].items():
        if cluster != -1 and not removed:
            kept_of[cluster] = doc_id
    return {d: (kept_of.get(c, d) if c != -1 else d) for d, (c, _) in result["docs"].items()}


# ---------------------------------------------------------------- quality


def positive_pairs(files: list[dict]) -> list[tuple[str, str, float]]:
    """Every same-key pair of different texts, with its exact similarity when >= 0.5."""
    groups = collections.defaultdict(list)
    for f in files:
        groups[f["key"]].append(f)
    out = []
    for group in groups.values():
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                a, b = group[i], group[j]
                if a["text"] != b["text"]:
                    sim = minhash.levenshtein_similarity(a["text"], b["text"], 0.5)
                    out.append((a["id"], b["id"], sim))
    return out


def quality(rep: dict, files: list[dict], positives: list, random_pairs: list) -> dict:
    text = {f["id"]: f["text"] for f in files}
    pos = [(a, b) for a, b, s in positives if s >= 0.9]
    recalled = sum(rep[a] == rep[b] for a, b in pos)
    not_both_kept = sum(rep[a] != a or rep[b] != b for a, b in pos)
    removed = [(i, k) for i, k in rep.items() if i != k]
    sims = [minhash.levenshtein_similarity(text[i], text[k], 0.5) for i, k in removed]
    together = [(a, b) for a, b in random_pairs if rep[a] == rep[b]]
    together_far = sum(minhash.levenshtein_similarity(text[a], text[b], 0.5) < 0.5 for a, b in together)
    sizes = collections.Counter(rep.values())
    return {
        "positives_ge_0.9": len(pos),
        "recall_ge_0.9_same_kept_file": round(recalled / max(1, len(pos)), 4),
        "recall_ge_0.9_not_both_kept": round(not_both_kept / max(1, len(pos)), 4),
        "removed": len(removed),
        "removed_below_0.5": sum(s < 0.5 for s in sims),
        "removed_below_0.9": sum(s < 0.9 for s in sims),
        "random_pairs_together": f"{len(together)}/{len(random_pairs)}",
        "random_pairs_together_below_0.5": together_far,
        "largest_cluster": max(sizes.values()),
    }


def component_recall(edges: list, positives: list) -> float:
    """Share of positive pairs (>= 0.9) in one connected component of the verified edges."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    pos = [(a, b) for a, b, s in positives if s >= 0.9]
    return round(sum(find(a) == find(b) for a, b in pos) / max(1, len(pos)), 4)


def sample_random_pairs(files: list[dict], n: int) -> list[tuple[str, str]]:
    rng = random.Random(0)
    out = []
    while len(out) < n:
        a, b = rng.sample(files, 2)
        if a["key"] != b["key"]:
            out.append((a["id"], b["id"]))
    return out


def run_datatrove(config: BenchConfig, input_dir: str) -> dict:
    work = os.path.join(config.work, "datatrove")
    subprocess.run(["rm", "-rf", work], check=True)
    result = os.path.join(config.work, "datatrove_result.json")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "datatrove_minhash.py")
    wall = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", config.datatrove_python, script, input_dir, work, result],
        capture_output=True, text=True,
    )
    if proc.returncode:
        raise RuntimeError(f"datatrove failed:\n{proc.stderr[-3000:]}")
    rss = [l for l in proc.stderr.splitlines() if "Maximum resident" in l]
    with open(result) as f:
        out = json.load(f)
    out["wall_s"] = round(time.perf_counter() - wall, 1)
    out["peak_rss_mb"] = round(int(rss[0].split()[-1]) / 1024) if rss else None
    return out


def main(config: BenchConfig) -> dict:
    load = os.getloadavg()
    files = collect(config)
    mb = sum(len(f["text"].encode()) for f in files) / 1e6
    shards = write_shards(files, os.path.join(config.work, "input"), config.shards)
    report = {"files": len(files), "mb": round(mb, 1), "loadavg_start": load,
              "nproc": os.cpu_count(), "config": dataclasses.asdict(NearDedupOptions())}
    # The Beam stage runs in a child process so its CPU time and peak RSS are its own.
    out_dir = os.path.join(config.work, "palmkit_out")
    subprocess.run(["rm", "-rf", out_dir], check=True)
    proc = subprocess.run([sys.executable, __file__, "--stage-only", out_dir, *shards],
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"Beam stage failed:\n{proc.stderr[-3000:]}")
    stage = json.loads(proc.stdout.strip().splitlines()[-1])
    stage["mb_per_s_per_core"] = round(mb / stage["cpu_s"], 2)
    rep, stats = palmkit_clusters(out_dir)
    report["palmkit_stage"] = {**stage, "stats": stats}
    steps, pairs, edges = bench_steps(files, NearDedupOptions())
    report["palmkit_steps"] = steps
    positives = positive_pairs(files)
    random_pairs = sample_random_pairs(files, config.random_pairs)
    report["palmkit_quality"] = quality(rep, files, positives, random_pairs)
    report["palmkit_quality"]["recall_ge_0.9_same_component"] = component_recall(edges, positives)
    pair_set = set(pairs)
    pos09 = [(a, b) for a, b, s in positives if s >= 0.9]
    report["palmkit_quality"]["positives_proposed_as_candidates"] = round(
        sum((min(a, b), max(a, b)) in pair_set for a, b in pos09) / max(1, len(pos09)), 4)
    if not config.skip_datatrove:
        dt = run_datatrove(config, os.path.join(config.work, "input"))
        cpu = sum(t["cpu_s"] for t in dt["timings"].values())
        report["datatrove"] = {"timings": dt["timings"], "wall_s": dt["wall_s"],
                               "cpu_s": round(cpu, 1), "peak_rss_mb": dt["peak_rss_mb"],
                               "mb_per_s_per_core": round(mb / cpu, 2)}
        report["datatrove_quality"] = quality(datatrove_clusters(dt), files, positives, random_pairs)
        report["throughput_ratio_palmkit_over_datatrove"] = round(
            report["palmkit_stage"]["mb_per_s_per_core"] / report["datatrove"]["mb_per_s_per_core"], 2)
    report["loadavg_end"] = os.getloadavg()
    with open(os.path.join(config.work, "result.json"), "w") as f:
        json.dump(report, f, indent=1)
    return report


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--stage-only":
        print(json.dumps(run_stage(sys.argv[3:], sys.argv[2])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=BenchConfig.work)
    parser.add_argument("--roots", nargs="+", default=list(BenchConfig.roots))
    parser.add_argument("--skip-datatrove", action="store_true")
    args = parser.parse_args()
    cfg = BenchConfig(work=args.work, roots=tuple(args.roots), skip_datatrove=args.skip_datatrove)
    print(json.dumps(main(cfg), indent=1))
