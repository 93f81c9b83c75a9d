"""HTML -> text extraction for the ``warc`` format: trafilatura vs resiliparse, on real HTML.

Run: ``.venv/bin/python benchmarks/bench_warc_extract.py [--pages 'GLOB' ...] [--limit 60]``
(about 30 s on one core). Default pages: the Rust book/rustc/rustdoc HTML that rustup installs
(real mdBook pages: a sidebar table of contents, a menu bar and "previous/next" links around
the main text), the kind of boilerplate web pages carry. Prints, per extractor, MB/s per core
(HTML bytes in / seconds, one process, one thread), the mean share of the HTML's bytes kept
as text, how often the page's sidebar boilerplate survives, word recall and precision against
the page's ``<main>`` element (mdBook's chapter text: main text kept vs boilerplate let in), and
the first 300 characters of three pages, to judge by eye. Numbers: ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import glob
import os
import time

DEFAULT_PAGES = os.path.expanduser(
    "~/.rustup/toolchains/*/share/doc/rust/html/{book,rustc,rustdoc,cargo}/**/*.html")
#: A string of the sidebar table of contents on every page of those books: kept = boilerplate.
SIDEBAR_MARK = "Keyboard shortcuts"


def extract_resiliparse(html: bytes) -> str:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding
    return extract_plain_text(bytes_to_str(html, detect_encoding(html)), main_content=True)


def extract_trafilatura(html: bytes) -> str:
    import trafilatura
    return trafilatura.extract(html, include_comments=False, include_tables=True) or ""


def main_words(html: bytes) -> set[str] | None:
    """Words of the page's ``<main>`` element (mdBook puts the chapter there, and nothing else):
    the reference main text; None when the page has none."""
    import lxml.html
    main = lxml.html.fromstring(html).xpath("//main")
    return set(main[0].text_content().split()) if main else None


def recall_precision(text: str, ref: set[str]) -> tuple[float, float]:
    """(share of the reference's distinct words the text kept, share of the text's distinct
    words that are in the reference: 1 - boilerplate)."""
    words = set(text.split())
    return len(words & ref) / max(1, len(ref)), len(words & ref) / max(1, len(words))


EXTRACTORS = {"resiliparse": extract_resiliparse, "trafilatura": extract_trafilatura}


def pages(patterns: list[str], limit: int) -> list[tuple[str, bytes]]:
    files = []
    for pattern in patterns:
        for brace in ("book", "rustc", "rustdoc", "cargo") if "{" in pattern else (None,):
            p = pattern.replace("{book,rustc,rustdoc,cargo}", brace) if brace else pattern
            files += sorted(f for f in glob.glob(p, recursive=True) if os.path.getsize(f) > 5000)
    step = max(1, len(files) // limit)
    return [(f, open(f, "rb").read()) for f in files[::step][:limit]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", nargs="*", default=[DEFAULT_PAGES])
    ap.add_argument("--limit", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    docs = pages(args.pages, args.limit)
    total = sum(len(h) for _, h in docs)
    print(f"{len(docs)} pages, {total / 1e6:.2f} MB of HTML")
    outputs = {}
    refs = [main_words(h) for _, h in docs]
    for name, fn in EXTRACTORS.items():
        fn(docs[0][1])  # imports and warm-up outside the clock
        start = time.process_time()
        for _ in range(args.repeat):
            texts = [fn(h) for _, h in docs]
        secs = (time.process_time() - start) / args.repeat
        outputs[name] = texts
        kept = sum(len(t.encode()) / len(h) for t, (_, h) in zip(texts, docs)) / len(docs)
        sidebar = sum(SIDEBAR_MARK in t for t in texts)
        empty = sum(not t.strip() for t in texts)
        scores = [recall_precision(t, ref) for t, ref in zip(texts, refs) if ref]
        rec = sum(r for r, _ in scores) / max(1, len(scores))
        prec = sum(p for _, p in scores) / max(1, len(scores))
        print(f"{name:12s} {total / 1e6 / secs:6.2f} MB/s/core  text/HTML {kept:5.1%}  "
              f"sidebar kept {sidebar}/{len(docs)}  empty {empty}  main-text word recall "
              f"{rec:.3f} precision {prec:.3f} ({len(scores)} pages with <main>)")
    for i in (0, len(docs) // 2, len(docs) - 1):
        print(f"\n=== {docs[i][0]}")
        for name, texts in outputs.items():
            print(f"--- {name}: {len(texts[i])} chars\n{texts[i][:300]!r}")


if __name__ == "__main__":
    main()
