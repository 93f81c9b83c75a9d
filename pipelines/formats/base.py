"""What a source format is: the interface, the resolved sources entry and the work item.

A format (``SourceFormat``) is one class behind one interface, after seqio's ``DataSource``
(``list_shards`` -> ``work_items``/``plan``, ``get_dataset`` -> ``read``). It owns everything
that differs between formats, so the job, the sources file and the readers never ask which
format they hold:

* parsing the sources file: ``keys`` (the YAML keys it takes besides ``COMMON_KEYS``),
  ``parse`` (those keys of an entry -> ``SourceSpec``; ``SourceError``), ``check`` (pre-flight:
  can it be read at all), ``summary`` (what the manifest records about it);
* at launch: ``text_bytes`` (estimated text, sizes the output shards), ``work_items`` (one per
  matched input; no file is opened);
* in the pipeline: ``plan`` (an item -> the items Beam distributes: Parquet row groups, TFDS
  ranges), ``read`` (an item -> one ``Document | Reject`` per record; never raises on bad
  data), ``describe_item`` (an item in logs).

Formats are stateless; ``pipelines.formats.FORMATS`` maps each name to its class. Formats read
from files matched by a ``path`` glob derive from ``PathFormat``, which does the matching, the
size estimate and the summary.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, ClassVar, Iterator

from palmkit.errors import UserError
from palmkit.paths import is_remote
from pipelines import fs
from pipelines.formats.records import Output, display_path

#: Document fields a sources entry may map to the record's own field names (``fields``).
MAPPABLE_FIELDS = ("path", "repo", "license", "programming_language")
#: Keys every sources entry takes, whatever its format.
COMMON_KEYS = frozenset({"format", "id_field", "fields", "keep"})


class SourceError(UserError):
    """A sources file that cannot be used; the message names the file, entry and problem."""


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """One entry of the sources file, resolved: ``inputs`` are the matched files/directories."""

    component: str
    format: str  # a name in pipelines.formats.FORMATS
    pattern: str = ""  # the resolved glob (absolute path or URL); "" for a format without paths
    inputs: tuple[str, ...] = ()  # what the glob matched
    base: str = ""  # the YAML file's folder: ``source`` names are written relative to it
    text_field: str = "text"
    id_field: str = "id"
    fields: tuple[tuple[str, str], ...] = ()  # (Document field, record field)
    keep: tuple[str, ...] = ()  # record fields copied into Document.metadata (sources ``keep``)
    options: Any = None  # the format's own keys, resolved (a frozen dataclass of the format)
    summary: tuple[tuple[str, Any], ...] = ()  # the format's ``summary``, for the manifest

    def field_map(self) -> dict[str, str]:
        mapped = dict(self.fields)
        return {f: mapped.get(f, f) for f in MAPPABLE_FIELDS}

    def source_name(self, path: str) -> str:
        """How ``path`` is written in ``Document.source`` (and hashed into ids): relative to the
        sources file's folder when inside it (a local folder or a URL's), so outputs do not
        change when the corpus moves, or moves to a bucket."""
        if self.base and not is_remote(path) and path.startswith(self.base.rstrip(os.sep) + os.sep):
            return os.path.relpath(path, self.base).replace(os.sep, "/")
        if self.base and is_remote(path) and path.startswith(self.base.rstrip("/") + "/"):
            return path[len(self.base.rstrip("/")) + 1:]  # a sources file at a URL: the same
        return path

    def describe(self) -> dict[str, Any]:
        """JSON-able summary for the manifest (paths relative to the sources file)."""
        kept = {"keep": list(self.keep)} if self.keep else {}
        return {"component": self.component, "format": self.format, **dict(self.summary), **kept}


@dataclasses.dataclass(frozen=True)
class WorkItem:
    """The unit Beam distributes: a file, a Parquet row group, a repository, a TFDS range."""

    spec: SourceSpec  # without its ``inputs`` (kept small: one is pickled per item)
    path: str = ""  # file or repository directory; "" for a format without paths
    start: int = 0  # e.g. Parquet: row group; TFDS: first record
    stop: int = 0  # e.g. TFDS: one past the last record


class SourceFormat:
    """The interface of a format; the defaults suit a format with one work item per input."""

    #: YAML keys this format takes besides ``COMMON_KEYS`` (``text_field`` when it has one).
    keys: ClassVar[frozenset[str]] = frozenset()

    def parse(self, entry: dict[str, Any], spec: SourceSpec, *, where: str) -> SourceSpec:
        """``spec`` (common keys parsed) completed from this format's keys of ``entry``:
        inputs matched, ``options`` set. Raises ``SourceError`` starting with ``where``."""
        return spec

    def check(self, spec: SourceSpec) -> None:
        """Fail before the pipeline when the source cannot be read at all (a dataset that is
        not prepared, a library missing): raise a ``UserError`` or ``OSError``; the sources
        file names the entry."""

    def summary(self, spec: SourceSpec) -> dict[str, Any]:
        """What the manifest records about the source, besides component and format."""
        return {}

    def text_bytes(self, spec: SourceSpec) -> int:
        """Estimated text bytes, from what is known at launch (sizes the output shards)."""
        raise NotImplementedError

    def work_items(self, spec: SourceSpec) -> list[WorkItem]:
        """One item per matched input, or one for a source without inputs."""
        light = dataclasses.replace(spec, inputs=())
        return [WorkItem(light, path) for path in spec.inputs] or [WorkItem(light)]

    def plan(self, item: WorkItem) -> Iterator[WorkItem]:
        """Split an item into the items Beam distributes (runs inside the pipeline, so it may
        open files: Parquet footers, TFDS lengths)."""
        yield item

    def read(self, item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
        """Every record of ``item``, each exactly once, as a Document or a Reject; bad data is
        a Reject, never an exception (see ``pipelines.readers`` for the failure policy)."""
        raise NotImplementedError

    def describe_item(self, item: WorkItem) -> str:
        """``item`` in logs."""
        return display_path(item.path)


class PathFormat(SourceFormat):
    """A format read from the files a ``path`` glob matches (jsonl, parquet; code_tree matches
    directories)."""

    keys = frozenset({"path", "text_field"})
    matches = "file"  # what the glob must match, in "no file matches ..."

    def parse(self, entry: dict[str, Any], spec: SourceSpec, *, where: str) -> SourceSpec:
        if "path" not in entry:
            raise SourceError(f"{where}: format {spec.format} needs a 'path'")
        pattern = fs.resolve(str(entry["path"]), spec.base)
        try:
            inputs = self.match(pattern)
        except OSError as e:
            raise SourceError(f"{where}: {e}") from None
        if not inputs:
            raise SourceError(f"{where}: no {self.matches} matches {pattern}")
        return dataclasses.replace(spec, pattern=pattern, inputs=inputs,
                                   options=self.options(entry, where=where))

    def match(self, pattern: str) -> tuple[str, ...]:
        return fs.match_files(pattern)

    def options(self, entry: dict[str, Any], *, where: str) -> Any:
        """The format's own keys of ``entry`` besides ``path``, resolved (None: none)."""
        return None

    def summary(self, spec: SourceSpec) -> dict[str, Any]:
        return {"path": spec.source_name(spec.pattern), "inputs": len(spec.inputs)}

    def text_bytes(self, spec: SourceSpec) -> int:
        return input_text_bytes(spec.inputs)


#: Compressed inputs hold about this many times their size in text (JSONL of prose/code, zstd/gzip).
COMPRESSION_RATIO = {".gz": 4, ".zst": 4, ".bz2": 5}


def input_text_bytes(files: tuple[str, ...] | list[str], dirs: tuple[str, ...] | list[str] = ()
                     ) -> int:
    """Estimated text bytes in ``files`` and everything under ``dirs``, from sizes at launch
    (compressed files count ``COMPRESSION_RATIO`` times their size)."""
    total = 0
    for pattern in [*files, *(d.rstrip("/") + "/**" for d in dirs)]:
        for path, size in fs.list_files(pattern):
            total += size * COMPRESSION_RATIO.get(os.path.splitext(path)[1], 1)
    return total
