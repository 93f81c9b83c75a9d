"""Text found on this machine, for the tokenizer benchmark (~200 MB; nothing is downloaded).

Tests never read it (they use data/sample: tests/tokenizer_data.py); the benchmark needs more text
than the repository ships:

* ``code``: Python sources of the running interpreter's standard library (always present);
* ``web``: translated UI messages (``msgstr``) from gettext catalogues, ``/usr/share/locale/<lang>``
  (~190 languages on a Debian image, absent on minimal ones);
* ``wikipedia``: man pages in other languages (``/usr/share/man/<lang>``), gz-decompressed;
* ``books``: English man pages and Markdown/reStructuredText/plain text docs.
"""

from __future__ import annotations

import gettext
import glob
import os
import sysconfig

from tests.tokenizer_data import INLINE, _lang, _read


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
