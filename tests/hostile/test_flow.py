"""The whole flow on hostile inputs (tests/hostile/make_inputs.py): `palmkit corpus`, `vocab
train`, `pack` and `train` each finish; every good record is kept; read = kept + rejected per
component, from the manifest and from the files; nothing outside the inputs is read and nothing
outside the output folders is written."""

from __future__ import annotations

import glob
import os

import pyarrow.parquet as pq
import pytest

from palmkit import cli
from palmkit.manifest import Manifest
from palmkit.records import REJECT_TEXT_BYTES
from tests.hostile import make_inputs
from tests.hostile.make_inputs import MAX_DOC_BYTES, SECRET

pytestmark = pytest.mark.slow  # ~70 s: corpus -> vocab -> pack -> train on every hostile input


def _snapshot(root: str, skip: tuple[str, ...]) -> dict[str, tuple]:
    """Every entry under ``root`` (not following links) but the output folders."""
    out = {}
    for dirpath, dirs, files in os.walk(os.fsencode(root)):
        dirs[:] = [d for d in dirs if os.path.join(dirpath, d) not in skip]
        for name in files + dirs:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    h = make_inputs.build(root)
    outs = {k: str(root / k) for k in ("corpus", "vocab", "shards", "work")}
    skip = tuple(os.fsencode(p) for p in outs.values())
    before = _snapshot(str(root), skip)
    rc = {}
    rc["corpus"] = cli.main(["corpus", "--sources", h.sources, "--output", outs["corpus"],
                             "--mixture", h.mixture, "--max-doc-bytes", str(MAX_DOC_BYTES),
                             "--num-shards", "2", "--quiet"])
    os.makedirs(outs["vocab"], exist_ok=True)
    rc["vocab"] = cli.main(["vocab", "train", "--corpus", outs["corpus"], "--output",
                            os.path.join(outs["vocab"], "v"), "--vocab-size", "600",
                            "--skip-size-check", "--num-threads", "1", "--digits", "ascii"])
    rc["pack"] = cli.main(["pack", "--corpus", outs["corpus"], "--vocab",
                           os.path.join(outs["vocab"], "v.model"), "--output", outs["shards"],
                           "--seq-len", "64", "--num-shards", "2"])
    rc["train"] = cli.main(["train", "--data", outs["shards"], "--workdir", outs["work"],
                            "--steps", "2", "--preset", "palm-tiny", "--batch-schedule", "0:2",
                            "--checkpoint-every", "1", "--quiet"])
    after = _snapshot(str(root), skip)
    for s in h.sockets:
        s.close()
    return h, outs, rc, before, after


def _rows(pattern: str) -> list[dict]:
    rows = []
    for path in sorted(glob.glob(pattern)):
        rows += pq.read_table(path).to_pylist()
    return rows


def test_every_command_finishes(flow):
    _, _, rc, _, _ = flow
    assert rc == {"corpus": 0, "vocab": 0, "pack": 0, "train": 0}


def test_every_good_record_is_kept(flow):
    h, outs, _, _, _ = flow
    kept = _rows(f"{outs['corpus']}/clean/*/*.parquet")
    texts = {c: " ".join(r["text"] for r in kept if r["component"] == c) for c in h.good}
    missing = {c: [m for m in markers if m + " " not in texts[c] and m + "\n" not in texts[c]]
               for c, markers in h.good.items()}
    assert missing == {c: [] for c in h.good}


def test_every_record_is_kept_or_rejected_and_the_files_agree(flow):
    _, outs, _, _, _ = flow
    m = Manifest.read(outs["corpus"], stage="corpus")
    kept = _rows(f"{outs['corpus']}/clean/*/*.parquet")
    rejects = _rows(f"{outs['corpus']}/rejects/*.parquet")
    for comp, c in m.counts.items():
        assert c["read"] == c["kept"] + sum(c["rejected"].values()), comp
        assert c["kept"] == sum(r["component"] == comp for r in kept)
        by_reason: dict[str, int] = {}
        for r in rejects:
            if r["component"] == comp:
                by_reason[r["reason"]] = by_reason.get(r["reason"], 0) + 1
        assert by_reason == c["rejected"], comp
    ids = [r["id"] for r in kept]
    assert len(ids) == len(set(ids))


def test_rejects_have_their_reasons_files_and_bounded_text(flow):
    h, outs, _, _, _ = flow
    rejects = _rows(f"{outs['corpus']}/rejects/*.parquet")
    assert h.reasons <= {r["reason"] for r in rejects}
    for r in rejects:
        assert r["detail"].startswith(r["source"] + ":"), r["detail"]
        assert r["text"] is None or len(r["text"].encode("utf-8")) <= REJECT_TEXT_BYTES
    code = {r["source"].rsplit("/", 1)[-1]: r["reason"] for r in rejects if r["component"] == "code"}
    assert code.get("pipe.py") == code.get("sock.py") == "special_file"
    assert code.get("link.py") == code.get("loop.py") == "symlink"
    assert code.get("blob.py") == "binary" and code.get("huge.py") == "too_large"


def test_nothing_outside_the_tree_is_read_and_nothing_outside_the_outputs_is_written(flow):
    _, outs, _, before, after = flow
    assert after == before
    for path in glob.glob(f"{outs['corpus']}/**/*.parquet", recursive=True):
        table = pq.read_table(path)
        for column in ("text", "source"):
            if column in table.column_names:
                assert not any(SECRET in (v or "") for v in table[column].to_pylist()), path
