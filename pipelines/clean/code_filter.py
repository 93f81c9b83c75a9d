"""Code: permissive licenses and PaLM's programming languages only (PaLM, section 3).

Applies to components with ``cleaning.license_filter``; other components pass through. A file is
rejected with reason

* ``license`` when its repository's license (``Document.license``, an SPDX id or expression
  set by the code reader with ``pipelines.licenses``) classifies as copyleft, or as unknown
  unless unknown licenses are allowed: by the job option ``allow_unknown_license`` or for the
  sources matching one of ``allow_unknown_license_sources`` (fnmatch patterns on
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

import apache_beam as beam
from apache_beam.metrics import Metrics

from mixtures import Mixture
from palmkit.records import Document, Reason, Reject
from pipelines import licenses
from pipelines.clean import _UNSET, StageOutput, counter_name, option
from pipelines.code_languages import is_palm_language, language_for_path, normalize_language

STAGE = "code_filter"


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


class _CodeFilterFn(beam.DoFn):
    def __init__(self, *, mixture: Mixture, allow_unknown_license: bool,
                 allow_unknown_license_sources: tuple[str, ...]):
        self._mixture = mixture
        self._allow = dict(allow_unknown_license=allow_unknown_license,
                           allow_unknown_license_sources=allow_unknown_license_sources)

    def process(self, doc: Document):
        if not self._mixture.component(doc.component).cleaning.license_filter:
            yield doc
            return
        why = code_rejection(doc, allow_unknown=allows_unknown(doc.source, **self._allow))
        if why is None:
            language = programming_language_of(doc)
            yield beam.pvalue.TaggedOutput("stats", ("kept", doc.component, language,
                                                     licenses.classify(doc.license)))
            yield dataclasses.replace(doc, programming_language=language)
            return
        reason, detail = why
        Metrics.counter(STAGE, counter_name(doc.component, reason)).inc()
        yield beam.pvalue.TaggedOutput("stats", ("rejected", doc.component, reason))
        yield beam.pvalue.TaggedOutput("rejects", Reject.of(doc, reason, detail))


def summarise(counts: list) -> tuple[str, dict]:
    """[(stat tuple, n)] -> the stage's manifest entry."""
    out: dict[str, dict] = {}
    for item, n in sorted(counts):
        row = out.setdefault(item[1], {"kept": 0, "rejected": {}, "languages": {}, "licenses": {}})
        if item[0] == "kept":
            row["kept"] += n
            row["languages"][item[2]] = row["languages"].get(item[2], 0) + n
            row["licenses"][item[3]] = row["licenses"].get(item[3], 0) + n
        else:
            row["rejected"][item[2]] = row["rejected"].get(item[2], 0) + n
    return STAGE, {"components": out}


class CodeFilter(beam.PTransform):
    """Keep permissively licensed files of PaLM's languages (see the module docstring).

    Built by the corpus job as ``CodeFilter(config, mixture)``; reads
    ``config.allow_unknown_license`` (default False) and ``config.allow_unknown_license_sources``
    (default none); keywords override them.
    """

    def __init__(self, config=None, mixture: Mixture | None = None, *,
                 allow_unknown_license=_UNSET, allow_unknown_license_sources=_UNSET,
                 label: str | None = None):
        super().__init__(label)
        if mixture is None:
            raise TypeError("CodeFilter needs the mixture")
        self._fn = _CodeFilterFn(
            mixture=mixture,
            allow_unknown_license=bool(option(config, "allow_unknown_license",
                                              allow_unknown_license, False)),
            allow_unknown_license_sources=tuple(option(
                config, "allow_unknown_license_sources", allow_unknown_license_sources, ())),
        )

    def expand(self, docs):
        out = docs | "FilterCode" >> beam.ParDo(self._fn).with_outputs("rejects", "stats", main="kept")
        stats = (
            out.stats
            | "CountStats" >> beam.combiners.Count.PerElement()
            | "StatList" >> beam.combiners.ToList()
            | "Summarise" >> beam.Map(summarise)
        )
        return StageOutput(kept=out.kept, rejects=out.rejects, stats=stats)
