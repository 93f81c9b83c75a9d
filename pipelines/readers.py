"""Readers: one work item in, a stream of ``Document | Reject`` out. Pure generators, no Beam.

A work item is the unit Beam distributes: a JSONL file, one Parquet row group, one repository
directory, or a range of 10,000 TFDS records. ``plan`` expands a (source, input) pair into work
items (Parquet footers and TFDS lengths are read there, inside the pipeline), ``read`` yields
exactly one output per input record: a ``Document`` (validated later) or a ``Reject`` for
records that cannot even be parsed. Every record read therefore shows up exactly once.

Failure policy (the job never crashes on bad data; one bad record rejects that record only):

* a JSONL line that is not valid UTF-8 -> ``invalid_utf8``; not JSON or not an object ->
  ``invalid_json``; blank lines are not records and are skipped; a UTF-8 byte-order mark at
  the start of a file (also inside ``.gz``/``.zst``) is ignored; a line over ``line_cap`` (2 x
  ``max_doc_bytes`` + 1 MiB) -> ``too_large``, skipped in bounded memory (``pipelines.lines``);
* a field of the wrong type -> ``invalid_field`` naming it and its JSON type: the id is a string
  or an integer (-> its decimal string; missing, null or "" -> ``make_id`` of file and line; a
  float, boolean, array or object is rejected); ``path``, ``repo``, ``programming_language``
  are strings, ``license`` a string or a list of strings; a string with an unpaired surrogate
  is invalid too (Parquet cannot store it). Any other exception while converting one record is
  that record's ``invalid_field``. A ``text`` that is not a string is validation's
  ``missing_text``;
* a file that cannot be opened or decompressed (corrupt or truncated gzip/zstd) -> one
  ``unreadable`` reject for *the rest of that file*, naming the first line not read; every line
  decoded before the damage is kept (intact zstd frames, gzip members), a partial line just
  before it is part of the rest. The manifest's ``read`` counts outputs: that reject is one;
* a Parquet row group that cannot be decoded (corrupt page, bad checksum) -> rows before the
  damage kept, one ``unreadable`` reject per row after it (the footer gives their number), so
  ``read`` = the footer's rows; an unreadable footer -> one ``unreadable`` reject for the file;
  a row that pyarrow cannot convert (a string column holding invalid UTF-8) -> ``invalid_utf8``;
* a file name that is not valid UTF-8 is read as any other; ``source`` and details write its
  undecodable bytes as ``\\xNN`` (``display_path``) so that Parquet can store them;
* a code file whose extension is not one of PaLM's languages -> ``programming_language``
  without reading it (binaries and images cost nothing); one over the size cap -> ``too_large``
  without reading it.

Files are streamed in chunks (gzip/zstd decompressed on the fly): memory stays at one line,
at most the line cap, whatever the file. Parquet is read in batches of ``PARQUET_BATCH_ROWS``.
Paths go through Beam's ``FileSystems``, so gs:// works everywhere.
"""

from __future__ import annotations

from palmkit.errors import UserError

import contextlib
import dataclasses
import functools
import json
import posixpath
from typing import Any, Iterator, Mapping

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from palmkit.records import Document, Reason, Reject, make_id
from pipelines import code_languages, licenses, lines
from pipelines.validate import DEFAULT_MAX_DOC_BYTES
from pipelines.sources import (FILE, SYMLINK, UNREADABLE, NotRegularFile, RepoEntry, SourceSpec,
                               join, list_repo_files, read_repo_file)

TFDS_RANGE = 10_000  # records per TFDS work item: ~10-50 MB of text, a few seconds of reading
LICENSE_PREFIX_BYTES = 65_536  # licenses are identified by their first phrases
PARQUET_BATCH_ROWS = 1024  # rows decoded at a time: ~1-10 MB of text, not a whole row group
LINE_MARGIN = 1 << 20  # JSONL line cap = 2 x max_doc_bytes + this (id, metadata, JSON syntax)

Output = Document | Reject


class TfdsError(UserError):
    """A TFDS source that cannot be read (missing dataset/split, TensorFlow needed)."""


@dataclasses.dataclass(frozen=True)
class WorkItem:
    spec: SourceSpec  # without its ``inputs`` (kept small: one is pickled per item)
    path: str = ""  # file or repository directory; "" for TFDS
    start: int = 0  # Parquet: row group; TFDS: first record
    stop: int = 0  # TFDS: one past the last record

    def describe(self) -> str:
        if self.spec.format == "parquet":
            return f"{display_path(self.path)} row group {self.start}"
        if self.spec.format == "tfds":
            return f"{tfds_source(self.spec)}[{self.start}:{self.stop}]"
        return display_path(self.path)


def initial_items(specs: list[SourceSpec]) -> list[WorkItem]:
    """One item per matched input (one per TFDS source), to be expanded by ``plan``."""
    items = []
    for spec in specs:
        light = dataclasses.replace(spec, inputs=())
        items += [WorkItem(light, path) for path in spec.inputs] or [WorkItem(light)]
    return items


def plan(item: WorkItem) -> Iterator[WorkItem]:
    """Split an input into work items: Parquet by row group, TFDS by ranges of records."""
    if item.spec.format == "parquet":
        try:
            with _open(item.path) as f:
                n = _parquet_file(f).metadata.num_row_groups
        except Exception:  # unreadable footer: one item, whose read reports it
            n = 1
        yield from (dataclasses.replace(item, start=i) for i in range(n))
    elif item.spec.format == "tfds":
        total = _tfds_length(item.spec)
        for start in range(0, total, TFDS_RANGE):
            yield dataclasses.replace(item, start=start, stop=min(start + TFDS_RANGE, total))
    else:
        yield item


def read(item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
    """Every record of ``item``, each exactly once, as a Document or a Reject."""
    fmt = item.spec.format
    if fmt == "jsonl":
        return read_jsonl(item, max_doc_bytes=max_doc_bytes)
    if fmt == "parquet":
        return read_parquet_row_group(item)
    if fmt == "code_tree":
        return read_code_tree(item, max_doc_bytes=max_doc_bytes)
    return read_tfds_range(item)


# -- shared record handling -------------------------------------------------------------------


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
                       record: int) -> Output:
    """A parsed record (JSON object, Parquet row, TFDS example) -> Document, or this record's
    Reject: ``invalid_field`` for an id or metadata field of the wrong type, or for any other
    exception while converting it (one record's problem never ends its file).

    ``text`` is passed through as found (validation rejects a missing or non-string one);
    bytes are decoded here, strictly, because only here is the raw value known.
    """
    try:
        return _record_to_document(row, spec=spec, source=source, record=record)
    except Exception as e:  # InvalidField, or anything a strange record may raise
        detail = str(e) if isinstance(e, InvalidField) else \
            f"cannot convert the record: {type(e).__name__}: {e}"
        doc_id, text = _reject_id_text(row, spec, source, record)
        return reject(spec, source, record, reason=Reason.INVALID_FIELD, detail=detail,
                      text=text, doc_id=doc_id)


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


# -- JSONL ------------------------------------------------------------------------------------


def _open(path: str):
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def line_cap(max_doc_bytes: int) -> int:
    """The longest JSONL line parsed: a document at the size cap written as JSON, whose
    ``\\uXXXX`` escapes double non-ASCII text (``ensure_ascii``), plus id, metadata and syntax.
    A longer line cannot hold a document within the cap (but in the rare case of text mostly of
    escaped control characters or astral characters): it is ``too_large`` unparsed."""
    return 2 * max_doc_bytes + LINE_MARGIN


def parse_json_line(raw: bytes, *, spec: SourceSpec, source: str, line: int) -> Output:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return reject(spec, source, line, reason=Reason.INVALID_UTF8,
                      detail=f"line is not valid UTF-8 at byte {e.start}",
                      text=raw.decode("utf-8", errors="replace"))
    try:
        obj = json.loads(decoded)
    except (ValueError, RecursionError) as e:
        return reject(spec, source, line, reason=Reason.INVALID_JSON,
                      detail=f"not valid JSON: {e}", text=decoded)
    if not isinstance(obj, dict):
        return reject(spec, source, line, reason=Reason.INVALID_JSON,
                      detail=f"a JSON {type(obj).__name__}, not an object", text=decoded)
    return record_to_document(obj, spec=spec, source=source, record=line)


def _file_lines(path: str, cap: int) -> Iterator[bytes | lines.LongLine]:
    with _open(path) as f:
        yield from lines.read_lines(f, path, max_line_bytes=cap)


def read_jsonl(item: WorkItem, *, max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES) -> Iterator[Output]:
    """Records of a JSONL file; ``record`` is the 1-based line number.

    Only a failure to read (open, decompress) ends the file, with one ``unreadable`` reject
    from the first line not read on; a line over ``line_cap(max_doc_bytes)`` is ``too_large``.
    """
    spec, source = item.spec, display_path(item.spec.source_name(item.path))
    cap = line_cap(max_doc_bytes)
    line = 0
    with contextlib.closing(_file_lines(item.path, cap)) as stream:
        while True:
            try:
                raw = next(stream)
            except StopIteration:
                return
            except Exception as e:  # OSError, EOFError (truncated gzip/zstd), ZstdError, ...
                yield reject(spec, source, line + 1, reason=Reason.UNREADABLE,
                             detail=f"cannot read {item.path} from line {line + 1} on: "
                                    f"{type(e).__name__}: {e}")
                return
            line += 1
            if isinstance(raw, lines.LongLine):
                yield reject(spec, source, line, reason=Reason.TOO_LARGE,
                             detail=f"line of {raw.nbytes} bytes > line cap {cap} (2 x cap "
                                    f"{max_doc_bytes} + {LINE_MARGIN}): not parsed")
            elif raw.strip():
                yield parse_json_line(raw.rstrip(b"\r\n"), spec=spec, source=source, line=line)


# -- Parquet ----------------------------------------------------------------------------------


def _parquet_file(f):
    import pyarrow.parquet as pq

    # Page checksums, where the writer stored them, turn silent corruption into a read error.
    return pq.ParquetFile(f, page_checksum_verification=True)


def _batch_rows(batch) -> list:
    """Rows of a record batch as dicts; when the batch cannot be converted (a string column
    with invalid UTF-8), row by row, with the exception in place of each row that fails."""
    if not batch.num_columns:
        return [{}] * batch.num_rows
    try:
        return batch.to_pylist()
    except Exception:
        rows = []
        for i in range(batch.num_rows):
            try:
                rows.append(batch.slice(i, 1).to_pylist()[0])
            except Exception as e:
                rows.append(e)
        return rows


def read_parquet_row_group(item: WorkItem) -> Iterator[Output]:
    """Rows of one row group, decoded ``PARQUET_BATCH_ROWS`` at a time; ``record`` is the
    0-based row index in the file. Rows that cannot be decoded are one ``unreadable`` reject
    each (their number is in the footer); an unreadable footer is one reject for the file."""
    spec, source = item.spec, display_path(item.spec.source_name(item.path))
    with contextlib.ExitStack() as stack:
        try:
            pf = _parquet_file(stack.enter_context(_open(item.path)))
            meta = pf.metadata
            first = sum(meta.row_group(i).num_rows for i in range(item.start))
            total = meta.row_group(item.start).num_rows
        except Exception as e:
            yield reject(spec, source, 0, reason=Reason.UNREADABLE,
                         detail=f"cannot read the footer of {item.path}: "
                                f"{type(e).__name__}: {e}")
            return
        done, error = 0, None
        try:
            wanted = {spec.text_field, spec.id_field, *spec.field_map().values()}
            columns = [c for c in pf.schema_arrow.names if c in wanted]
            batches = pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=[item.start],
                                      columns=columns)
        except Exception as e:
            batches, error = iter(()), e
        while done < total and error is None:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except Exception as e:  # corrupt page, bad checksum, unreadable bytes
                error = e
                break
            for row in _batch_rows(batch):
                record = first + done
                if isinstance(row, Exception):  # a value pyarrow cannot convert (bad UTF-8)
                    bad_utf8 = isinstance(row, UnicodeDecodeError)
                    yield reject(spec, source, record, detail=f"{type(row).__name__}: {row}",
                                 reason=Reason.INVALID_UTF8 if bad_utf8 else Reason.UNREADABLE)
                else:
                    yield record_to_document(row, spec=spec, source=source, record=record)
                done += 1
    if done < total:
        why = (f"{type(error).__name__}: {str(error)[:500]}" if error else
               "fewer rows than its footer says")
        detail = (f"row group {item.start} of {item.path} unreadable from row {first + done} on "
                  f"({total - done} of its {total} rows): {why}")
        for record in range(first + done, first + total):
            yield reject(spec, source, record, reason=Reason.UNREADABLE, detail=detail)


# -- code trees -------------------------------------------------------------------------------


def detect_repo_license(repo: str, files: list[RepoEntry]) -> str:
    """The repository's SPDX license from its top-level license and README files (regular
    files only: a link named LICENSE is not followed, a FIFO named README never opened)."""
    top = {}
    for entry in files:
        rel = entry.rel
        if (entry.kind == FILE and rel and "/" not in rel
                and (licenses.is_license_file(rel) or licenses.is_readme_file(rel))):
            with contextlib.suppress(OSError):
                top[rel] = read_repo_file(join(repo, rel), LICENSE_PREFIX_BYTES).decode(
                    "utf-8", errors="replace")
    return licenses.repo_license(top)


def read_code_tree(item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
    """One output per entry of a repository (``record`` 0: one file, one record).

    Every entry ``list_repo_files`` lists is a record and ends as a Document or a Reject,
    never lost and never a crash: a symbolic link (to a file, a directory, nowhere or itself,
    and a repository that is itself a link) -> ``symlink``, not followed, so a code tree never
    takes the reader elsewhere; a FIFO, socket or device -> ``special_file`` naming its kind,
    never opened (a FIFO would block the worker forever); a subdirectory that cannot be listed
    -> ``unreadable``. File names that are not valid UTF-8 are read like any other, with their
    undecodable bytes written as ``\\xNN`` in ``source`` and ``path`` (``display_path``).
    """
    spec, repo = item.spec, item.path
    try:
        files = list_repo_files(repo, spec.skip_dirs)
    except OSError as e:
        source = display_path(spec.source_name(repo))
        yield reject(spec, source, 0, reason=Reason.UNREADABLE,
                     detail=f"cannot list repository {display_path(repo)}: {e}")
        return
    license_id = detect_repo_license(repo, files)
    repo_name = display_path(posixpath.basename(repo.rstrip("/").replace("\\", "/")))
    for entry in files:
        yield read_code_file(item, rel=entry.rel, size=entry.size, repo_name=repo_name,
                             license_id=license_id, max_doc_bytes=max_doc_bytes,
                             kind=entry.kind, note=entry.detail)


def read_code_file(item: WorkItem, *, rel: str, size: int, repo_name: str, license_id: str,
                   max_doc_bytes: int, kind: str = FILE, note: str = "") -> Output:
    """One entry of a repository -> Document or Reject; ``kind``/``note`` as listed
    (``RepoEntry``): only regular files are opened, and only those in one of PaLM's languages
    and within the size cap."""
    spec, path = item.spec, join(item.path, rel)
    source = display_path(spec.source_name(path))
    if kind == SYMLINK:
        what = "symbolic link" if rel else "repository is a symbolic link"
        return reject(spec, source, 0, reason=Reason.SYMLINK,
                      detail=f"{what} to {display_path(note)}: not followed")
    if kind == UNREADABLE:
        return reject(spec, source, 0, reason=Reason.UNREADABLE, detail=note)
    if kind != FILE:
        return reject(spec, source, 0, reason=Reason.SPECIAL_FILE, detail=f"{kind}: never opened")
    lang = code_languages.language_for_path(rel)
    if lang is None:
        ext = display_path(code_languages.extension(rel) or "(none)")
        return reject(spec, source, 0, reason=Reason.PROGRAMMING_LANGUAGE,
                      detail=f"extension {ext} is not one of PaLM's 24 languages")
    if size > max_doc_bytes:
        return reject(spec, source, 0, reason=Reason.TOO_LARGE,
                      detail=f"{size} bytes > cap {max_doc_bytes}")
    try:
        data = read_repo_file(path, max_doc_bytes + 1)
    except NotRegularFile as e:  # replaced between listing and reading
        reason = Reason.SYMLINK if e.kind == SYMLINK else Reason.SPECIAL_FILE
        return reject(spec, source, 0, reason=reason,
                      detail=f"became a {e.kind} after listing: not read")
    except OSError as e:
        return reject(spec, source, 0, reason=Reason.UNREADABLE, detail=f"cannot read: {e}")
    if len(data) > max_doc_bytes:  # grew since listing
        return reject(spec, source, 0, reason=Reason.TOO_LARGE,
                      detail=f"more than cap {max_doc_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        reason = Reason.BINARY if b"\x00" in data else Reason.INVALID_UTF8
        return reject(spec, source, 0, reason=reason,
                      detail=f"not UTF-8 text (byte {e.start})",
                      text=None if reason == Reason.BINARY else data.decode(errors="replace"))
    return Document(id=make_id(source, 0), text=text, component=spec.component, source=source,
                    record=0, path=display_path(rel), repo=repo_name, license=license_id,
                    programming_language=lang)


# -- TFDS -------------------------------------------------------------------------------------


def _base_split(split: str) -> str:
    return split.split("[", 1)[0]


def _tfds_builder(spec: SourceSpec):
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(spec.tfds_name, data_dir=spec.data_dir)
    except Exception as e:  # DatasetNotFoundError and friends
        where = spec.data_dir or "the default TFDS data_dir"
        raise TfdsError(f"TFDS dataset {spec.tfds_name} not found in {where}: "
                        f"{str(e).splitlines()[0]}") from None


def _is_array_record(builder) -> bool:
    return "array_record" in str(builder.info.file_format).lower()


def check_tfds(spec: SourceSpec) -> None:
    """Fail early: dataset and split prepared, and readable without TensorFlow (or TF present)."""
    builder = _tfds_builder(spec)
    splits = list(builder.info.splits)
    if _base_split(spec.split) not in splits:
        raise TfdsError(f"split {spec.split!r} of {spec.tfds_name} is not prepared in "
                        f"{builder.data_dir} (prepared: {splits or 'none'}); prepare it with "
                        f"`tfds build {spec.tfds_name} --file_format=array_record`")
    if not _is_array_record(builder):
        try:
            import tensorflow  # noqa: F401
        except ImportError:
            raise TfdsError(
                f"{spec.tfds_name} is stored as {builder.info.file_format}, which only "
                f"TensorFlow reads: install the extra (pip install 'palmkit[tensorflow]') or "
                f"rebuild it with --file_format=array_record") from None


@functools.lru_cache(maxsize=8)
def _tfds_source(name: str, split: str, data_dir: str | None):
    """Random-access reader (array_record: no TensorFlow), cached per worker process."""
    import tensorflow_datasets as tfds

    return tfds.data_source(name, split=split, data_dir=data_dir)


def _tfds_length(spec: SourceSpec) -> int:
    builder = _tfds_builder(spec)
    if _is_array_record(builder):
        return len(_tfds_source(spec.tfds_name, spec.split, spec.data_dir))
    return builder.info.splits[spec.split].num_examples


def _tfds_examples(spec: SourceSpec, start: int, stop: int) -> Iterator[Mapping[str, Any]]:
    builder = _tfds_builder(spec)
    if _is_array_record(builder):
        source = _tfds_source(spec.tfds_name, spec.split, spec.data_dir)
        for i in range(start, stop):
            yield source[i]
    else:  # TFRecord: TensorFlow is installed (check_tfds made sure)
        import tensorflow_datasets as tfds

        base = _base_split(spec.split)
        yield from tfds.as_numpy(builder.as_dataset(split=f"{base}[{start}:{stop}]"))


def tfds_source(spec: SourceSpec) -> str:
    return display_path(f"tfds:{spec.tfds_name}/{spec.split}")


def read_tfds_range(item: WorkItem) -> Iterator[Output]:
    """Records ``start..stop`` of a TFDS split; ``record`` is the 0-based index in the split."""
    spec = item.spec
    source = tfds_source(spec)
    next_record = item.start
    try:
        for i, example in enumerate(_tfds_examples(spec, item.start, item.stop), item.start):
            yield record_to_document(example, spec=spec, source=source, record=i)
            next_record = i + 1
        return
    except Exception as e:
        yield reject(spec, source, next_record, reason=Reason.UNREADABLE,
                     detail=f"cannot read records {next_record}..{item.stop - 1}: "
                            f"{type(e).__name__}: {e}")
