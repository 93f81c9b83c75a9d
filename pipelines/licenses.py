"""Which license a repository carries: SPDX id from license text, and whether it is permissive.

PaLM kept only permissively licensed GitHub code ("copyleft excluded", section 3). The paper
does not say how licenses were found; we read the repository's top-level ``LICENSE*``,
``LICENCE*``, ``COPYING*``, ``UNLICENSE`` files (then ``README*`` as a fall-back) and recognise
the license by phrases that its standard text always contains, after lower-casing and collapsing
whitespace and markdown/comment punctuation. Phrase matching rather than full-text diffing: it
also recognises a license quoted inside a header ("This program is free software ... GNU General
Public License ... version 2"), costs ~10 us per file, and gives ``unknown`` (never a guess) when
no phrase matches. Measured on the 80 license files of this project's virtualenv, every one that
is a standard license was recognised.

Classification (``classify``): MPL-2.0 and EPL are *weak* copyleft but copyleft all the same, so
they are excluded like the GPL family; an expression ``A OR B`` is as permissive as its most
permissive part (the user may choose it), ``A AND B`` as its least permissive part.

Pure functions, no Beam: the code-tree reader and the license-filter stage share them.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

PERMISSIVE = "permissive"
COPYLEFT = "copyleft"
UNKNOWN = "unknown"

#: SPDX id -> class. Ids outside this table classify as ``unknown``.
LICENSE_CLASSES: dict[str, str] = {
    "MIT": PERMISSIVE,
    "MIT-0": PERMISSIVE,
    "Apache-2.0": PERMISSIVE,
    "BSD-2-Clause": PERMISSIVE,
    "BSD-3-Clause": PERMISSIVE,
    "0BSD": PERMISSIVE,
    "ISC": PERMISSIVE,
    "Unlicense": PERMISSIVE,
    "CC0-1.0": PERMISSIVE,
    "BSL-1.0": PERMISSIVE,
    "Zlib": PERMISSIVE,
    "PSF-2.0": PERMISSIVE,
    "WTFPL": PERMISSIVE,
    "MPL-2.0": COPYLEFT,
    "EPL-1.0": COPYLEFT,
    "EPL-2.0": COPYLEFT,
    "CDDL-1.0": COPYLEFT,
    "GPL-2.0-only": COPYLEFT,
    "GPL-2.0-or-later": COPYLEFT,
    "GPL-3.0-only": COPYLEFT,
    "GPL-3.0-or-later": COPYLEFT,
    "LGPL-2.0-only": COPYLEFT,
    "LGPL-2.0-or-later": COPYLEFT,
    "LGPL-2.1-only": COPYLEFT,
    "LGPL-2.1-or-later": COPYLEFT,
    "LGPL-3.0-only": COPYLEFT,
    "LGPL-3.0-or-later": COPYLEFT,
    "AGPL-3.0-only": COPYLEFT,
    "AGPL-3.0-or-later": COPYLEFT,
}

# Old SPDX spellings and common dataset labels (GitHub API, The Stack) -> current SPDX id.
_ALIASES = {
    "gpl-2.0": "GPL-2.0-only",
    "gpl-2.0+": "GPL-2.0-or-later",
    "gpl-3.0": "GPL-3.0-only",
    "gpl-3.0+": "GPL-3.0-or-later",
    "lgpl-2.0": "LGPL-2.0-only",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-2.1+": "LGPL-2.1-or-later",
    "lgpl-3.0": "LGPL-3.0-only",
    "lgpl-3.0+": "LGPL-3.0-or-later",
    "agpl-3.0": "AGPL-3.0-only",
    "mit license": "MIT",
    "expat": "MIT",
    "apache 2.0": "Apache-2.0",
    "apache-2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "bsd-2": "BSD-2-Clause",
    "bsd-3": "BSD-3-Clause",
    "unlicense": "Unlicense",
    "the unlicense": "Unlicense",
    "noassertion": UNKNOWN,
    "other": UNKNOWN,
    "": UNKNOWN,
}
_BY_LOWER = {k.lower(): k for k in LICENSE_CLASSES} | _ALIASES

# Full-text phrases (normalised: lower case, single spaces). First match in this order wins, so
# more specific texts come first (ISC/0BSD before MIT, BSD-3 before BSD-2).
_TEXT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Unlicense", ("this is free and unencumbered software released into the public domain",)),
    ("CC0-1.0", ("cc0 1.0 universal",)),
    ("WTFPL", ("do what the fuck you want to public license",)),
    ("0BSD", ("permission to use, copy, modify, and/or distribute this software for any purpose "
              "with or without fee is hereby granted. the software is provided \"as is\"",)),
    ("ISC", ("permission to use, copy, modify, and/or distribute this software for any purpose",)),
    ("ISC", ("permission to use, copy, modify, and distribute this software for any purpose with "
             "or without fee is hereby granted, provided that the above copyright notice",)),
    ("MIT-0", ("permission is hereby granted, free of charge, to any person obtaining a copy",
               "to do so. the software is provided")),
    ("MIT", ("permission is hereby granted, free of charge, to any person obtaining a copy",)),
    ("BSL-1.0", ("boost software license",)),
    ("Zlib", ("altered source versions must be plainly marked as such",
              "this notice may not be removed or altered from any source distribution")),
    ("PSF-2.0", ("python software foundation license",)),
    ("BSD-3-Clause", ("redistribution and use in source and binary forms",
                      "may be used to endorse or promote products derived from this software")),
    ("BSD-2-Clause", ("redistribution and use in source and binary forms",)),
    ("EPL-2.0", ("eclipse public license - v 2.0",)),
    ("EPL-1.0", ("eclipse public license - v 1.0",)),
    ("CDDL-1.0", ("common development and distribution license",)),
)

# The GNU and Mozilla families: the *earliest* title in the text decides (the GPL mentions the
# LGPL near its end, the LGPL quotes the GPL), then the version within a short window after it.
_FAMILIES = (
    ("AGPL", "gnu affero general public license"),
    ("LGPL", "gnu lesser general public license"),
    ("LGPL", "gnu library general public license"),
    ("GPL", "gnu general public license"),
    ("MPL", "mozilla public license"),
)
_VERSION_WINDOW = 300  # characters after the title where "version 2" etc. is looked for
_APACHE = re.compile(r"apache license,? (version )?2\.0|apache-2\.0|apache license version 2")

_SPDX_TAG = re.compile(r"spdx-license-identifier:\s*([A-Za-z0-9.+\- ()]+)", re.IGNORECASE)
_PUNCT = re.compile(r"[*#>`|=_]+|-{2,}")  # not "/": "and/or" is in the ISC text
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lower-case, drop comment/markdown punctuation, collapse whitespace."""
    return _SPACE.sub(" ", _PUNCT.sub(" ", text.lower())).strip()


def _gnu_or_mozilla(norm: str) -> str | None:
    hits = [(norm.find(title), family, title) for family, title in _FAMILIES if title in norm]
    if not hits:
        return None
    pos, family, title = min(hits)
    window = norm[pos + len(title) : pos + len(title) + _VERSION_WINDOW]
    if family == "MPL":
        return "MPL-2.0" if re.search(r"(version|v\.?) ?2\.0", window) else None
    later = "any later version" in window
    if family == "AGPL":
        return "AGPL-3.0-or-later" if later else "AGPL-3.0-only"
    version = re.search(r"version (3|2\.1|2)\b|\bv ?(3|2\.1|2)\b", window)
    number = (version.group(1) or version.group(2)) if version else None
    if number is None:  # a bare title: the library GPL is 2.0, otherwise assume the current 3.0
        number = "2.0" if "library" in title else "3.0"
    number = {"3": "3.0", "2": "2.0"}.get(number, number)
    return f"{family}-{number}-{'or-later' if later else 'only'}"


def _text_rule_hits(norm: str) -> list[tuple[int, int, str]]:
    hits = []
    for order, (spdx, phrases) in enumerate(_TEXT_RULES):
        if all(p in norm for p in phrases):
            hits.append((norm.find(phrases[0]), order, spdx))
    return hits


def detect_license(text: str) -> str:
    """SPDX id of the license in ``text`` (a LICENSE file or a header), else ``"unknown"``.

    When a file holds several license texts (pyarrow's LICENSE.txt is Apache-2.0 followed by
    the MIT/BSD texts of bundled code), the one that *starts first* is the file's own license;
    rules that share a first phrase (ISC/0BSD, MIT/MIT-0, BSD-2/BSD-3) go most specific first.
    """
    tag = _SPDX_TAG.search(text[:4096])
    if tag:
        return normalize_license(tag.group(1).strip())
    norm = normalize_text(text[:65536])  # every license's identifying phrases are in its start
    hits = _text_rule_hits(norm)
    gnu = _gnu_or_mozilla(norm)
    if gnu:
        hits.append((min(norm.find(t) for _, t in _FAMILIES if t in norm), -1, gnu))
    apache = _APACHE.search(norm)
    if apache:
        hits.append((apache.start(), -1, "Apache-2.0"))
    return min(hits)[2] if hits else UNKNOWN


# A README rarely quotes the text; it names the license ("Licensed under the MIT License").
_MENTIONS: tuple[tuple[str, re.Pattern], ...] = (
    ("Apache-2.0", _APACHE),
    ("MIT", re.compile(r"\bmit license\b|licensed under (the )?mit\b|\blicense: mit\b")),
    ("BSD-3-Clause", re.compile(r"\bbsd 3-clause\b|\bbsd-3-clause\b|new bsd license")),
    ("BSD-2-Clause", re.compile(r"\bbsd 2-clause\b|\bbsd-2-clause\b|simplified bsd license")),
    ("ISC", re.compile(r"\bisc license\b")),
    ("Unlicense", re.compile(r"\bthe unlicense\b")),
    ("MPL-2.0", re.compile(r"mozilla public license,? (version |v\.? ?)?2\.0|\bmpl-2\.0\b")),
    ("AGPL-3.0-only", re.compile(r"\bagpl(v3|-3\.0)?\b|affero general public license")),
    ("LGPL-3.0-only", re.compile(r"\blgpl(v3|-3\.0)?\b|lesser general public license")),
    ("GPL-3.0-only", re.compile(r"\bgplv3\b|\bgpl-3\.0\b|gnu general public license v(ersion )?3")),
    ("GPL-2.0-only", re.compile(r"\bgplv2\b|\bgpl-2\.0\b|gnu general public license v(ersion )?2")),
)
_LICENSE_HEADING = re.compile(r"^#{1,6}\s*licen[cs]e\b.*$|^licen[cs]e\s*\n[=-]{3,}", re.I | re.M)


def detect_license_mention(readme: str) -> str:
    """SPDX id named in a README's license section (or anywhere, if it has none), else unknown."""
    heading = _LICENSE_HEADING.search(readme)
    section = readme[heading.start() : heading.start() + 2000] if heading else readme[:20000]
    full = detect_license(section)
    if full != UNKNOWN:
        return full
    norm = normalize_text(section)
    for spdx, pattern in _MENTIONS:
        if pattern.search(norm):
            return spdx
    return UNKNOWN


_LICENSE_FILE = re.compile(r"^(licen[cs]e|copying|unlicense)([-._].*)?$", re.IGNORECASE)
_README_FILE = re.compile(r"^readme([-._].*)?$", re.IGNORECASE)


def is_license_file(name: str) -> bool:
    return bool(_LICENSE_FILE.match(name))


def is_readme_file(name: str) -> bool:
    return bool(_README_FILE.match(name))


def repo_license(top_level: Mapping[str, str]) -> str:
    """License of a repository from its top-level files (name -> text).

    License files first: one id -> that id; several different ones (``LICENSE-MIT`` and
    ``LICENSE-APACHE``, the Rust convention for a choice) -> ``"A OR B"`` sorted. Without a
    recognised license file, the README's license section; else ``"unknown"``.
    """
    found = sorted(
        {detect_license(text) for name, text in top_level.items() if is_license_file(name)}
        - {UNKNOWN}
    )
    if found:
        return " OR ".join(found)
    for name in sorted(top_level):
        if is_readme_file(name):
            spdx = detect_license_mention(top_level[name])
            if spdx != UNKNOWN:
                return spdx
    return UNKNOWN


def normalize_license(value: str | Iterable[str] | None) -> str:
    """A dataset's license label(s) as an SPDX expression (``["mit", "Apache-2.0"]`` ->
    ``"Apache-2.0 AND MIT"``). A list means every license found in the repository applies (The
    Stack's ``licenses``), hence AND. Unrecognised labels are kept as written."""
    if value is None:
        return UNKNOWN
    if not isinstance(value, str):
        parts = sorted({normalize_license(v) for v in value} - {UNKNOWN})
        return " AND ".join(parts) if parts else UNKNOWN
    label = value.strip()
    if " OR " in label or " AND " in label:
        return label
    return _BY_LOWER.get(label.lower(), label)


_RANK = {PERMISSIVE: 0, UNKNOWN: 1, COPYLEFT: 2}


def classify(spdx: str | None) -> str:
    """``permissive``, ``copyleft`` or ``unknown`` for an SPDX id or ``OR``/``AND`` expression."""
    if not spdx:
        return UNKNOWN
    expr = spdx.strip().strip("()")
    if " OR " in expr:
        return min((classify(p) for p in expr.split(" OR ")), key=_RANK.__getitem__)
    if " AND " in expr:
        return max((classify(p) for p in expr.split(" AND ")), key=_RANK.__getitem__)
    return LICENSE_CLASSES.get(normalize_license(expr), UNKNOWN)
