"""Read + validate throughput of the ``wet``, ``warc`` and ``text`` formats (MB/s per core).

    nice python benchmarks/bench_web_read.py --target-mb 20

Builds, in --workdir, one corpus per format from real text: ``wet`` = the sample's web/news/
wikipedia JSONL documents as WET ``conversion`` records (one gzip member each, as Common Crawl
writes them); ``warc`` = the real mdBook HTML pages of the Rust docs (bench_warc_extract.py) as
HTTP ``response`` records, gzipped; ``text`` = the sample's book texts as plain and ``.gz``
files. Each is replicated to ~--target-mb of *input* (uncompressed WET/text bytes, HTML bytes)
and measured with bench_corpus_read's two modes: the pure readers + validate loop in one
process, and ``ReadSources | Validate`` on the DirectRunner (one worker). Figures: MB of input
per second per core (for ``warc``, HTML in; the text out is ~8% of it). Results:
docs/benchmarks.md, section "Web archives and plain text: read + validate".
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pyarrow.parquet as pq  # noqa: E402

from pipelines import lines  # noqa: E402
from bench_corpus_read import SAMPLE, bench_beam, bench_python  # noqa: E402
from bench_warc_extract import DEFAULT_PAGES, pages  # noqa: E402


def warc_record(rtype: str, n: int, body: bytes) -> bytes:
    head = (f"WARC/1.0\r\nWARC-Type: {rtype}\r\nWARC-Record-ID: <urn:uuid:bench-{n}>\r\n"
            f"WARC-Target-URI: https://example.org/{n}\r\nWARC-Date: 2026-12-02T00:00:00Z\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body + b"\r\n\r\n"


def sample_texts() -> list[str]:
    texts = []
    for comp in ("web", "news", "wikipedia"):
        for name in sorted(os.listdir(os.path.join(SAMPLE, comp))):
            path = os.path.join(SAMPLE, comp, name)
            with open(path, "rb") as f:
                for line in lines.read_lines(f, path, max_line_bytes=1 << 30):
                    obj = json.loads(line) if line.strip() else {}
                    text = obj.get("text") or obj.get("content")
                    if isinstance(text, str) and text.strip():
                        texts.append(text)
    return texts


def build(workdir: str, fmt: str, target_mb: int) -> tuple[str, int]:
    """(sources.yaml, input bytes) of a ~target_mb corpus of format ``fmt``."""
    d = os.path.join(workdir, fmt)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "in"))
    if fmt == "wet":
        bodies = [t.encode() for t in sample_texts()]
        one = [warc_record("conversion", i, b) for i, b in enumerate(bodies)]
        suffix, pattern = ".warc.wet.gz", "in/*.warc.wet.gz"
    elif fmt == "warc":
        bodies = [h for _, h in pages([DEFAULT_PAGES], 200)]
        one = [warc_record("response", i, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
                           + b) for i, b in enumerate(bodies)]
        suffix, pattern = ".warc.gz", "in/*.warc.gz"
    else:
        bodies = [t.encode() for name in ("austen", "botchan")
                  for t in pq.read_table(os.path.join(SAMPLE, "books", f"{name}.parquet")
                                         ).column("text").to_pylist()]
        one, suffix, pattern = None, "", "in/*"
    size = sum(map(len, bodies))
    copies = max(1, round(target_mb * 1e6 / size))
    for c in range(copies):
        if one is None:
            for i, b in enumerate(bodies):
                name = f"c{c:04d}-{i}.txt" + (".gz" if i % 2 else "")
                with open(os.path.join(d, "in", name), "wb") as f:
                    f.write(gzip.compress(b, 1) if i % 2 else b)
        else:
            data = b"".join(gzip.compress(r.replace(b"uuid:bench-", f"uuid:c{c}-".encode()), 6)
                            for r in one)
            with open(os.path.join(d, "in", f"c{c:04d}{suffix}"), "wb") as f:
                f.write(data)
    sources = os.path.join(d, "sources.yaml")
    with open(sources, "w") as f:
        f.write(f"components:\n  web: [{{format: {fmt}, path: '{pattern}'}}]\n")
    return sources, copies * size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-mb", type=int, default=20)
    parser.add_argument("--workdir", default="/tmp/palmkit-bench-web")
    parser.add_argument("--formats", default="wet,warc,text")
    args, beam_args = parser.parse_known_args()
    print(f"{'format':6s} {'mode':30s} {'docs':>7s} {'MB in':>7s} {'MB text':>8s} {'s':>7s} "
          f"{'MB/s in':>8s}")
    for fmt in args.formats.split(","):
        sources, nin = build(args.workdir, fmt, args.target_mb)
        for mode, fn in (("python (readers + validate)", lambda: bench_python(sources)),
                         ("beam DirectRunner, 1 worker", lambda: bench_beam(
                             sources, os.path.join(args.workdir, "beam-result.txt"), beam_args))):
            t0 = time.process_time()
            n, nbytes, secs = fn()
            print(f"{fmt:6s} {mode:30s} {n:7d} {nin / 1e6:7.1f} {nbytes / 1e6:8.1f} {secs:7.1f} "
                  f"{nin / 1e6 / secs:8.2f}   (cpu {time.process_time() - t0:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
