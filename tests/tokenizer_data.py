"""Real, offline, component-labelled text for the vocabulary tests: text shipped in data/sample,
identical on every machine (``sample_component_docs`` / ``sample_web_docs`` / ``sample_code_docs``).

A few inline paragraphs in eight scripts (with digits of six numeral systems) are always added,
so the tests have multilingual text with digits in each. The tokenizer benchmark's ~200 MB come
from files on the machine instead (benchmarks/host_text.py).
"""

from __future__ import annotations

import glob
import gzip
import os

from tests.sample_text import SAMPLE

INLINE = [
    ("de", "Die Größe der Datei beträgt 1.024 Bytes; Übertragung läuft seit 12:30 Uhr.\n"),
    ("fr", "L'été dernier, nous avons visité 3 châteaux près de la Loire — très beau !\n"),
    ("ru", "Съешь же ещё этих мягких французских булок да выпей чаю. Цена: 250 рублей.\n"),
    ("ja", "東京は日本の首都です。人口は約１４００万人で、２０２４年に記録されました。\n"),
    ("zh", "我们在２０２３年发布了第3版。这个词汇表是无损的，空白也会被保留。\n"),
    ("ar", "يبلغ عدد سكان المدينة ١٢٣٤٥ نسمة، وتقع على بعد ٥٠ كيلومترا من البحر.\n"),
    ("hi", "भारत की जनसंख्या लगभग १४० करोड़ है और राजधानी नई दिल्ली है। वर्ष २०२४।\n"),
    ("bn", "বাংলাদেশের রাজধানী ঢাকা। জনসংখ্যা প্রায় ১৭ কোটি, সাল ২০২৩।\n"),
    ("el", "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας με 3.154.000 κατοίκους.\n"),
]


def _read(path: str) -> str | None:
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError, EOFError):
        return None


def _lang(code: str) -> str:
    return code.split("_")[0].split("@")[0].split(".")[0]


CODE_EXTENSIONS = (".py", ".c", ".h", ".js", ".rs", ".go")


def _jsonl(path: str):
    import gzip
    import io
    import json

    if path.endswith(".gz"):
        f = gzip.open(path, "rt", encoding="utf-8")
    elif path.endswith(".zst"):
        import zstandard

        f = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")),
                             encoding="utf-8")
    else:
        f = open(path, encoding="utf-8")
    with f:
        yield from (json.loads(line) for line in f if line.strip())


def _take(docs, max_bytes: int):
    total = 0
    for lang, text in docs:
        if not text.strip():
            continue
        yield lang, text
        total += len(text.encode())
        if total >= max_bytes:
            return


def sample_web_docs(max_bytes: int):
    """Real multilingual pages of data/sample (16 editions of the Debian handbook + Wikipedia
    extracts in 9 languages), labelled with their edition's language."""
    def docs():
        for path in sorted(glob.glob(os.path.join(SAMPLE, "web", "*.jsonl.gz"))):
            for r in _jsonl(path):
                yield _lang(r.get("html_lang", "en").split("-")[0]), r["text"]
        for r in _jsonl(os.path.join(SAMPLE, "wikipedia", "multilingual.jsonl")):
            yield r.get("wiki_language", "und"), r["text"]
    return _take(docs(), max_bytes)


def sample_code_docs(max_bytes: int):
    """Real source files of the sample's repositories (Python, C, JavaScript, Rust, Go)."""
    def docs():
        for path in sorted(glob.glob(os.path.join(SAMPLE, "code", "repos", "**", "*"),
                                     recursive=True)):
            if path.endswith(CODE_EXTENSIONS) and os.path.isfile(path):
                text = _read(path)
                if text:
                    yield None, text
    return _take(docs(), max_bytes)


def sample_component_docs(bytes_per_component: int) -> dict[str, list[tuple[str, str]]]:
    """code / web / wikipedia / books from data/sample, plus the inline paragraphs."""
    import pyarrow.parquet as pq

    books = [("en", t) for path in sorted(glob.glob(os.path.join(SAMPLE, "books", "*.parquet")))
             for t in pq.read_table(path, columns=["text"])["text"].to_pylist()]
    wiki = [("en", r["text"]) for r in _jsonl(os.path.join(SAMPLE, "wikipedia", "enwiki.jsonl"))]
    return {
        "code": list(sample_code_docs(bytes_per_component)),
        "web": list(sample_web_docs(bytes_per_component)) + INLINE * 3,
        "wikipedia": list(_take(wiki, bytes_per_component)) + INLINE,
        "books": list(_take(books, bytes_per_component)),
    }
