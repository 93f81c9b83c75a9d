"""Code trees that try to take the reader elsewhere: symbolic links (to files, directories,
outside the tree, nowhere, themselves), a repository that is a link, FIFOs, sockets and devices,
files replaced between listing and reading, and file names that are not UTF-8.

Every entry must end as exactly one Document or Reject (never lost, never a crash, never a
hang), nothing outside the tree may be read, and what is written must be valid UTF-8 Parquet.
Reads that could hang run under a watchdog that unblocks them, so a regression fails the test
instead of freezing the suite.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import threading

import pyarrow.parquet as pq
import pytest

from palmkit.records import Document, Reason, Reject, documents_to_table, make_id, rejects_to_table
from pipelines import readers
from pipelines.formats import code_tree
from pipelines.formats.base import WorkItem
from pipelines.sources import load_sources

SECRET = "SECRET = 'outside the tree'\n"


def _sources(tmp_path) -> str:
    path = tmp_path / "sources.yaml"
    path.write_text("components:\n  code: [{format: code_tree, path: 'repos/*'}]\n")
    return str(path)


def _read_all(sources_file: str) -> list:
    items = [w for i in readers.initial_items(load_sources(sources_file)) for w in readers.plan(i)]
    return [r for item in items for r in readers.read(item, max_doc_bytes=100_000)]


def _read_with_watchdog(sources_file: str, fifos: list[str], timeout: float = 20.0) -> list:
    """``_read_all`` in a thread; if it is still running after ``timeout`` (blocked opening a
    FIFO), open the FIFOs for writing to unblock it and fail."""
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(out=_read_all(sources_file)),
                              daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        for fifo in fifos:  # a writer that opens and closes lets a blocked reader see EOF
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # ENXIO: nobody has it open for reading
                pass
        thread.join(timeout)
        pytest.fail("reading the code tree blocked on a FIFO")
    return result["out"]


def _by_source(outputs: list) -> dict:
    by = {}
    for r in outputs:
        assert r.source not in by, f"two outputs for {r.source}"
        by[r.source] = r
    return by


def _parquet_round_trip(outputs: list) -> None:
    """What the job writes must be writable: Parquet strings are UTF-8."""
    docs = [r for r in outputs if isinstance(r, Document)]
    rejects = [r for r in outputs if isinstance(r, Reject)]
    for table in (documents_to_table(docs), rejects_to_table(rejects)):
        buf = io.BytesIO()
        pq.write_table(table, buf)
        assert pq.read_table(io.BytesIO(buf.getvalue())).num_rows == table.num_rows


def test_links_are_rejected_never_followed(tmp_path):
    outside = tmp_path / "outside"
    (outside / "pkg").mkdir(parents=True)
    (outside / "secret.py").write_text(SECRET)
    (outside / "pkg" / "secret2.py").write_text(SECRET)
    repo = tmp_path / "repos" / "real"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "main.py").write_text("print('hello')\n")
    os.symlink(outside / "secret.py", repo / "alias.py")  # file outside the tree
    os.symlink("main.py", repo / "src" / "inside.py")  # file inside the tree: still a link
    os.symlink(outside / "pkg", repo / "vendored")  # directory outside the tree
    os.symlink("src", repo / "src_again")  # directory inside the tree
    os.symlink("nowhere.py", repo / "broken.py")
    os.symlink("loop.py", repo / "loop.py")  # a link to itself
    os.symlink("b.py", repo / "a.py")
    os.symlink("a.py", repo / "b.py")
    os.symlink("LICENSE-target", repo / "LICENSE")  # license detection must not follow it
    os.symlink(outside, tmp_path / "repos" / "linked")  # a repository that is a link

    spec = load_sources(_sources(tmp_path))[0]
    assert [os.path.basename(p) for p in spec.inputs] == ["linked", "real"]
    out = _read_all(_sources(tmp_path))
    by = _by_source(out)
    links = ["alias.py", "src/inside.py", "vendored", "src_again", "broken.py", "loop.py",
             "a.py", "b.py", "LICENSE"]
    expected = {f"repos/real/{p}" for p in links + ["src/main.py"]} | {"repos/linked"}
    assert set(by) == expected  # one output per entry, nothing from behind a link
    assert all(SECRET not in (r.text or "") for r in out)
    for source, r in by.items():
        if source == "repos/real/src/main.py":
            assert isinstance(r, Document) and r.text == "print('hello')\n"
            assert r.license == "unknown"
            continue
        assert isinstance(r, Reject) and r.reason == Reason.SYMLINK, (source, r)
        assert r.id == make_id(source, 0) and r.record == 0 and r.component == "code"
    assert "repository is a symbolic link" in by["repos/linked"].detail
    assert str(outside / "secret.py") in by["repos/real/alias.py"].detail


def test_fifos_sockets_and_devices_are_never_opened(tmp_path, monkeypatch):
    repo = tmp_path / "repos" / "r"
    (repo / "sub").mkdir(parents=True)
    (repo / "ok.py").write_text("x = 1\n")
    fifos = [str(repo / "pipe.py"), str(repo / "sub" / "pipe.c"), str(repo / "README.md")]
    for fifo in fifos:  # README.md: license detection reads top-level READMEs
        os.mkfifo(fifo)
    monkeypatch.chdir(repo)  # AF_UNIX paths are limited to ~107 bytes: bind a relative one
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind("sock.py")
    expected_kinds = {"pipe.py": "fifo", "sub/pipe.c": "fifo", "README.md": "fifo",
                      "sock.py": "socket"}
    try:
        os.mknod(repo / "null.py", stat.S_IFCHR | 0o600, os.makedev(1, 3))  # like /dev/null
        expected_kinds["null.py"] = "character device"
    except (PermissionError, OSError):
        pass  # not root, or a filesystem without devices: FIFOs and sockets still run
    monkeypatch.chdir(tmp_path)
    try:
        out = _read_with_watchdog(_sources(tmp_path), fifos)
    finally:
        sock.close()
    by = _by_source(out)
    assert set(by) == {f"repos/r/{p}" for p in [*expected_kinds, "ok.py"]}
    assert isinstance(by["repos/r/ok.py"], Document)
    for rel, kind in expected_kinds.items():
        r = by[f"repos/r/{rel}"]
        assert isinstance(r, Reject) and r.reason == Reason.SPECIAL_FILE, (rel, r)
        assert kind in r.detail


def test_file_replaced_between_listing_and_reading(tmp_path):
    repo = tmp_path / "repos" / "r"
    repo.mkdir(parents=True)
    (repo / "good.py").write_text("y = 2\n")
    spec = load_sources(_sources(tmp_path))[0]
    item = WorkItem(spec, str(repo))
    entries = code_tree.list_repo_files(str(repo), spec.options.skip_dirs)
    assert entries == [code_tree.RepoEntry("good.py", 6)]
    kw = dict(size=6, repo_name="r", license_id="unknown", max_doc_bytes=100)
    os.mkfifo(repo / "was_file.py")  # listed as a regular file, now a FIFO
    fifo = code_tree.read_code_file(item, rel="was_file.py", **kw)
    assert fifo.reason == Reason.SPECIAL_FILE and "fifo" in fifo.detail
    (tmp_path / "target.py").write_text(SECRET)
    os.symlink(tmp_path / "target.py", repo / "was_file2.py")  # now a link
    link = code_tree.read_code_file(item, rel="was_file2.py", **kw)
    assert link.reason == Reason.SYMLINK and "after listing" in link.detail
    (repo / "grew.py").write_text("z = 3\n" * 100)  # listed at 6 bytes, now 600 > cap 100
    assert code_tree.read_code_file(item, rel="grew.py", **kw).reason == Reason.TOO_LARGE
    assert code_tree.read_code_file(item, rel="good.py", **kw).text == "y = 2\n"


def test_file_names_that_are_not_utf8(tmp_path):
    root = os.fsencode(tmp_path)
    repos = os.path.join(root, b"repos")
    good, odd_repo = os.path.join(repos, b"good"), os.path.join(repos, b"r\xe9po")
    for d in (good, os.path.join(odd_repo, b"d\xff"), os.path.join(good, b"sub\xfe")):
        os.makedirs(d)
    files = {
        os.path.join(good, b"caf\xe9.py"): b"cafe = 1\n",
        os.path.join(good, b"\xff\xfe.txt"): b"not code\n",
        os.path.join(good, b"sub\xfe", b"main.py"): b"main = 2\n",
        os.path.join(good, "ünïcode.py".encode()): b"u = 3\n",  # valid UTF-8: unchanged
        os.path.join(odd_repo, b"d\xff", b"x.py"): b"x = 4\n",
    }
    for path, data in files.items():
        with open(path, "wb") as f:
            f.write(data)
    os.symlink(b"caf\xe9.py", os.path.join(good, b"l\xe9nk.py"))
    out = _read_all(_sources(tmp_path))
    by = _by_source(out)
    assert set(by) == {"repos/good/caf\\xe9.py", "repos/good/\\xff\\xfe.txt",
                       "repos/good/sub\\xfe/main.py", "repos/good/ünïcode.py",
                       "repos/r\\xe9po/d\\xff/x.py", "repos/good/l\\xe9nk.py"}
    cafe = by["repos/good/caf\\xe9.py"]
    assert (cafe.text, cafe.path, cafe.repo) == ("cafe = 1\n", "caf\\xe9.py", "good")
    assert cafe.id == make_id("repos/good/caf\\xe9.py", 0)
    assert by["repos/r\\xe9po/d\\xff/x.py"].repo == "r\\xe9po"
    assert by["repos/good/\\xff\\xfe.txt"].reason == Reason.PROGRAMMING_LANGUAGE
    assert by["repos/good/l\\xe9nk.py"].reason == Reason.SYMLINK
    assert by["repos/good/ünïcode.py"].path == "ünïcode.py"
    _parquet_round_trip(out)


def test_unlistable_subdirectory_is_one_reject(tmp_path, monkeypatch):
    repo = tmp_path / "repos" / "r"
    (repo / "locked").mkdir(parents=True)
    (repo / "locked" / "hidden.py").write_text("h = 1\n")
    (repo / "ok.py").write_text("x = 1\n")
    real_scandir = os.scandir

    def scandir(path):  # what chmod 000 does for a user other than root
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    by = _by_source(_read_all(_sources(tmp_path)))
    assert by["repos/r/locked"].reason == Reason.UNREADABLE
    assert "Permission denied" in by["repos/r/locked"].detail
    assert isinstance(by["repos/r/ok.py"], Document) and len(by) == 2


def test_regular_trees_read_as_before(tmp_path):
    """Sources, paths and ids of regular files are what they always were."""
    repo = tmp_path / "repos" / "plain"
    (repo / "a" / "b").mkdir(parents=True)
    (repo / "a" / "b" / "deep.rs").write_text("fn main() {}\n")
    (repo / "top.py").write_text("t = 0\n")
    out = _read_all(_sources(tmp_path))
    assert [(r.source, r.path, r.id) for r in out] == [
        ("repos/plain/a/b/deep.rs", "a/b/deep.rs", make_id("repos/plain/a/b/deep.rs", 0)),
        ("repos/plain/top.py", "top.py", make_id("repos/plain/top.py", 0)),
    ]
