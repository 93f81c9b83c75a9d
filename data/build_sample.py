"""Build palmkit's bundled sample corpus (data/sample/) from real, license-clean upstream text.

Nothing here is generated: every text comes byte-for-byte (after decoding, markup removal and
splitting into documents) from a pinned package on PyPI, Debian bookworm or npm. Provenance,
licences and attribution for every file are in data/sample/DATA_LICENSE.md.

Re-runnable only on a machine like the one it was built on (2026-11-23): Debian bookworm apt
sources, PyPI and the npm registry reachable, palmkit's .venv (pyarrow, zstandard, PyYAML,
charset-normalizer), plus three build-only packages that palmkit itself never imports:

    pip install --no-deps --target /tmp/bvlib rdata==1.1.0 xarray==2026.9.0 mwparserfromhell==0.6.6
    PYTHONPATH=/tmp/bvlib python data/build_sample.py --cache /tmp/sample-cache

Debian may have moved a package to a newer revision since; `apt-get download` then fails and the
pin in APT below must be updated (and the output re-checked). Takes ~1 min; writes ~3 MB.
`--measure` prints per-file fastText language counts (needs lid.176.ftz, see --lid-model).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html.parser
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
import zipfile
import zlib
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
import zstandard

# --- pinned upstream archives -------------------------------------------------------------
PIP_SDIST = ["sentencepiece==0.1.99", "charset-normalizer==3.5.2", "six==1.15.0", "six==1.16.0",
             "packaging==23.2", "packaging==24.0", "html2text==2020.1.16", "ply==3.11",
             "mmh3==4.1.0"]
PIP_WHEEL = ["chatterbot-corpus==1.2.0"]
GENSIM_WHEEL = "gensim==4.3.3"  # cp311 manylinux wheel: ships gensim/test/test_data
APT = ["debian-handbook=11.20220922", "r-cran-janeaustenr=1.0.0-1",
       "golang-github-pkg-errors-dev=0.9.1-2", "librust-itoa-dev=1.0.1-2",
       "sed=4.9-1+deb12u1", "diffutils=1:3.8-4", "tar=1.34+dfsg-1.2+deb12u1"]
NPM = ["ms@2.1.3"]

WEB_LANGS = ["en-US", "de-DE", "fr-FR", "es-ES", "it-IT", "pt-BR", "nl-NL", "ru-RU", "ja-JP",
             "zh-CN", "ko-KR", "ar-MA", "vi-VN", "id-ID", "nb-NO", "pl-PL"]
WEB_PAGES = ["sect.ipv6.html", "sect.follow-debian-news.html", "sect.dhcp.html",
             "sect.kali.html", "sect.tails.html", "sect.config-printing.html",
             "sect.hostname-name-service.html", "sect.devuan.html"]
WIKI_BUDGET = {"en": 260_000, "bg": 90_000}  # characters of article text per dump
WIKI_MAX_ARTICLE = 30_000  # skip longer articles so the sample holds many documents
# charset-normalizer samples whose content is recognisably Wikipedia article text
# (see DATA_LICENSE.md; the others in that folder are not Wikipedia and were left out).
CN_WIKI = {"sample-arabic.txt": "ar", "sample-arabic-1.txt": "ar", "sample-chinese.txt": "lzh",
           "sample-greek.txt": "el", "sample-hebrew-2.txt": "he", "sample-korean.txt": "ko",
           "sample-russian-2.txt": "ru", "sample-russian-3.txt": "ru", "sample-turkish.txt": "tr"}
# GPL-3+ NEWS files only: gzip's and coreutils' NEWS are GFDL-1.3, whose modification terms
# (section 4) do not fit splitting a file into records, so they were left out.
NEWS_PACKAGES = ["sed", "diffutils", "tar"]
NEWS_MAX_PER_PACKAGE = 45  # newest releases first; keeps news/ near 250 KB


def sh(cmd: list[str], cwd: Path) -> None:
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def fetch(cache: Path) -> None:
    """Download every pinned archive into cache/dl once (idempotent)."""
    dl = cache / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dl)]
    for spec in PIP_SDIST:
        sh(pip + ["--no-binary", ":all:", spec], dl)
    for spec in PIP_WHEEL:
        sh(pip + ["--only-binary", ":all:", spec], dl)
    sh(pip + ["--only-binary", ":all:", "--python-version", "3.11", "--platform",
              "manylinux_2_17_x86_64", GENSIM_WHEEL], dl)
    for spec in APT:
        sh(["apt-get", "download", spec], dl)
    for spec in NPM:
        sh(["npm", "pack", spec], dl)


def extract(cache: Path) -> Path:
    """Unpack every archive into cache/x/<archive stem>/ and return cache/x."""
    dl, x = cache / "dl", cache / "x"
    for f in sorted(dl.iterdir()):
        dest = x / f.name
        if dest.exists():
            continue
        dest.mkdir(parents=True)
        if f.suffix == ".deb":
            sh(["dpkg-deb", "-x", str(f), str(dest)], x)
        elif f.suffix == ".whl":
            zipfile.ZipFile(f).extractall(dest)
        else:  # .tar.gz sdists and .tgz npm tarballs
            with tarfile.open(f) as t:
                t.extractall(dest, filter="data")
    return x


def one(x: Path, pattern: str) -> Path:
    hits = sorted(x.glob(pattern))
    assert len(hits) == 1, (pattern, hits)
    return hits[0]


# --- writers ------------------------------------------------------------------------------
def write_jsonl(path: Path, rows: Iterable[dict], compression: str = "") -> None:
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    if compression == "gz":  # mtime=0 so a rebuild is byte-identical
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as g:
            g.write(data)
    elif compression == "zst":
        path.write_bytes(zstandard.ZstdCompressor(level=19).compress(data))
    else:
        path.write_bytes(data)


def write_parquet(path: Path, rows: list[dict], row_group_size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size,
                   compression="zstd")


# --- books: Jane Austen (janeaustenr) and Botchan (sentencepiece test data) ---------------
def read_rdb(data_dir: Path) -> dict[str, list[str]]:
    """Read an R lazy-load database (Rdata.rdx/.rdb): each object is 4-byte length + zlib."""
    import rdata  # build-only dependency

    index = rdata.conversion.convert(rdata.parser.parse_data(
        gzip.decompress((data_dir / "Rdata.rdx").read_bytes())))
    rdb = (data_dir / "Rdata.rdb").read_bytes()
    out = {}
    for name, (off, length) in index["variables"].items():
        chunk = rdb[int(off): int(off) + int(length)]
        assert struct.unpack(">I", chunk[:4])[0] > 0
        obj = rdata.conversion.convert(rdata.parser.parse_data(zlib.decompress(chunk[4:])))
        out[str(name)] = [str(s) for s in obj]
    return out


def split_chapters(lines: list[str], heading: str) -> list[tuple[str, str]]:
    """Split a book's lines at chapter headings; returns (heading, text) with front matter first."""
    pat = re.compile(heading)
    parts: list[tuple[str, list[str]]] = [("front matter", [])]
    for line in lines:
        if pat.match(line.strip()):
            parts.append((line.strip(), []))
        parts[-1][1].append(line)
    return [(h, "\n".join(body).strip() + "\n") for h, body in parts if "".join(body).strip()]


BOTCHAN_CHAPTER = r"^CHAPTER [IVX]+\.?$"


def build_books(x: Path, out: Path) -> None:
    novels = read_rdb(one(x, "r-cran-janeaustenr*/usr/lib/R/site-library/janeaustenr/data"))
    rows = []
    for key, title in [("persuasion", "Persuasion"), ("northangerabbey", "Northanger Abbey")]:
        chapters = split_chapters(novels[key], r"^(CHAPTER|Chapter) [0-9IVXLC]+\.?$")
        for i, (head, text) in enumerate(chapters):
            rows.append({"id": f"austen-{key}-{i:02d}", "text": text, "title": title,
                         "author": "Jane Austen", "chapter": head,
                         "source": "Debian r-cran-janeaustenr 1.0.0-1 (CRAN janeaustenr 1.0.0)"})
    write_parquet(out / "books" / "austen.parquet", rows, row_group_size=16)

    raw = one(x, "sentencepiece-0.1.99*/sentencepiece-0.1.99/test/botchan.txt")
    lines = raw.read_text("utf-8-sig").splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("*** START OF")) + 1
    end = next(i for i, l in enumerate(lines) if l.startswith("End of Project Gutenberg"))
    rows = [{"id": f"gutenberg-8868-{i:02d}", "text": text, "title": "Botchan (Master Darling)",
             "author": "Natsume Soseki (Kin-nosuke Natsume); tr. Yasotaro Morri",
             "chapter": head, "source": "PyPI sentencepiece 0.1.99 sdist test/botchan.txt "
                                        "(Project Gutenberg EBook #8868)"}
            for i, (head, text) in enumerate(split_chapters(lines[start:end], BOTCHAN_CHAPTER))]
    write_parquet(out / "books" / "botchan.parquet", rows, row_group_size=4)


# --- wikipedia: gensim test dumps (en, bg) and charset-normalizer samples -----------------
def wiki_pages(dump: Path) -> Iterator[tuple[str, str]]:
    """Yield (title, wikitext) of main-namespace, non-redirect pages of a MediaWiki XML dump."""
    import bz2

    with bz2.open(dump) as f:
        for _, el in ET.iterparse(f):
            if not el.tag.endswith("}page"):
                continue
            ns = el.find("{*}ns").text
            redirect = el.find("{*}redirect") is not None
            text = el.find("{*}revision/{*}text").text or ""
            if ns == "0" and not redirect and not text.lstrip().upper().startswith("#REDIRECT"):
                yield el.find("{*}title").text, text
            el.clear()


MEDIA_LINK = re.compile(r"^:?(File|Image|Файл|Картинка|Category|Категория)\s*:",
                        re.I)


def wikitext_to_plain(wikitext: str) -> str:
    """Strip templates, tables, refs and link markup (mwparserfromhell), keep paragraph breaks."""
    import mwparserfromhell  # build-only dependency

    code = mwparserfromhell.parse(wikitext)
    media = [link for link in code.filter_wikilinks(recursive=False)
             if MEDIA_LINK.match(str(link.title).strip())]
    for node in media + code.filter_templates(recursive=False) + code.filter_tags(
            recursive=False, matches=lambda t: str(t.tag) in ("ref", "table", "gallery")):
        try:
            code.remove(node)
        except ValueError:
            pass
    text = code.strip_code(normalize=True, collapse=True)
    text = re.sub(r"^\s*(Category|Категория|File|Image|Файл):.*$", "", text,
                  flags=re.M)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def build_wikipedia(x: Path, out: Path) -> None:
    base = one(x, "gensim-4.3.3*") / "gensim" / "test" / "test_data"
    dumps = {"en": base / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
             "bg": base / "bgwiki-latest-pages-articles-shortened.xml.bz2"}
    for lang, dump in dumps.items():
        rows, used = [], 0
        for title, wikitext in wiki_pages(dump):
            text = wikitext_to_plain(wikitext)
            if len(text) < 200 or len(text) > WIKI_MAX_ARTICLE:
                continue
            if used + len(text) > WIKI_BUDGET[lang]:
                break
            used += len(text)
            rows.append({"id": f"{lang}wiki:{title}", "text": text, "title": title,
                         "url": f"https://{lang}.wikipedia.org/wiki/{title.replace(' ', '_')}",
                         "source": f"PyPI gensim 4.3.3 wheel: gensim/test/test_data/{dump.name}"})
        write_jsonl(out / "wikipedia" / f"{lang}wiki.jsonl", rows)

    import charset_normalizer

    data = one(x, "charset_normalizer-3.5.2*/charset_normalizer-3.5.2/data")
    rows = []
    for name, lang in CN_WIKI.items():
        best = charset_normalizer.from_path(data / name).best()
        text = str(best).replace("\r\n", "\n").strip() + "\n"
        rows.append({"id": f"charset-normalizer:{name}", "text": text, "wiki_language": lang,
                     "source": f"PyPI charset-normalizer 3.5.2 sdist data/{name} "
                               f"(decoded from {best.encoding})"})
    write_jsonl(out / "wikipedia" / "multilingual.jsonl", rows)


# --- news: GNU release announcements (NEWS files shipped in Debian packages) -------------
# GNU outline ("* Noteworthy changes in release 4.9 (2022-11-06)") and tar's style
# ("version 1.34 - Sergey Poznyakoff, 2021-02-13").
NEWS_HEAD = re.compile(r"^(?:\* (?:Noteworthy|Major) changes in release (?P<v1>\S+)"
                       r"(?: \((?P<d1>[-0-9?]+)\))?"
                       r"|version (?P<v2>[0-9.]+)(?: - [^,]+)?, (?P<d2>\d{4}-\d{2}-\d{2}))")
LICENCE_TRAILER = re.compile(r"^Copyright (?:\(C\) )?\d{4}", re.M)


def news_sections(text: str) -> list[tuple[str, str | None, str]]:
    """Split a NEWS file into (version, date, section text), dropping preamble and licence."""
    trailers = [m.start() for m in LICENCE_TRAILER.finditer(text)]
    if trailers and trailers[-1] > 0.9 * len(text):
        text = text[: trailers[-1]].rstrip("-=\n ") + "\n"
    sections: list[list[str]] = []
    for line in text.splitlines():
        if NEWS_HEAD.match(line):
            sections.append([])
        if sections:
            sections[-1].append(line)
    out = []
    for sec in sections:
        m = NEWS_HEAD.match(sec[0])
        out.append((m["v1"] or m["v2"], m["d1"] or m["d2"], "\n".join(sec).strip() + "\n"))
    return out


def build_news(x: Path, out: Path) -> None:
    rows = []
    for pkg in NEWS_PACKAGES:
        deb = one(x, f"{pkg}_*.deb")
        text = gzip.decompress((deb / "usr/share/doc" / pkg / "NEWS.gz").read_bytes()).decode()
        for version, date, body in news_sections(text)[:NEWS_MAX_PER_PACKAGE]:
            rows.append({"id": f"gnu-{pkg}-{version}", "content": body,
                         "headline": f"GNU {pkg} {version} released", "date": date,
                         "source": f"Debian {deb.name.removesuffix('.deb')}: "
                                   f"/usr/share/doc/{pkg}/NEWS.gz"})
    write_jsonl(out / "news" / "gnu-release-news.jsonl", rows)


# --- dialogue: chatterbot-corpus conversations ---------------------------------------------
def build_dialogue(x: Path, out: Path) -> None:
    data = one(x, "chatterbot_corpus-1.2.0*") / "chatterbot_corpus" / "data"
    rows = []
    for path in sorted(data.glob("*/*.yml")):
        doc = yaml.safe_load(path.read_text("utf-8"))
        convs = [c for c in doc.get("conversations") or [] if isinstance(c, list)]
        turns = [[str(t).strip() for t in c] for c in convs]
        text = "\n\n".join("\n".join(c) for c in turns if c)
        rows.append({"id": f"chatterbot:{path.parent.name}/{path.name}", "text": text + "\n",
                     "language_folder": path.parent.name,
                     "categories": [str(c) for c in doc.get("categories") or []],
                     "n_conversations": len(turns),
                     "source": f"PyPI chatterbot-corpus 1.2.0 wheel: chatterbot_corpus/data/"
                               f"{path.parent.name}/{path.name}"})
    half = len(rows) // 2
    write_jsonl(out / "dialogue" / "chatterbot-00.jsonl.zst", rows[:half], "zst")
    write_jsonl(out / "dialogue" / "chatterbot-01.jsonl.zst", rows[half:], "zst")


# --- web: Debian Administrator's Handbook HTML pages --------------------------------------
class _Text(html.parser.HTMLParser):
    """Visible text of a page, a newline at each block element (what a simple crawler keeps)."""

    BLOCK = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "pre", "tr", "table",
             "br", "dt", "dd", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.canonical = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "canonical":
            self.canonical = a.get("href", "")
        if tag in ("script", "style", "head"):
            self.skip += 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self.skip -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(raw: str) -> tuple[str, str]:
    p = _Text()
    p.feed(raw)
    lines = [re.sub(r"\s+", " ", l).strip() for l in "".join(p.parts).split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
    return p.canonical, text


def build_web(x: Path, out: Path) -> None:
    root = one(x, "debian-handbook_*") / "usr/share/doc/debian-handbook/html"
    rows = []
    for lang in WEB_LANGS:
        for page in WEB_PAGES:
            url, text = html_to_text((root / lang / page).read_text("utf-8"))
            rows.append({"id": f"handbook:{lang}/{page}", "text": text, "url": url,
                         "html_lang": lang,
                         "source": f"Debian debian-handbook 11.20220922: html/{lang}/{page}"})
    half = len(rows) // 2
    part0, part1 = rows[:half], rows[half:]
    # Dirty records, labelled in DATA_LICENSE.md: an exact re-crawl of a page from part 0
    # stored again in part 1 (same url and text, new id), and an empty page.
    dup = dict(part0[0], id=part0[0]["id"] + "#recrawl")
    empty = {"id": "handbook:empty-page", "text": "", "url": part0[1]["url"] + "#empty",
             "html_lang": part0[1]["html_lang"],
             "source": "minimal dirty record (no upstream text)"}
    write_jsonl(out / "web" / "handbook-00.jsonl.gz", part0 + [empty], "gz")
    write_jsonl(out / "web" / "handbook-01.jsonl.gz", part1 + [dup], "gz")


# --- code: real repository trees -------------------------------------------------------------
SKIP = re.compile(r"(\.egg-info/|^PKG-INFO$|/__pycache__/)")


def copy_tree(src: Path, dest: Path, include: list[str] | None = None) -> None:
    """Copy src to dest, keeping only paths under `include` prefixes (None: everything)."""
    for f in sorted(src.rglob("*")):
        rel = f.relative_to(src).as_posix()
        if not f.is_file() or SKIP.search(rel):
            continue
        if include is not None and not any(rel == p or rel.startswith(p) for p in include):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dest / rel)


def build_code(x: Path, out: Path) -> None:
    repos = out / "code" / "repos"
    sd = lambda name: one(x, f"{name}.tar.gz") / name  # noqa: E731 (sdist root)
    for name in ["six-1.15.0", "six-1.16.0"]:
        copy_tree(sd(name), repos / name)
    for name in ["packaging-23.2", "packaging-24.0"]:
        copy_tree(sd(name), repos / name, ["LICENSE", "README.rst", "CHANGELOG.rst",
                                           "pyproject.toml", "src/"])
    copy_tree(sd("html2text-2020.1.16"), repos / "html2text-2020.1.16",
              ["COPYING", "AUTHORS.rst", "README.md", "ChangeLog.rst", "setup.py", "setup.cfg",
               "html2text/"])
    copy_tree(sd("mmh3-4.1.0"), repos / "mmh3-4.1.0")
    copy_tree(sd("ply-3.11"), repos / "ply-3.11",
              ["README.md", "CHANGES", "ANNOUNCE", "setup.py", "ply/", "example/calc/",
               "example/BASIC/", "example/ansic/"])
    copy_tree(one(x, "ms-2.1.3.tgz") / "package", repos / "ms-2.1.3")
    copy_tree(one(x, "librust-itoa-dev_*") / "usr/share/cargo/registry/itoa-1.0.1",
              repos / "itoa-1.0.1")
    go = one(x, "golang-github-pkg-errors-dev_*")
    copy_tree(go / "usr/share/gocode/src/github.com/pkg/errors", repos / "go-errors-0.9.1")
    copy_tree(go / "usr/share/doc/golang-github-pkg-errors-dev", repos / "go-errors-0.9.1/debian",
              ["copyright"])


# --- measurement ------------------------------------------------------------------------------
def iter_texts(out: Path) -> Iterator[tuple[str, str]]:
    for f in sorted(out.rglob("*")):
        rel = f.relative_to(out).as_posix()
        if rel.endswith(".parquet"):
            for t in pq.read_table(f, columns=["text"]).column("text").to_pylist():
                yield rel, t
        elif ".jsonl" in rel:
            raw = f.read_bytes()
            if rel.endswith(".gz"):
                raw = gzip.decompress(raw)
            elif rel.endswith(".zst"):
                raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
            for line in raw.decode().splitlines():
                r = json.loads(line)
                yield rel, r.get("text", r.get("content", ""))


def measure(out: Path, lid_model: str) -> None:
    import collections

    import fasttext

    model = fasttext.load_model(lid_model)
    per_file: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for rel, text in iter_texts(out):
        label = "(empty)"
        if text.strip():
            (lab,), _ = model.predict(" ".join(text.split())[:20_000])
            label = lab.removeprefix("__label__")
        per_file[rel][label] += 1
    for rel, counts in per_file.items():
        print(rel, dict(counts.most_common()))


def sha256_table(cache: Path) -> None:
    for f in sorted((cache / "dl").iterdir()):
        print(f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/sample-cache"))
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "sample")
    ap.add_argument("--skip-fetch", action="store_true", help="archives already in --cache/dl")
    ap.add_argument("--measure", action="store_true", help="print fastText languages per file")
    ap.add_argument("--lid-model", default="/tmp/lid.176.ftz")
    ap.add_argument("--sha256", action="store_true", help="print the archives' checksums")
    args = ap.parse_args()
    if args.measure:
        measure(args.out, args.lid_model)
        return 0
    if not args.skip_fetch:
        fetch(args.cache)
    if args.sha256:
        sha256_table(args.cache)
    x = extract(args.cache)
    for sub in ["books", "wikipedia", "news", "dialogue", "web", "code"]:
        shutil.rmtree(args.out / sub, ignore_errors=True)
    build_books(x, args.out)
    build_wikipedia(x, args.out)
    build_news(x, args.out)
    build_dialogue(x, args.out)
    build_web(x, args.out)
    build_code(x, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
