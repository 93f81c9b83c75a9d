"""Real text the repository ships, for tests that need more than inline strings.

Everything comes from the bundled sample's code tree (``data/sample/code/repos``: Python, C,
Go, Rust and JavaScript sources with their READMEs and licences), never from the machine the
tests run on, so every machine sees the same text. Only one release of each project is read
(``packaging-23.2`` and ``six-1.15.0`` are near-copies of the newer ones: the near-dedup tests
use them as such), and a paragraph is returned once, so no two texts are copies.
"""

from __future__ import annotations

import glob
import os
from typing import Iterator

SAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "sample")
REPOS = os.path.join(SAMPLE, "code", "repos")
OLDER_RELEASES = ("packaging-23.2", "six-1.15.0")


def code_files(suffixes: tuple[str, ...] = ()) -> list[str]:
    """Paths of the sample's UTF-8 code-tree files (ending in one of ``suffixes``, if given),
    sorted, one release per project."""
    out = []
    for path in sorted(glob.glob(os.path.join(REPOS, "**", "*"), recursive=True)):
        rel = os.path.relpath(path, REPOS)
        if rel.split(os.sep, 1)[0] in OLDER_RELEASES or not os.path.isfile(path):
            continue
        if suffixes and not path.endswith(suffixes):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                f.read()
        except UnicodeDecodeError:  # e.g. ply's Latin-1 CHANGES
            continue
        out.append(path)
    return out


def paragraphs(n: int, *, min_chars: int = 20, max_chars: int = 600,
               suffixes: tuple[str, ...] = ()) -> list[str]:
    """The first ``n`` distinct blank-line-separated paragraphs of ``min_chars < len <
    max_chars`` (fails if the sample holds fewer: 3,576 of 20-600 chars, 814 of 200-1500 in
    ``.py`` files)."""
    out: list[str] = []
    seen: set[str] = set()
    for path in code_files(suffixes):
        with open(path, encoding="utf-8") as f:
            for p in f.read().split("\n\n"):
                if min_chars < len(p) < max_chars and p not in seen:
                    seen.add(p)
                    out.append(p)
        if len(out) >= n:
            return out[:n]
    raise AssertionError(f"the sample holds only {len(out)} paragraphs of {min_chars}-{max_chars} "
                         f"chars, {n} wanted")


def file_bytes() -> Iterator[bytes]:
    """The bytes of every file of ``code_files()``, in order (about 0.9 MB in all)."""
    for path in code_files():
        with open(path, "rb") as f:
            yield f.read()
