"""Programming language of a source file, from its extension (PaLM Table 28).

PaLM's code is "GitHub code in 24 common languages, chosen by file extension". Table 28 names 25
(Java, HTML, JavaScript, Python, C, PHP, C#, C++, XML, Ruby, Go, MATLAB, TypeScript, Shell, Rust,
SQL, Lua, Jupyter notebooks, Dart, Visual Basic, Perl, S, Clojure, Emacs Lisp, Tcl); we keep all
25. The paper does not list extensions; the table below is ours. Ambiguous extensions are given to
the PaLM language: ``.h`` -> C (C++ headers mostly use ``.hpp``/``.hh`` too, and C's share is
equal to C++'s), ``.m`` -> MATLAB (Objective-C is not a PaLM language), ``.pl`` -> Perl (Prolog is
not one either). Extensions are matched case-insensitively, so ``.R`` and ``.r`` are both R;
files without an extension (``Makefile``, scripts with a shebang) are not detected: PaLM selects by
extension only.

Pure functions, no Beam: the reader (``pipelines.readers``) and the cleaning stages share them.
"""

from __future__ import annotations

import posixpath

#: Canonical language names (the ``programming_language`` column), in Table 28 order.
PALM_LANGUAGES: tuple[str, ...] = (
    "Java",
    "HTML",
    "JavaScript",
    "Python",
    "C",
    "PHP",
    "C#",
    "C++",
    "XML",
    "Ruby",
    "Go",
    "MATLAB",
    "TypeScript",
    "Shell",
    "Rust",
    "SQL",
    "Lua",
    "Jupyter Notebook",
    "Dart",
    "Visual Basic",
    "Perl",
    "R",  # the paper's "S"; R is the S dialect found on GitHub
    "Clojure",
    "Emacs Lisp",
    "Tcl",
)

_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "Java": (".java",),
    "HTML": (".html", ".htm", ".xhtml"),
    "JavaScript": (".js", ".mjs", ".cjs", ".jsx"),
    "Python": (".py", ".pyi", ".pyw"),
    "C": (".c", ".h"),
    "PHP": (".php", ".php3", ".php4", ".php5", ".phtml"),
    "C#": (".cs",),
    "C++": (".cpp", ".cc", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp", ".tcc"),
    "XML": (".xml", ".xsd", ".xsl", ".xslt", ".wsdl"),
    "Ruby": (".rb", ".rake", ".gemspec"),
    "Go": (".go",),
    "MATLAB": (".m",),
    "TypeScript": (".ts", ".tsx", ".mts", ".cts"),
    "Shell": (".sh", ".bash", ".zsh", ".ksh"),
    "Rust": (".rs",),
    "SQL": (".sql",),
    "Lua": (".lua",),
    "Jupyter Notebook": (".ipynb",),
    "Dart": (".dart",),
    "Visual Basic": (".vb", ".bas", ".vbs"),
    "Perl": (".pl", ".pm", ".t"),
    "R": (".r", ".rmd"),  # not ".s": on GitHub that is assembly
    "Clojure": (".clj", ".cljs", ".cljc"),
    "Emacs Lisp": (".el",),
    "Tcl": (".tcl", ".tk"),
}

#: Lower-case extension (with the dot) -> canonical language name.
EXTENSIONS: dict[str, str] = {ext: lang for lang, exts in _BY_LANGUAGE.items() for ext in exts}

# Other spellings found in datasets (The Stack's `lang`, GitHub linguist names) -> canonical.
_ALIASES = {
    "c sharp": "C#",
    "csharp": "C#",
    "cpp": "C++",
    "c plus plus": "C++",
    "js": "JavaScript",
    "ts": "TypeScript",
    "bash": "Shell",
    "sh": "Shell",
    "shell script": "Shell",
    "jupyter": "Jupyter Notebook",
    "jupyter notebooks": "Jupyter Notebook",
    "ipynb": "Jupyter Notebook",
    "vb": "Visual Basic",
    "visual basic .net": "Visual Basic",
    "vba": "Visual Basic",
    "s": "R",
    "elisp": "Emacs Lisp",
    "emacs-lisp": "Emacs Lisp",
    "golang": "Go",
    "matlab": "MATLAB",
}
_CANONICAL = {lang.lower(): lang for lang in PALM_LANGUAGES} | _ALIASES


def extension(path: str) -> str:
    """Lower-case extension of ``path`` with its dot (``"src/A.Java"`` -> ``".java"``)."""
    base = posixpath.basename(path.replace("\\", "/"))
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def language_for_path(path: str) -> str | None:
    """Canonical PaLM language of ``path`` by extension, or None if it is not one of them."""
    return EXTENSIONS.get(extension(path))


def normalize_language(name: str | None) -> str | None:
    """A dataset's language label as a canonical name (``"c++"`` -> ``"C++"``).

    Labels that are not one of PaLM's languages are returned unchanged (stripped), so that the
    cleaning stage can reject them with their own name; None and blank give None.
    """
    if name is None:
        return None
    label = str(name).strip()
    if not label:
        return None
    return _CANONICAL.get(label.lower(), label)


def is_palm_language(name: str | None) -> bool:
    return name in _LANGUAGE_SET


_LANGUAGE_SET = frozenset(PALM_LANGUAGES)
