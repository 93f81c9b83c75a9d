"""Real, offline, component-labelled text for the vocabulary tests and benchmark.

Tests use ``sample_component_docs`` / ``sample_web_docs`` / ``sample_code_docs`` (bottom of this
file): text shipped in data/sample, identical on every machine. The benchmark needs ~200 MB and
takes it from files found on the machine, so nothing is downloaded:

* ``code``: Python sources of the running interpreter's standard library (always present);
* ``web``: translated UI messages (``msgstr``) from gettext catalogues, ``/usr/share/locale/<lang>``
  (~190 languages on a Debian image, absent on minimal ones);
* ``wikipedia``: man pages in other languages (``/usr/share/man/<lang>``), gz-decompressed;
* ``books``: English man pages and Markdown/reStructuredText/plain text docs.

A few inline paragraphs in eight scripts (with digits of six numeral systems) are always added,
so the tests have multilingual text even where ``/usr/share`` is bare.
"""

from __future__ import annotations

import gettext
import glob
import gzip
import os
import sysconfig

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


def code_docs(max_bytes: int, *, roots: list[str] | None = None):
    roots = roots or [sysconfig.get_paths()["stdlib"]]
    total = 0
    for root in roots:
        for path in sorted(glob.glob(os.path.join(root, "**", "*.py"), recursive=True)):
            text = _read(path)
            if text:
                yield ("und", text)
                total += len(text.encode())
                if total >= max_bytes:
                    return


def translation_docs(max_bytes: int, root: str = "/usr/share/locale"):
    """One document per catalogue: its translated messages, blank-line separated."""
    total = 0
    for path in sorted(glob.glob(os.path.join(root, "*", "LC_MESSAGES", "*.mo"))):
        lang = _lang(path[len(root) + 1 :].split(os.sep)[0])
        try:
            with open(path, "rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog  # msgid -> msgstr
        except Exception:  # gettext: OSError, IndexError, struct.error on odd catalogues
            continue
        text = "\n\n".join(v for k, v in catalog.items() if k and isinstance(v, str) and v)
        if text.strip():
            yield (lang, text)
            total += len(text.encode())
            if total >= max_bytes:
                return


def man_docs(max_bytes: int, *, english: bool, root: str = "/usr/share/man"):
    total = 0
    for lang_dir in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        is_en = lang_dir.startswith("man")
        if is_en != english:
            continue
        for path in sorted(glob.glob(os.path.join(root, lang_dir, "**", "*.gz"), recursive=True)):
            text = _read(path)
            if text:
                yield ("en" if is_en else _lang(lang_dir), text)
                total += len(text.encode())
                if total >= max_bytes:
                    return


def doc_files(max_bytes: int, roots=("/usr/share/doc",)):
    total = 0
    for root in roots:
        for ext in ("md", "rst", "txt"):
            for path in sorted(glob.glob(os.path.join(root, "**", f"*.{ext}"), recursive=True)):
                text = _read(path)
                if text:
                    yield ("en", text)
                    total += len(text.encode())
                    if total >= max_bytes:
                        return


def component_docs(bytes_per_component: int) -> dict[str, list[tuple[str, str]]]:
    """About ``bytes_per_component`` of text per component (less where the machine has less)."""
    books = list(man_docs(bytes_per_component // 2, english=True))
    books += list(doc_files(bytes_per_component - sum(len(t.encode()) for _, t in books)))
    return {
        "code": list(code_docs(bytes_per_component)),
        "web": list(translation_docs(bytes_per_component)) + INLINE * 3,
        "wikipedia": list(man_docs(bytes_per_component, english=False)) + INLINE,
        "books": books,
    }


# -- the shipped sample (tests use this: the same text on every machine) ---------------------

SAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "sample")
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
