"""The sources file: which inputs feed which mixture component.

A YAML file the user writes; relative paths are relative to the YAML file's folder, absolute
paths and URLs (``gs://...``) are taken as they are::

    components:
      code:
        - {format: code_tree, path: "repos/*"}          # one directory per repository
        - {format: parquet, path: "stack/*.parquet", text_field: content,
           fields: {repo: max_stars_repo_name, license: max_stars_repo_licenses, path: path}}
      web:
        - {format: jsonl, path: "web/*.jsonl.gz", text_field: text}
      wikipedia:
        - {format: tfds, name: "wiki40b/en", split: train}   # data_dir optional

Formats and their keys (every source also takes ``id_field``, default ``id``, and ``fields``):

* ``jsonl``: ``path`` (glob; ``.gz``/``.zst`` decompressed by extension), ``text_field``.
* ``parquet``: ``path``, ``text_field``; one work item per row group.
* ``code_tree``: ``path`` (glob of repository directories), ``skip_dirs``.
* ``tfds``: ``name``, ``split`` (default ``train``), ``data_dir``, ``text_field``.

``fields`` maps Document fields (``path``, ``repo``, ``license``, ``programming_language``) to
the record's own field names, so exports such as The Stack's are read as they are; a Document
field not listed is taken from the record field of the same name when present.

Everything is checked here, before any pipeline starts: bad YAML, unknown keys or formats,
missing paths and globs that match nothing each raise ``SourceError`` naming file and entry.
"""

from __future__ import annotations

from palmkit.errors import UserError

import dataclasses
import glob
import os
import posixpath
from typing import Any

import yaml
from apache_beam.io.filesystems import FileSystems

FORMATS = ("jsonl", "parquet", "code_tree", "tfds")
MAPPABLE_FIELDS = ("path", "repo", "license", "programming_language")

#: Directories never descended into in a code tree: version-control metadata (not part of the
#: code) and vendored third-party copies (duplicates of other repositories, under their own
#: licenses rather than the repository's).
DEFAULT_SKIP_DIRS = (".git", ".hg", ".svn", "node_modules", "vendor", "third_party", "__pycache__")

_COMMON = {"format", "id_field", "fields"}
_KEYS = {
    "jsonl": _COMMON | {"path", "text_field"},
    "parquet": _COMMON | {"path", "text_field"},
    "code_tree": _COMMON | {"path", "skip_dirs"},
    "tfds": _COMMON | {"name", "split", "data_dir", "text_field"},
}


class SourceError(UserError):
    """A sources file that cannot be used; the message names the file, entry and problem."""


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """One entry of the sources file, resolved: ``inputs`` are the matched files/directories."""

    component: str
    format: str
    pattern: str = ""  # the resolved glob (absolute path or URL); "" for tfds
    inputs: tuple[str, ...] = ()  # files (jsonl/parquet) or repository directories (code_tree)
    base: str = ""  # the YAML file's folder: ``source`` names are written relative to it
    text_field: str = "text"
    id_field: str = "id"
    fields: tuple[tuple[str, str], ...] = ()  # (Document field, record field)
    skip_dirs: tuple[str, ...] = DEFAULT_SKIP_DIRS
    tfds_name: str = ""
    split: str = "train"
    data_dir: str | None = None

    def field_map(self) -> dict[str, str]:
        mapped = dict(self.fields)
        return {f: mapped.get(f, f) for f in MAPPABLE_FIELDS}

    def source_name(self, path: str) -> str:
        """How ``path`` is written in ``Document.source`` (and hashed into ids): relative to the
        sources file's folder when inside it, so outputs do not change when the corpus moves."""
        if self.base and not is_url(path) and path.startswith(self.base.rstrip(os.sep) + os.sep):
            return os.path.relpath(path, self.base).replace(os.sep, "/")
        return path

    def describe(self) -> dict[str, Any]:
        """JSON-able summary for the manifest (paths relative to the sources file)."""
        out = {"component": self.component, "format": self.format}
        if self.format == "tfds":
            out.update(name=self.tfds_name, split=self.split, data_dir=self.data_dir)
        else:
            out.update(path=self.source_name(self.pattern), inputs=len(self.inputs))
        return out


def is_url(path: str) -> bool:
    return "://" in path


def resolve(path: str, base: str) -> str:
    if is_url(path) or os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(base, path))


def load_sources(path: str) -> list[SourceSpec]:
    """Read, validate and resolve a sources file. Raises ``SourceError``."""
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise SourceError(f"{path}: sources file not found") from None
    except yaml.YAMLError as e:
        raise SourceError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict) or set(data) != {"components"}:
        raise SourceError(f"{path}: expected one top-level key 'components', got {data!r:.80}")
    comps = data["components"]
    if not isinstance(comps, dict) or not comps:
        raise SourceError(f"{path}: 'components' must map component names to lists of sources")
    base = os.path.dirname(os.path.abspath(path))
    specs = []
    for component, entries in comps.items():
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list) or not entries:
            raise SourceError(f"{path}: component '{component}' must be a list of sources")
        for i, entry in enumerate(entries):
            where = f"{path}: components.{component}[{i}]"
            specs.append(_spec(entry, component=str(component), base=base, where=where))
    return specs


def _spec(entry: Any, *, component: str, base: str, where: str) -> SourceSpec:
    if not isinstance(entry, dict):
        raise SourceError(f"{where}: expected a mapping such as {{format: jsonl, path: ...}}")
    fmt = entry.get("format")
    if fmt not in FORMATS:
        raise SourceError(f"{where}: unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    unknown = sorted(set(entry) - _KEYS[fmt])
    if unknown:
        raise SourceError(f"{where}: unknown key(s) {unknown} for format {fmt}; "
                          f"allowed: {sorted(_KEYS[fmt])}")
    fields = entry.get("fields") or {}
    if not isinstance(fields, dict) or sorted(set(fields) - set(MAPPABLE_FIELDS)):
        raise SourceError(f"{where}: 'fields' maps {list(MAPPABLE_FIELDS)} to record field names")
    common = dict(
        component=component,
        format=fmt,
        base=base,
        text_field=str(entry.get("text_field", "text")),
        id_field=str(entry.get("id_field", "id")),
        fields=tuple(sorted((str(k), str(v)) for k, v in fields.items())),
    )
    if fmt == "tfds":
        return _tfds_spec(entry, common=common, base=base, where=where)
    if "path" not in entry:
        raise SourceError(f"{where}: format {fmt} needs a 'path'")
    pattern = resolve(str(entry["path"]), base)
    if fmt == "code_tree":
        skip = entry.get("skip_dirs", list(DEFAULT_SKIP_DIRS))
        inputs = match_dirs(pattern)
        common["skip_dirs"] = tuple(str(s) for s in skip)
    else:
        inputs = match_files(pattern)
    if not inputs:
        what = "no directory" if fmt == "code_tree" else "no file"
        raise SourceError(f"{where}: {what} matches {pattern}")
    return SourceSpec(pattern=pattern, inputs=inputs, **common)


def _tfds_spec(entry: dict, *, common: dict, base: str, where: str) -> SourceSpec:
    if not entry.get("name"):
        raise SourceError(f"{where}: format tfds needs a 'name' such as wiki40b/en")
    data_dir = entry.get("data_dir")
    spec = SourceSpec(
        tfds_name=str(entry["name"]),
        split=str(entry.get("split", "train")),
        data_dir=resolve(str(data_dir), base) if data_dir else None,
        **common,
    )
    from pipelines import readers  # imports tensorflow_datasets: only when a tfds source exists

    try:
        readers.check_tfds(spec)
    except (readers.TfdsError, OSError) as e:
        raise SourceError(f"{where}: {e}") from None
    return spec


def match_files(pattern: str) -> tuple[str, ...]:
    """Files matching ``pattern`` on any filesystem Beam supports, sorted."""
    try:
        result = FileSystems.match([pattern])[0]
    except Exception as e:  # Beam raises BeamIOError for unreachable/unknown filesystems
        raise SourceError(f"cannot list {pattern}: {e}") from None
    return tuple(sorted(m.path for m in result.metadata_list))


def match_dirs(pattern: str) -> tuple[str, ...]:
    """Repository directories matching ``pattern``.

    Local: directories the glob matches. Remote object stores have no directories: a
    repository there is every distinct prefix at the glob's depth that has files below it.
    """
    if not is_url(pattern):
        return tuple(sorted(p for p in glob.glob(pattern) if os.path.isdir(p)))
    depth = pattern.rstrip("/").count("/") + 1
    files = match_files(pattern.rstrip("/") + "/**")
    return tuple(sorted({"/".join(f.split("/")[:depth]) for f in files}))


def list_repo_files(repo: str, skip_dirs: tuple[str, ...]) -> list[tuple[str, int]]:
    """(path relative to the repository, size in bytes) of every file, sorted; symlinks and
    ``skip_dirs`` are not listed (local trees are pruned, never walked into)."""
    skip = set(skip_dirs)
    out = []
    if is_url(repo):
        prefix = repo.rstrip("/") + "/"
        for m in FileSystems.match([prefix + "**"])[0].metadata_list:
            rel = m.path[len(prefix):]
            if not skip.intersection(rel.split("/")[:-1]):
                out.append((rel, m.size_in_bytes))
        return sorted(out)
    for root, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                out.append((os.path.relpath(full, repo).replace(os.sep, "/"), os.path.getsize(full)))
    return sorted(out)


def join(repo: str, rel: str) -> str:
    return posixpath.join(repo, rel) if is_url(repo) else os.path.join(repo, *rel.split("/"))
