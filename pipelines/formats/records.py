"""Record mapping shared by the formats: a parsed record (JSON object, Parquet row, TFDS example)
-> ``Document``, or this record's ``Reject``; how paths are written in records.

Field types (one bad field rejects its record only, as ``invalid_field`` naming it and its JSON
type): the id is a string or an integer (-> its decimal string; missing, null or "" ->
``make_id`` of source and record; a float, boolean, array or object is rejected); ``path``,
``repo``, ``programming_language`` are strings, ``license`` a string or a list of strings; a
string with an unpaired surrogate is invalid too (Parquet cannot store it). Any other exception
while converting one record is that record's ``invalid_field``. A ``text`` that is not a string
is validation's ``missing_text``. Kept fields (``keep``) never reject: see ``metadata_value``.
Pure functions, no Beam.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING, Any, Mapping

from palmkit.records import Document, Reason, Reject, make_id
from pipelines import code_languages, licenses

if TYPE_CHECKING:  # annotations only: base imports this module
    from pipelines.formats.base import SourceSpec

Output = Document | Reject


def display_path(path: str | bytes) -> str:
    """``path`` as written in records (``source``, details): UTF-8 text whatever the file name.

    Bytes of a name that are not valid UTF-8 (``os`` gives them as surrogate escapes,
    ``"bad\\udcff.jsonl"``) become the text ``\\xff``, because Parquet strings must be UTF-8
    (and ids hash the source); the real path is still the one opened. Valid names are returned
    unchanged, so ids and outputs on good data stay the same.
    """
    if isinstance(path, bytes):
        return path.decode("utf-8", "backslashreplace")
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no file name decodes to
        return path.encode("utf-8", "backslashreplace").decode("utf-8")


def reject(spec: SourceSpec, source: str, record: int, *, reason: str, detail: str,
           text: str | None = None, doc_id: str | None = None) -> Reject:
    """A Reject naming ``source`` and ``record``; ``detail`` may quote raw paths (error messages
    of ``os``): it is made storable with ``display_path``."""
    return Reject(
        id=doc_id or make_id(source, record),
        component=spec.component,
        reason=reason,
        detail=display_path(f"{source}:{record}: {detail}"),
        source=source,
        record=record,
        text=text,
    )


_PLAIN_TYPES = frozenset((str, bytes, int, float, bool, list, dict))


def _plain(value: Any) -> Any:
    """numpy scalars/bytes from Parquet or TFDS -> plain Python values."""
    if value is None or type(value) in _PLAIN_TYPES:
        return value
    if hasattr(value, "item") and not isinstance(value, (bytes, str)):
        return value.item() if getattr(value, "ndim", 0) == 0 else value.tolist()
    return value


class InvalidField(ValueError):
    """A record field of the wrong type; the message names the field and what it is."""


_JSON_TYPES = {str: "string", bytes: "string", int: "number", float: "number", bool: "boolean",
               list: "array", tuple: "array", dict: "object", type(None): "null"}


def _kind(value: Any) -> str:
    """``value``'s JSON type ("a number (float)"), or its Python type (Parquet, TFDS)."""
    name = _JSON_TYPES.get(type(value))
    name = f"{name} ({type(value).__name__})" if name else type(value).__name__
    return ("an " if name[0] in "aeiou" else "a ") + name


def _storable(text: str | None, what: str) -> str | None:
    """``text`` when Parquet can store it (UTF-8: no unpaired surrogate)."""
    if text and not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidField(f"{what} has an unpaired surrogate at character {e.start}") from None
    return text


def _string(value: Any, what: str | tuple[str, str], expected: str = "a string") -> str | None:
    """A string field (bytes from Parquet/TFDS are decoded leniently, as always); None stays.
    ``what``: the field's description, or (field, record field) to describe it on error."""
    if value is None or (type(value) is str and value.isascii()):  # the common case, fast
        return value
    what = _field_name(*what) if isinstance(what, tuple) else what
    value = _plain(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    elif value is not None and not isinstance(value, str):
        raise InvalidField(f"{what} is {_kind(value)}, not {expected}")
    return _storable(value, what)


def _record_id(value: Any, *, what: tuple[str, str], source: str, record: int) -> str:
    """The record's own id: a string, or an integer as its decimal string; none (missing,
    null, "") -> derived from file and position."""
    if type(value) is not str:
        value = _plain(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return _string(value, what, "a string or an integer") or make_id(source, record)


def _license(value: Any, what: tuple[str, str]) -> str | None:
    """A license label or a list of them (The Stack), as an SPDX expression; None stays."""
    if value is None:
        return None
    value = _plain(value)
    if isinstance(value, (list, tuple)):
        item = f"an element of {_field_name(*what)}"
        labels = [_string(v, item, "a string") for v in value]
        return _storable(licenses.normalize_license([v for v in labels if v is not None]),
                         _field_name(*what))
    label = _string(value, what, "a string or a list of strings")
    return None if label is None else _storable(licenses.normalize_license(label), "license")


def _field_name(field: str, record_field: str) -> str:
    mapped = f" (record field {record_field!r})" if field != record_field else ""
    return f"field {field!r}{mapped}"


def record_to_document(row: Mapping[str, Any], *, spec: SourceSpec, source: str,
                       record: int, metadata: Mapping[str, Any] | None = None) -> Output:
    """A parsed record (JSON object, Parquet row, TFDS example) -> Document, or this record's
    Reject: ``invalid_field`` for an id or metadata field of the wrong type, or for any other
    exception while converting it (one record's problem never ends its file).

    ``text`` is passed through as found (validation rejects a missing or non-string one);
    bytes are decoded here, strictly, because only here is the raw value known.

    ``Document.metadata`` is ``metadata`` (what the format itself knows, e.g. a WARC record's
    url and date) updated with the record fields ``spec.keep`` names (``metadata_value``).
    """
    try:
        doc = _record_to_document(row, spec=spec, source=source, record=record)
        if isinstance(doc, Document) and (metadata or spec.keep):
            doc.metadata = kept_metadata(row, keep=spec.keep, extra=metadata)
        return doc
    except Exception as e:  # InvalidField, or anything a strange record may raise
        detail = str(e) if isinstance(e, InvalidField) else \
            f"cannot convert the record: {type(e).__name__}: {e}"
        doc_id, text = _reject_id_text(row, spec, source, record)
        return reject(spec, source, record, reason=Reason.INVALID_FIELD, detail=detail,
                      text=text, doc_id=doc_id)


def metadata_value(value: Any, what: str) -> str | None:
    """A kept field as stored in ``Document.metadata``: a string as it is, bytes decoded
    (invalid UTF-8 replaced), None (null) -> None (left out), any other value JSON-encoded
    (``3`` -> ``"3"``, ``[1, 2]`` -> ``"[1, 2]"``, keys sorted, non-ASCII kept)."""
    value = _plain(value)
    if value is None or isinstance(value, str):
        return _storable(value, what)
    if isinstance(value, bytes):
        return _storable(value.decode("utf-8", errors="replace"), what)
    return _storable(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str), what)


def kept_metadata(row: Mapping[str, Any], *, keep: tuple[str, ...],
                  extra: Mapping[str, Any] | None = None) -> dict[str, str]:
    """``extra`` then the ``keep`` fields of ``row`` (a field missing or null is left out),
    in that order (the order the map is written in)."""
    out: dict[str, str] = {}
    for key, value in [*(extra or {}).items(), *((k, row.get(k)) for k in keep)]:
        text = metadata_value(value, f"kept field {key!r}")
        if text is not None:
            out[str(key)] = text
    return out


def _reject_id_text(row: Any, spec: SourceSpec, source: str, record: int) -> tuple:
    """The record's own id and text for its reject, where they are usable."""
    doc_id = text = None
    with contextlib.suppress(Exception):
        doc_id = _record_id(row.get(spec.id_field), what=("id", spec.id_field), source=source,
                            record=record)
    with contextlib.suppress(Exception):
        text = row.get(spec.text_field)
        text = _storable(text, "text") if isinstance(text, str) else None
    return doc_id, text


def _record_to_document(row: Mapping[str, Any], *, spec: SourceSpec, source: str,
                        record: int) -> Output:
    doc_id = _record_id(row.get(spec.id_field), what=("id", spec.id_field), source=source,
                        record=record)
    text = _plain(row.get(spec.text_field))
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            return reject(spec, source, record, reason=Reason.INVALID_UTF8, doc_id=doc_id,
                          detail=f"text is not valid UTF-8 at byte {e.start}",
                          text=text.decode("utf-8", errors="replace"))
    names = spec.field_map()
    path = _string(row.get(names["path"]), ("path", names["path"]))
    repo = _string(row.get(names["repo"]), ("repo", names["repo"]))
    lic = _license(row.get(names["license"]), ("license", names["license"]))
    lang = _string(row.get(names["programming_language"]),
                   ("programming_language", names["programming_language"]))
    lang = code_languages.normalize_language(lang)
    return Document(
        id=doc_id,
        text=text,
        component=spec.component,
        source=source,
        record=record,
        path=path,
        repo=repo,
        license=lic,
        programming_language=lang or (code_languages.language_for_path(path) if path else None),
    )
