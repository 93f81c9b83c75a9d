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
component names that are not identifiers (``mixtures.COMPONENT_NAME``: they name output
folders), missing paths and globs that match nothing each raise ``SourceError`` naming file
and entry.

Code trees never leave the tree (``list_repo_files``, ``read_repo_file``): symbolic links are
listed as what they are and never followed, FIFOs, sockets and devices are listed and never
opened, so the reader can give each one its reject instead of hanging or reading another tree.
"""

from __future__ import annotations

from palmkit.errors import UserError

import dataclasses
import errno
import glob
import os
import posixpath
import stat
from typing import Any, NamedTuple

import yaml
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from mixtures import component_name_problem

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

    Local: directories the glob matches, and symbolic links it matches (whatever they point
    to). A link is returned, not resolved, so that the reader gives it one ``symlink`` reject:
    a repository that is a link to somewhere else is not read (code trees never leave the
    tree) and does not vanish silently either. Remote object stores have no directories: a
    repository there is every distinct prefix at the glob's depth that has files below it.
    """
    if not is_url(pattern):
        return tuple(sorted(p for p in glob.glob(pattern) if os.path.islink(p) or os.path.isdir(p)))
    depth = pattern.rstrip("/").count("/") + 1
    files = match_files(pattern.rstrip("/") + "/**")
    return tuple(sorted({"/".join(f.split("/")[:depth]) for f in files}))


# -- code-tree entries ------------------------------------------------------------------------

FILE = "file"
SYMLINK = "symlink"
UNREADABLE = "unreadable"  # a directory that cannot be listed, an entry that cannot be stat'ed
_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


class RepoEntry(NamedTuple):
    """One entry of a repository: ``rel`` ("/"-separated, relative to the repository; "" for
    the repository itself), ``size`` (bytes, regular files only), ``kind`` (``FILE``,
    ``SYMLINK``, ``UNREADABLE`` or a special kind: ``fifo``, ``socket``, ``character device``,
    ``block device``, ``special file``) and ``detail`` (a link's target, an error)."""

    rel: str
    size: int
    kind: str = FILE
    detail: str = ""


class NotRegularFile(OSError):
    """``read_repo_file`` found something else than a regular file (``kind``) at a path that
    was listed as one: it was replaced between listing and reading."""

    def __init__(self, path: str, kind: str):
        super().__init__(f"{path} is now a {kind}, not a regular file")
        self.kind = kind


def special_kind(mode: int) -> str:
    """The kind of a non-regular, non-directory, non-link file mode (``fifo``, ...)."""
    return next((kind for test, kind in _SPECIAL_KINDS if test(mode)), "special file")


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError as e:
        return f"(unreadable target: {e.strerror})"


def list_repo_files(repo: str, skip_dirs: tuple[str, ...]) -> list[RepoEntry]:
    """Every entry of a repository that is a record, sorted by ``rel``; ``skip_dirs`` are
    pruned (never walked into, their contents are not records).

    Local trees are walked with ``os.scandir`` and ``lstat`` (never following links), and
    every entry is listed with its kind so that nothing is lost silently: regular files
    (``FILE``, with their size), symbolic links to files or directories, broken or looping
    (``SYMLINK``, with their target; not followed, so a link cannot take the reader outside
    the tree or into a loop), FIFOs, sockets and devices (never opened: reading a FIFO blocks
    forever), and subdirectories that cannot be listed (``UNREADABLE``). A repository that is
    itself a symbolic link is one ``SYMLINK`` entry with ``rel`` "". Raises ``OSError`` when
    the repository cannot be listed at all. Remote object stores only have regular files.
    """
    skip = set(skip_dirs)
    if is_url(repo):
        prefix = repo.rstrip("/") + "/"
        out = []
        for m in FileSystems.match([prefix + "**"])[0].metadata_list:
            rel = m.path[len(prefix):]
            if not skip.intersection(rel.split("/")[:-1]):
                out.append(RepoEntry(rel, m.size_in_bytes))
        return sorted(out)
    if os.path.islink(repo.rstrip(os.sep) or repo):  # "link/" would resolve the link
        return [RepoEntry("", 0, SYMLINK, _readlink(repo.rstrip(os.sep)))]
    out, pending = [], [""]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(join(repo, folder) if folder else repo) as it:
                entries = list(it)
        except OSError as e:
            if not folder:
                raise
            out.append(RepoEntry(folder, 0, UNREADABLE, f"cannot list directory: {e.strerror}"))
            continue
        for entry in entries:
            rel = f"{folder}/{entry.name}" if folder else entry.name
            try:
                mode = entry.stat(follow_symlinks=False)
            except OSError as e:  # removed since listing
                out.append(RepoEntry(rel, 0, UNREADABLE, f"cannot stat: {e.strerror}"))
                continue
            if stat.S_ISDIR(mode.st_mode):
                if entry.name not in skip:
                    pending.append(rel)
            elif stat.S_ISREG(mode.st_mode):
                out.append(RepoEntry(rel, mode.st_size))
            elif stat.S_ISLNK(mode.st_mode):
                out.append(RepoEntry(rel, 0, SYMLINK, _readlink(entry.path)))
            else:
                out.append(RepoEntry(rel, 0, special_kind(mode.st_mode)))
    return sorted(out)


def read_repo_file(path: str, limit: int) -> bytes:
    """At most ``limit`` bytes of a code-tree file listed as regular.

    Local files are opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked with ``fstat``: a file
    replaced by a symbolic link since listing fails to open (``NotRegularFile`` kind
    ``symlink``), one replaced by a FIFO opens without blocking and is closed unread
    (``NotRegularFile`` with its kind). Remote paths are read through Beam's ``FileSystems``.
    Raises ``OSError``.
    """
    if is_url(path):
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            return f.read(limit)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise NotRegularFile(path, SYMLINK) from None
        raise
    with open(fd, "rb", closefd=True) as f:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(path, special_kind(mode) if not stat.S_ISDIR(mode) else "directory")
        return f.read(limit)


def join(repo: str, rel: str) -> str:
    """``rel`` ("/"-separated, "" for the repository itself) inside ``repo``."""
    if not rel:
        return repo
    return posixpath.join(repo, rel) if is_url(repo) else os.path.join(repo, *rel.split("/"))
