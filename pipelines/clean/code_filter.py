"""Code: permissive licenses and PaLM's programming languages only (PaLM, section 3).

Applies to components with ``cleaning.license_filter``; other components pass through. A file is
rejected with reason

* ``license`` when its repository's license (``Document.license``, an SPDX id or expression
  set by the code reader with ``pipelines.licenses``) classifies as copyleft, or as unknown
  unless unknown licenses are allowed: by ``--allow-unknown-license`` or for the sources
  matching one of ``--allow-unknown-license-sources`` (fnmatch patterns on
  ``Document.source``, e.g. ``"gs://corp-code/*"`` for code the user owns). Default: reject, since
  an unlicensed repository grants no rights at all ("all rights reserved");
* ``programming_language`` when its language is not one of PaLM's (``pipelines.code_languages``).
  The reader sets ``programming_language`` from the extension; when a source left it empty the
  extension of ``Document.path`` is used here, and a file with neither is rejected.

The license is checked first: a file that fails both is counted under ``license``, the reason that
carries legal weight. Classification rules (MPL/EPL count as copyleft, ``A OR B`` as its most
permissive part) are ``pipelines.licenses.classify``'s.

Stats (``code_filter``): per component, kept and rejected files by reason; kept files per
programming language and per license class.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from typing import Iterable

from mixtures import Mixture
from palmkit import flags
from palmkit.records import Document, Reason
from pipelines import licenses
from pipelines.code_languages import is_palm_language, language_for_path, normalize_language
from pipelines.stage import Decision, FilterStage

STAGE = "code_filter"


@dataclasses.dataclass(frozen=True)
class CodeFilterOptions:
    """``CodeFilter``'s options: ``CorpusConfig.code_filter`` (flags without a prefix)."""

    allow_unknown_license: bool = flags.option(
        False, help="keep code whose repository license is unknown (an unlicensed repository "
                    "grants no rights, so these are rejected unless allowed)")
    allow_unknown_license_sources: tuple[str, ...] = flags.option(
        (), metavar="PATTERN,...",
        help="comma-separated fnmatch patterns of sources whose unknown licenses are allowed "
             "(e.g. gs://corp-code/*, for code you own)")

def allows_unknown(source: str, *, allow_unknown_license: bool = False,
                   allow_unknown_license_sources: Iterable[str] = ()) -> bool:
    """Whether a file from ``source`` may have an unknown license (job or per-source option)."""
    return allow_unknown_license or any(
        fnmatch.fnmatchcase(source, pattern) for pattern in allow_unknown_license_sources
    )


def programming_language_of(doc: Document) -> str | None:
    """The document's canonical language: the reader's label, else its path's extension."""
    return normalize_language(doc.programming_language) or (
        language_for_path(doc.path) if doc.path else None
    )


def code_rejection(doc: Document, *, allow_unknown: bool) -> tuple[str, str] | None:
    """(reason, detail) when the file must go, else None."""
    where = f"{doc.repo or '?'}/{doc.path or '?'}"
    license_class = licenses.classify(doc.license)
    if license_class == licenses.COPYLEFT:
        return Reason.LICENSE, f"{where}: copyleft license {doc.license}"
    if license_class == licenses.UNKNOWN and not allow_unknown:
        return Reason.LICENSE, f"{where}: unknown license {doc.license!r} (allow_unknown_license is off)"
    language = programming_language_of(doc)
    if not is_palm_language(language):
        return Reason.PROGRAMMING_LANGUAGE, (
            f"{where}: programming language {language or doc.programming_language!r} "
            "is not one of PaLM's"
        )
    return None


class CodeFilter(FilterStage):
    """Keep permissively licensed files of PaLM's languages (see the module docstring).

    Built by the corpus job as ``CodeFilter(config, mixture)``; options: ``config.code_filter``
    (``CodeFilterOptions``). Components without ``cleaning.license_filter`` pass through.
    """

    name = STAGE

    def __init__(self, config, mixture: Mixture, *, label: str | None = None):
        super().__init__(mixture, label=label)
        self.options: CodeFilterOptions = config.code_filter

    def applies(self, doc: Document) -> bool:
        return self.mixture.component(doc.component).cleaning.license_filter

    def decide(self, doc: Document) -> Decision:
        o = self.options
        allow = allows_unknown(doc.source, allow_unknown_license=o.allow_unknown_license,
                               allow_unknown_license_sources=o.allow_unknown_license_sources)
        why = code_rejection(doc, allow_unknown=allow)
        if why is not None:
            return doc, why
        return dataclasses.replace(doc, programming_language=programming_language_of(doc)), None

    def stats_key(self, doc: Document, why) -> tuple:
        if why is None:  # ("kept", component, language, license class)
            return "kept", doc.component, doc.programming_language, licenses.classify(doc.license)
        return "rejected", doc.component, why[0]  # ("rejected", component, reason)

    def summarise(self, counts: list) -> dict:
        """[(stats key, n)] -> per component: kept, rejected by reason, kept per language and
        per license class."""
        out: dict[str, dict] = {}
        for item, n in counts:
            row = out.setdefault(item[1], {"kept": 0, "rejected": {}, "languages": {},
                                           "licenses": {}})
            if item[0] == "kept":
                row["kept"] += n
                row["languages"][item[2]] = row["languages"].get(item[2], 0) + n
                row["licenses"][item[3]] = row["licenses"].get(item[3], 0) + n
            else:
                row["rejected"][item[2]] = row["rejected"].get(item[2], 0) + n
        return {"components": out}
