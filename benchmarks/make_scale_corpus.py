"""A real mixed corpus of a chosen size from what this machine has, for memory/throughput runs.

Deterministic: the same installed files and arguments give the same bytes (files are walked in
sorted order; each file's edits come from ``random.Random`` seeded by the seed, round and path). Nothing is committed; the
output is written under ``--out`` (default ``/tmp/scale/<MB>mb``) with a ``sources.yaml``::

    python benchmarks/make_scale_corpus.py --mb 100
    palmkit corpus --sources /tmp/scale/100mb/sources.yaml --output /tmp/out \
        --allow-unknown-license

Half the bytes are code, half prose (web, wikipedia, news, dialogue, an eighth each):

* ``code``: code trees (format ``code_tree``) of the ``.py``/``.c``/``.h`` files of installed
  packages (``--site-packages``) and system headers (``/usr/include``), one repository per
  top-level package folder. ``--fork-share`` of the files (default 15%) are copied again into
  ``<repo>-fork`` with real edits (an identifier renamed, a line dropped, a comment inserted, a
  number changed), the near-duplicates the near-dedup stage is meant to find; when the sources
  run out before the target, further rounds are written as more forks (every round re-edited,
  so the copies are near- not exact duplicates).
* prose as JSONL: ``web`` = man pages (troff markup stripped crudely), ``wikipedia`` = text
  files under ``/usr/share/doc``, ``news`` = gettext ``.mo`` translations, one document per
  catalogue (msgstrs joined), ``dialogue`` = the interactive Python sessions (``>>>`` prompts
  and what the interpreter answered) in the docstrings and docs of the standard library and the
  installed packages, one document per session of 2+ exchanges, as ``User:``/``Python:`` turns
  (~6.6 MB distinct here: a real human-machine exchange, not chat between people, which this
  machine has none of). Rounds beyond the available text shift every document's start
  by a random number of lines; a document of fewer than 40 lines is joined with the one
  ``round`` places after it instead (shifting it would often repeat an earlier round's copy).
"""

from __future__ import annotations

import argparse
import gettext
import gzip
import json
import os
import random
import re
import sysconfig

CODE_EXT = (".py", ".c", ".h")
MAX_FILE = 500_000
_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{3,}\b")
_NUMBER = re.compile(r"\b\d+\b")
_TROFF = re.compile(r"\\f[BIRP]|\\[-(e&|^]|\\\(..|^\.[A-Za-z]+ ?", re.M)


def walk(root: str, exts: tuple[str, ...]):
    for dirpath, dirnames, names in os.walk(root):
        dirnames.sort()
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            if name.endswith(exts) and not os.path.islink(path) and os.path.isfile(path):
                yield path


def read_text(path: str) -> str | None:
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            text = f.read(MAX_FILE + 1)
    except (OSError, UnicodeDecodeError, EOFError):
        return None
    return text if text.strip() and len(text) <= MAX_FILE and "\x00" not in text else None


def edit(text: str, rng: random.Random) -> str:
    """A real revision: rename one identifier, drop a line, insert a comment, change a number."""
    lines = text.split("\n")
    if len(lines) > 3:
        del lines[rng.randrange(len(lines))]
        lines.insert(rng.randrange(len(lines)), "# revised: " + str(rng.randrange(10**6)))
    text = "\n".join(lines)
    idents = sorted(set(_IDENT.findall(text)))
    if idents:
        old = rng.choice(idents)
        text = re.sub(rf"\b{re.escape(old)}\b", old + "_v2", text)
    numbers = list(_NUMBER.finditer(text))
    if numbers:
        m = rng.choice(numbers)
        text = text[:m.start()] + str(int(m.group()) + 1) + text[m.end():]
    return text


def code_files(roots: list[str]):
    """(repo name, path inside the repo, text) for every code file under the roots."""
    for root in roots:
        for path in walk(root, CODE_EXT):
            text = read_text(path)
            if text is None:
                continue
            rel = os.path.relpath(path, root)
            top, _, inner = rel.partition("/")
            if not inner:
                top, inner = "_top", rel
            repo = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{os.path.basename(root.rstrip('/'))}-{top}")
            yield repo, inner, text


def write_code(out: str, target: int, roots: list[str], fork_share: float, seed: int) -> int:
    files = list(code_files(roots))
    written, rnd = 0, 0
    while written < target:
        for repo, inner, text in files:
            if written >= target:
                break
            # per file, so a package installed or removed elsewhere changes no other file's edits
            rng = random.Random(f"{seed}:{rnd}:{repo}/{inner}")
            if rnd == 0:
                copies = [(repo, text)]
                if rng.random() < fork_share:
                    copies.append((f"{repo}-fork", edit(text, rng)))
            else:
                copies = [(f"{repo}-r{rnd}", edit(text, rng))]
            for name, body in copies:
                path = os.path.join(out, "code", name, inner)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(body)
                written += len(body.encode())
        rnd += 1
    return written


def man_pages(root: str = "/usr/share/man"):
    for path in walk(root, (".gz",)):
        text = read_text(path)
        if text:
            yield path, _TROFF.sub("", text)


def doc_files(root: str = "/usr/share/doc"):
    for path in walk(root, ("README", ".txt", ".md", "changelog.gz", "changelog.Debian.gz",
                            "NEWS.gz", "README.gz", "copyright")):
        text = read_text(path)
        if text:
            yield path, text


def catalogues(root: str = "/usr/share/locale"):
    for path in walk(root, (".mo",)):
        try:
            with open(path, "rb") as f:
                cat = gettext.GNUTranslations(f)._catalog  # noqa: SLF001 (the parsed msgstrs)
        except (OSError, UnicodeDecodeError, gettext.error if hasattr(gettext, "error") else OSError):
            continue
        except Exception:  # noqa: BLE001 (a malformed catalogue is skipped)
            continue
        msgs = [v for k, v in sorted(cat.items(), key=lambda kv: str(kv[0])) if k and isinstance(v, str)]
        if msgs:
            yield path, "\n".join(msgs)


_PROMPT = re.compile(r"^(\s*)>>> ")


def _answer_line(line: str, ind: int) -> bool:
    """Output of the exchange above: not blank, not a prompt, not less indented than the
    prompt, not the end of the docstring it sits in."""
    body = line.strip()
    return (bool(body) and not _PROMPT.match(line) and len(line) - len(line.lstrip()) >= ind
            and not body.startswith(('"""', "'''")))


def sessions(text: str) -> list[list[tuple[str, str]]]:
    """The interactive sessions of a text: runs of (input, output) exchanges, where an input is
    a ``>>>`` line and its ``...`` continuations and the output the lines up to a blank one."""
    out, cur, lines, i = [], [], text.split("\n"), 0
    while i < len(lines):
        m = _PROMPT.match(lines[i])
        if not m:
            if cur:
                out.append(cur)
                cur = []
            i += 1
            continue
        ind = len(m.group(1))
        ask, i = [lines[i][ind + 4:]], i + 1
        while i < len(lines) and lines[i][ind:ind + 4] == "... ":
            ask.append(lines[i][ind + 4:])
            i += 1
        ans = []
        while i < len(lines) and _answer_line(lines[i], ind):
            ans.append(lines[i][ind:])
            i += 1
        cur.append(("\n".join(ask), "\n".join(ans)))
    if cur:
        out.append(cur)
    return out


def dialogues(roots: list[str]):
    """Each distinct session once (the same doctest is in several copies of a package)."""
    seen = set()
    for root in roots:
        for path in walk(root, (".py", ".rst", ".txt")):
            text = read_text(path)
            if not text or ">>> " not in text:
                continue
            for k, session in enumerate(sessions(text)):
                doc = "\n".join(f"User: {ask}\nPython: {ans}" if ans else f"User: {ask}"
                                 for ask, ans in session)
                if len(session) >= 2 and doc not in seen:
                    seen.add(doc)
                    yield f"{path}#{k}", doc


def write_jsonl(path: str, docs, target: int, seed: int, prefix: str) -> int:
    rng = random.Random(seed)
    docs = list(docs)
    written, rnd, n = 0, 0, 0
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        while written < target and docs:
            for k, (src, text) in enumerate(docs):
                if written >= target:
                    break
                if rnd:
                    lines = text.split("\n")
                    if len(lines) < 40:  # too short to shift: joined with another document
                        text = text + "\n" + docs[(k + rnd) % len(docs)][1]
                    else:
                        text = "\n".join(lines[1 + rng.randrange(len(lines) // 4):])
                    if not text.strip():
                        continue
                f.write(json.dumps({"id": f"{prefix}-{n:08d}", "text": text, "url": src}) + "\n")
                written += len(text.encode())
                n += 1
            rnd += 1
    return written


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, required=True, help="target size of text, MB")
    ap.add_argument("--out", help="output folder (default /tmp/scale/<MB>mb)")
    ap.add_argument("--code-share", type=float, default=0.5)
    ap.add_argument("--fork-share", type=float, default=0.15)
    ap.add_argument("--site-packages", default=".venv/lib/python3.11/site-packages")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = args.out or f"/tmp/scale/{args.mb:g}mb"
    if os.path.exists(out):
        raise SystemExit(f"{out} exists; remove it first")
    total = int(args.mb * 1e6)
    code = int(total * args.code_share)
    prose = (total - code) // 4
    python_roots = [os.path.realpath(args.site_packages), sysconfig.get_paths()["stdlib"]]
    sizes = {"code": write_code(out, code, [os.path.realpath(args.site_packages), "/usr/include"],
                                args.fork_share, args.seed)}
    for i, (name, docs) in enumerate((("web", man_pages()), ("wikipedia", doc_files()),
                                      ("news", catalogues()),
                                      ("dialogue", dialogues(python_roots)))):
        if prose <= 0:
            break
        sizes[name] = write_jsonl(os.path.join(out, name, "part-000.jsonl"), docs, prose,
                                  args.seed + i + 1, name)
    with open(os.path.join(out, "sources.yaml"), "w") as f:
        f.write("components:\n  code:\n    - {format: code_tree, path: \"code/*\"}\n")
        for name in sorted(set(sizes) - {"code"}, key=("web", "wikipedia", "news", "dialogue").index):
            f.write(f"  {name}:\n    - {{format: jsonl, path: \"{name}/*.jsonl\", text_field: text}}\n")
    report = {"out": out, "bytes": sizes, "total_mb": round(sum(sizes.values()) / 1e6, 1)}
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
