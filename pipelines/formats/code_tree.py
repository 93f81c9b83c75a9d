"""``code_tree``: directories of source code, one per repository (PaLM's GitHub component).

Sources entry: ``{format: code_tree, path: "repos/*", skip_dirs: [...]}`` (and the common
``id_field``, ``fields``): the glob matches repository directories (``fs.match_dirs``); one
work item per repository, one record per entry in it (``record`` 0: one file, one record).
``skip_dirs`` (default ``DEFAULT_SKIP_DIRS``) are never descended into.

Code trees never leave the tree (``list_repo_files``, ``read_repo_file``): symbolic links are
listed as what they are and never followed, FIFOs, sockets and devices are listed and never
opened, so the reader gives each one its reject instead of hanging or reading another tree.

Failure policy: a file whose extension is not one of PaLM's languages -> ``programming_language``
without reading it (binaries and images cost nothing); one over the size cap -> ``too_large``
without reading it; a link -> ``symlink``; a FIFO, socket or device -> ``special_file``; a
subdirectory that cannot be listed -> ``unreadable``; bytes that are not UTF-8 -> ``binary``
(with a NUL byte) or ``invalid_utf8``. The repository's license comes from its top-level
license and README files (``pipelines.licenses``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import posixpath
import stat
from typing import Any, Iterator, NamedTuple

from palmkit.records import Document, Reason, make_id
from pipelines import code_languages, fs, licenses
from pipelines.formats.base import PathFormat, SourceSpec, WorkItem, input_text_bytes
from pipelines.formats.records import Output, display_path, reject

#: Directories never descended into in a code tree: version-control metadata (not part of the
#: code) and vendored third-party copies (duplicates of other repositories, under their own
#: licenses rather than the repository's).
DEFAULT_SKIP_DIRS = (".git", ".hg", ".svn", "node_modules", "vendor", "third_party", "__pycache__")
LICENSE_PREFIX_BYTES = 65_536  # licenses are identified by their first phrases


@dataclasses.dataclass(frozen=True)
class CodeTreeOptions:
    skip_dirs: tuple[str, ...] = DEFAULT_SKIP_DIRS


class CodeTree(PathFormat):
    """Repository directories; one work item per repository, one record per entry."""

    keys = frozenset({"path", "skip_dirs"})
    matches = "directory"

    def match(self, pattern: str) -> tuple[str, ...]:
        return fs.match_dirs(pattern)

    def options(self, entry: dict[str, Any], *, where: str) -> CodeTreeOptions:
        skip = entry.get("skip_dirs", list(DEFAULT_SKIP_DIRS))
        return CodeTreeOptions(skip_dirs=tuple(str(s) for s in skip))

    def text_bytes(self, spec: SourceSpec) -> int:
        return input_text_bytes([], spec.inputs)

    def read(self, item: WorkItem, *, max_doc_bytes: int) -> Iterator[Output]:
        return read_code_tree(item, max_doc_bytes=max_doc_bytes)


# -- listing a repository ---------------------------------------------------------------------

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
    if fs.is_remote(repo):
        prefix = repo.rstrip("/") + "/"
        out = []
        for path, size in fs.list_files(prefix + "**"):
            rel = path[len(prefix):]
            if not skip.intersection(rel.split("/")[:-1]):
                out.append(RepoEntry(rel, size))
        return sorted(out)
    if os.path.islink(repo.rstrip(os.sep) or repo):  # "link/" would resolve the link
        return [RepoEntry("", 0, SYMLINK, _readlink(repo.rstrip(os.sep)))]
    out, pending = [], [""]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(fs.join(repo, folder) if folder else repo) as it:
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
    if fs.is_remote(path):
        with fs.open_file(path) as f:
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


# -- reading it ------------------------------------------------------------------------------


def detect_repo_license(repo: str, files: list[RepoEntry]) -> str:
    """The repository's SPDX license from its top-level license and README files (regular
    files only: a link named LICENSE is not followed, a FIFO named README never opened)."""
    top = {}
    for entry in files:
        rel = entry.rel
        if (entry.kind == FILE and rel and "/" not in rel
                and (licenses.is_license_file(rel) or licenses.is_readme_file(rel))):
            with contextlib.suppress(OSError):
                top[rel] = read_repo_file(fs.join(repo, rel), LICENSE_PREFIX_BYTES).decode(
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
        files = list_repo_files(repo, (spec.options or CodeTreeOptions()).skip_dirs)
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
    spec, path = item.spec, fs.join(item.path, rel)
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
