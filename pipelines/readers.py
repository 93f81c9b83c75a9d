"""Readers: one work item in, a stream of ``Document | Reject`` out. Pure generators, no Beam.

A work item is the unit Beam distributes: a JSONL file, one Parquet row group, one repository
directory, or a range of 10,000 TFDS records. ``plan`` expands a (source, input) pair into work
items (Parquet footers and TFDS lengths are read there, inside the pipeline), ``read`` yields
exactly one output per input record: a ``Document`` (validated later) or a ``Reject`` for
records that cannot even be parsed. Every record read therefore shows up exactly once.

Failure policy (the job never crashes on bad data):

* a JSONL line that is not valid UTF-8 -> ``invalid_utf8``; not JSON or not an object ->
  ``invalid_json``; blank lines are not records and are skipped;
* a file that cannot be opened or decompressed (truncated gzip, corrupt zstd) -> one
  ``unreadable`` reject for *the rest of that file*, naming it and the first line not read;
  the records before the damage stay valid;
* a code file whose extension is not one of PaLM's languages -> ``programming_language``
  without reading it (binaries and images cost nothing); one over the size cap -> ``too_large``
  without reading it.

Files are streamed line by line (gzip/zstd decompressed on the fly): memory stays at one line
whatever the file size. Paths go through Beam's ``FileSystems``, so gs:// works everywhere.
"""

from __future__ import annotations

from palmkit.errors import UserError

import contextlib
import dataclasses
import functools
import gzip
import io
import json
import posixpath
from typing import Any, Iterator, Mapping

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from palmkit.records import Document, Reason, Reject, make_id
from pipelines import code_languages, licenses
from pipelines.sources import SourceSpec, join, list_repo_files

TFDS_RANGE = 10_000  # records per TFDS work item: ~10-50 MB of text, a few seconds of reading
LICENSE_PREFIX_BYTES = 65_536  # licenses are identified by their first phrases

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
            return f"{self.path} row group {self.start}"
        if self.spec.format == "tfds":
            return f"tfds:{self.spec.tfds_name}/{self.spec.split}[{self.start}:{self.stop}]"
        return self.path


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
        return read_jsonl(item)
    if fmt == "parquet":
        return read_parquet_row_group(item)
    if fmt == "code_tree":
        return read_code_tree(item, max_doc_bytes=max_doc_bytes)
    return read_tfds_range(item)


# -- shared record handling -------------------------------------------------------------------


def reject(spec: SourceSpec, source: str, record: int, *, reason: str, detail: str,
           text: str | None = None, doc_id: str | None = None) -> Reject:
    return Reject(
        id=doc_id or make_id(source, record),
        component=spec.component,
        reason=reason,
        detail=f"{source}:{record}: {detail}",
        source=source,
        record=record,
        text=text,
    )


def _plain(value: Any) -> Any:
    """numpy scalars/bytes from Parquet or TFDS -> plain Python values."""
    if hasattr(value, "item") and not isinstance(value, (bytes, str)):
        return value.item() if getattr(value, "ndim", 0) == 0 else value.tolist()
    return value


def _as_str(value: Any) -> str | None:
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def record_to_document(row: Mapping[str, Any], *, spec: SourceSpec, source: str,
                       record: int) -> Output:
    """A parsed record (JSON object, Parquet row, TFDS example) -> Document.

    ``text`` is passed through as found (validation rejects a missing or non-string one);
    bytes are decoded here, strictly, because only here is the raw value known.
    """
    raw_id = _as_str(row.get(spec.id_field))
    doc_id = raw_id if raw_id else make_id(source, record)
    text = _plain(row.get(spec.text_field))
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            return reject(spec, source, record, reason=Reason.INVALID_UTF8, doc_id=doc_id,
                          detail=f"text is not valid UTF-8 at byte {e.start}",
                          text=text.decode("utf-8", errors="replace"))
    names = spec.field_map()
    path = _as_str(row.get(names["path"]))
    lic = _plain(row.get(names["license"]))
    lang = code_languages.normalize_language(_as_str(row.get(names["programming_language"])))
    return Document(
        id=doc_id,
        text=text,
        component=spec.component,
        source=source,
        record=record,
        path=path,
        repo=_as_str(row.get(names["repo"])),
        license=licenses.normalize_license(lic) if lic is not None else None,
        programming_language=lang or (code_languages.language_for_path(path) if path else None),
    )


# -- JSONL ------------------------------------------------------------------------------------


def _open(path: str):
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


@contextlib.contextmanager
def open_lines(path: str) -> Iterator[io.BufferedIOBase]:
    """A binary line stream of ``path``, decompressing ``.gz``/``.zst`` by extension."""
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(_open(path))
        if path.endswith(".gz"):
            yield stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
        elif path.endswith(".zst"):
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
            yield stack.enter_context(io.BufferedReader(reader, buffer_size=1 << 20))
        else:
            yield raw


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


def read_jsonl(item: WorkItem) -> Iterator[Output]:
    """Records of a JSONL file; ``record`` is the 1-based line number."""
    spec, source = item.spec, item.spec.source_name(item.path)
    line = 0
    try:
        with open_lines(item.path) as f:
            for line, raw in enumerate(f, 1):
                if raw.strip():
                    yield parse_json_line(raw.rstrip(b"\r\n"), spec=spec, source=source,
                                          line=line)
            return
    except Exception as e:  # OSError, EOFError (truncated gzip), zstd.ZstdError, ...
        yield reject(spec, source, line + 1, reason=Reason.UNREADABLE,
                     detail=f"cannot read {item.path} from line {line + 1} on: "
                            f"{type(e).__name__}: {e}")


# -- Parquet ----------------------------------------------------------------------------------


def _parquet_file(f):
    import pyarrow.parquet as pq

    return pq.ParquetFile(f)


def read_parquet_row_group(item: WorkItem) -> Iterator[Output]:
    """Rows of one row group; ``record`` is the 0-based row index in the file."""
    spec, source = item.spec, item.spec.source_name(item.path)
    first = 0
    try:
        with _open(item.path) as f:
            pf = _parquet_file(f)
            meta = pf.metadata
            first = sum(meta.row_group(i).num_rows for i in range(item.start))
            wanted = {spec.text_field, spec.id_field, *spec.field_map().values()}
            columns = [c for c in pf.schema_arrow.names if c in wanted]
            rows = pf.read_row_group(item.start, columns=columns).to_pylist()
    except Exception as e:
        yield reject(spec, source, first, reason=Reason.UNREADABLE,
                     detail=f"cannot read row group {item.start} of {item.path}: "
                            f"{type(e).__name__}: {e}")
        return
    for i, row in enumerate(rows):
        yield record_to_document(row, spec=spec, source=source, record=first + i)


# -- code trees -------------------------------------------------------------------------------


def _read_bytes(path: str, limit: int | None = None) -> bytes:
    with _open(path) as f:
        return f.read() if limit is None else f.read(limit)


def detect_repo_license(repo: str, files: list[tuple[str, int]]) -> str:
    top = {}
    for rel, _ in files:
        if "/" not in rel and (licenses.is_license_file(rel) or licenses.is_readme_file(rel)):
            with contextlib.suppress(OSError):
                top[rel] = _read_bytes(join(repo, rel), LICENSE_PREFIX_BYTES).decode(
                    "utf-8", errors="replace")
    return licenses.repo_license(top)


def read_code_tree(item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
    """One Document per source file of a repository (``record`` 0: one file, one record)."""
    spec, repo = item.spec, item.path
    try:
        files = list_repo_files(repo, spec.skip_dirs)
    except OSError as e:
        source = spec.source_name(repo)
        yield reject(spec, source, 0, reason=Reason.UNREADABLE,
                     detail=f"cannot list repository {repo}: {e}")
        return
    license_id = detect_repo_license(repo, files)
    repo_name = posixpath.basename(repo.rstrip("/").replace("\\", "/"))
    for rel, size in files:
        yield read_code_file(item, rel=rel, size=size, repo_name=repo_name,
                             license_id=license_id, max_doc_bytes=max_doc_bytes)


def read_code_file(item: WorkItem, *, rel: str, size: int, repo_name: str, license_id: str,
                   max_doc_bytes: int) -> Output:
    spec, path = item.spec, join(item.path, rel)
    source = spec.source_name(path)
    lang = code_languages.language_for_path(rel)
    if lang is None:
        ext = code_languages.extension(rel) or "(none)"
        return reject(spec, source, 0, reason=Reason.PROGRAMMING_LANGUAGE,
                      detail=f"extension {ext} is not one of PaLM's 24 languages")
    if size > max_doc_bytes:
        return reject(spec, source, 0, reason=Reason.TOO_LARGE,
                      detail=f"{size} bytes > cap {max_doc_bytes}")
    try:
        data = _read_bytes(path)
    except OSError as e:
        return reject(spec, source, 0, reason=Reason.UNREADABLE, detail=f"cannot read: {e}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        reason = Reason.BINARY if b"\x00" in data else Reason.INVALID_UTF8
        return reject(spec, source, 0, reason=reason,
                      detail=f"not UTF-8 text (byte {e.start})",
                      text=None if reason == Reason.BINARY else data.decode(errors="replace"))
    return Document(id=make_id(source, 0), text=text, component=spec.component, source=source,
                    record=0, path=rel, repo=repo_name, license=license_id,
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


def read_tfds_range(item: WorkItem) -> Iterator[Output]:
    """Records ``start..stop`` of a TFDS split; ``record`` is the 0-based index in the split."""
    spec = item.spec
    source = f"tfds:{spec.tfds_name}/{spec.split}"
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
