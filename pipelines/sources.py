"""The sources file: which inputs feed which mixture component.

A YAML file the user writes, local or at a URL (``gs://``, ``s3://``, ``hf://``, ``https://``:
``pipelines.fs``); relative paths are relative to the YAML file's folder (a URL's folder for a
remote file), absolute paths and URLs (``gs://...``) are taken as they are::

    components:
      code:
        - {format: code_tree, path: "repos/*"}          # one directory per repository
        - {format: parquet, path: "stack/*.parquet", text_field: content,
           fields: {repo: max_stars_repo_name, license: max_stars_repo_licenses, path: path}}
      web:
        - {format: jsonl, path: "web/*.jsonl.gz", text_field: text}
      wikipedia:
        - {format: tfds, name: "wiki40b/en", split: train}   # data_dir optional

Every source takes ``format`` (a name in ``pipelines.formats.FORMATS``), ``id_field`` (default
``id``), ``fields`` and ``keep``; the other keys belong to its format, which documents and
checks them (``pipelines/formats/<format>.py``):

* ``jsonl``: ``path`` (glob; ``.gz``/``.zst`` decompressed by extension), ``text_field``.
* ``parquet``: ``path``, ``text_field``; one work item per row group.
* ``code_tree``: ``path`` (glob of repository directories), ``skip_dirs``.
* ``tfds``: ``name``, ``split`` (default ``train``), ``data_dir``, ``text_field``.

``keep`` lists record fields (JSON keys, Parquet columns) copied into ``Document.metadata``
(string -> string; other JSON values JSON-encoded; a missing field is left out), e.g.
``keep: [url, date, dump]``; formats that map records (jsonl, parquet, tfds) fill it, a code
tree has no record fields to keep.

``fields`` maps Document fields (``path``, ``repo``, ``license``, ``programming_language``) to
the record's own field names, so exports such as The Stack's are read as they are; a Document
field not listed is taken from the record field of the same name when present.

Everything is checked here, before any pipeline starts: bad YAML, unknown keys or formats,
component names that are not identifiers (``mixtures.COMPONENT_NAME``: they name output
folders), missing paths, globs that match nothing and sources that cannot be read (the
format's ``check``) each raise ``SourceError`` naming file and entry.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml
from apache_beam.io.filesystem import BeamIOError

from mixtures import component_name_problem
from palmkit.errors import UserError
from pipelines import formats, fs
from pipelines.formats.base import COMMON_KEYS, MAPPABLE_FIELDS, SourceError, SourceSpec

__all__ = ["SourceError", "SourceSpec", "load_sources"]


def load_sources(path: str) -> list[SourceSpec]:
    """Read, validate and resolve a sources file. Raises ``SourceError``."""
    try:
        data = yaml.safe_load(fs.read_text(path))
    except FileNotFoundError:
        raise SourceError(f"{path}: sources file not found") from None
    except (OSError, UnicodeDecodeError, BeamIOError) as e:  # unreadable, or not text
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise SourceError(f"{path}: cannot read the sources file: {reason:.200}") from None
    except yaml.YAMLError as e:
        raise SourceError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict) or set(data) != {"components"}:
        raise SourceError(f"{path}: expected one top-level key 'components', got {data!r:.80}")
    comps = data["components"]
    if not isinstance(comps, dict) or not comps:
        raise SourceError(f"{path}: 'components' must map component names to lists of sources")
    base = fs.dirname(path)
    specs = []
    for component, entries in comps.items():
        problem = component_name_problem(component)
        if problem:
            raise SourceError(f"{path}: {problem}")
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list) or not entries:
            raise SourceError(f"{path}: component '{component}' must be a list of sources")
        for i, entry in enumerate(entries):
            where = f"{path}: components.{component}[{i}]"
            specs.append(_spec(entry, component=str(component), base=base, where=where))
    return specs


def _spec(entry: Any, *, component: str, base: str, where: str) -> SourceSpec:
    """One entry: the common keys here, the rest by its format (parse, then check)."""
    if not isinstance(entry, dict):
        raise SourceError(f"{where}: expected a mapping such as {{format: jsonl, path: ...}}")
    name = entry.get("format")
    if name not in formats.FORMATS:
        raise SourceError(f"{where}: unknown format {name!r}; known: {', '.join(formats.FORMATS)}")
    fmt = formats.get(name)
    allowed = COMMON_KEYS | fmt.keys
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise SourceError(f"{where}: unknown key(s) {unknown} for format {name}; "
                          f"allowed: {sorted(allowed)}")
    fields = entry.get("fields") or {}
    if not isinstance(fields, dict) or sorted(set(fields) - set(MAPPABLE_FIELDS)):
        raise SourceError(f"{where}: 'fields' maps {list(MAPPABLE_FIELDS)} to record field names")
    keep = entry.get("keep") or []
    if not isinstance(keep, list) or not all(isinstance(k, str) and k for k in keep):
        raise SourceError(f"{where}: 'keep' lists record field names, e.g. [url, date, dump]")
    spec = SourceSpec(
        component=component,
        format=name,
        base=base,
        text_field=str(entry.get("text_field", "text")),
        id_field=str(entry.get("id_field", "id")),
        fields=tuple(sorted((str(k), str(v)) for k, v in fields.items())),
        keep=tuple(dict.fromkeys(keep)),
    )
    spec = fmt.parse(entry, spec, where=where)
    try:
        fmt.check(spec)
    except (UserError, OSError) as e:
        raise SourceError(f"{where}: {e}") from None
    return dataclasses.replace(spec, summary=tuple(sorted(fmt.summary(spec).items())))
