"""Builds that resume (pipelines/resume.py): cached work is exactly what the uncached step
yields, a changed input misses, and a corpus or pack job killed with SIGKILL at random points
and rerun with the same command ends byte-identical to an uninterrupted run."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from pipelines import readers, resume
from pipelines.timings import strip_timings
from pipelines.formats.base import WorkItem
from pipelines.sources import load_sources

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "data", "sample", "sources.yaml")
PALMKIT = [sys.executable, "-m", "palmkit.cli"]


def _jsonl_item(tmp_path, lines: list[str]) -> WorkItem:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec_file = tmp_path / "sources.yaml"
    spec_file.write_text(f"components:\n  web:\n    - {{format: jsonl, path: '{src}'}}\n")
    [item] = readers.initial_items(load_sources(str(spec_file)))
    return item


def test_cached_read_replays_exactly_what_was_read(tmp_path):
    item = _jsonl_item(tmp_path, ['{"text": "one"}', '{broken', '{"text": "two", "id": 7}'])
    root = str(tmp_path / "run" / resume.RESUME_DIR)
    first = list(resume.resume_read(item, max_doc_bytes=1 << 20, root=root))
    again = list(resume.resume_read(item, max_doc_bytes=1 << 20, root=root))
    plain = list(readers.read(item, max_doc_bytes=1 << 20))
    assert [c for _, c in first] == [False] * 3 and [c for _, c in again] == [True] * 3
    assert [r for r, _ in first] == [r for r, _ in again] == plain
    assert len(resume.WorkCache(root).keys("read")) == 1


def test_changed_input_or_option_is_read_again(tmp_path):
    item = _jsonl_item(tmp_path, ['{"text": "one"}'])
    root = str(tmp_path / resume.RESUME_DIR)
    list(resume.resume_read(item, max_doc_bytes=1 << 20, root=root))
    assert all(c for _, c in resume.resume_read(item, max_doc_bytes=1 << 20, root=root))
    assert not any(c for _, c in resume.resume_read(item, max_doc_bytes=100, root=root))
    path = item.path
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"text": "three"}\n')
    out = list(resume.resume_read(item, max_doc_bytes=1 << 20, root=root))
    assert [c for _, c in out] == [False, False] and out[1][0].text == "three"


def test_damaged_entry_is_read_again(tmp_path):
    item = _jsonl_item(tmp_path, ['{"text": "a"}', '{"text": "b"}'])
    root = str(tmp_path / resume.RESUME_DIR)
    list(resume.resume_read(item, max_doc_bytes=1 << 20, root=root))
    [key] = resume.WorkCache(root).keys("read")
    entry = os.path.join(root, "read", key + ".bin")
    with open(entry, "r+b") as f:  # cut short after its marker was written
        f.truncate(os.path.getsize(entry) // 2)
    out = list(resume.resume_read(item, max_doc_bytes=1 << 20, root=root))
    assert [c for _, c in out] == [False, False] and [r.text for r, _ in out] == ["a", "b"]
    assert all(c for _, c in resume.resume_read(item, max_doc_bytes=1 << 20, root=root))


@pytest.mark.parametrize("damage", ["flip_last", "flip_middle", "marker_without_hash"])
def test_entry_damaged_in_place_is_read_again(tmp_path, damage):
    """Same size, other bytes: found before the replay starts (a replay that failed halfway
    would already have handed on records), so the records come once each, read again."""
    item = _jsonl_item(tmp_path, [json.dumps({"text": f"doc {i} " * 20}) for i in range(50)])
    root = str(tmp_path / resume.RESUME_DIR)
    plain = list(readers.read(item, max_doc_bytes=1 << 20))
    list(resume.resume_read(item, max_doc_bytes=1 << 20, root=root))
    [key] = resume.WorkCache(root).keys("read")
    entry, marker = (os.path.join(root, "read", key + ext) for ext in (".bin", ".json"))
    size = os.path.getsize(entry)
    if damage == "marker_without_hash":  # an entry from before markers carried the hash
        meta = json.load(open(marker))
        del meta["blake2b"]
        open(marker, "w").write(json.dumps(meta))
    else:
        at = size - 1 if damage == "flip_last" else size // 2
        with open(entry, "r+b") as f:
            f.seek(at)
            byte = f.read(1)
            f.seek(at)
            f.write(bytes([byte[0] ^ 0xFF]))
        assert os.path.getsize(entry) == size
    out = list(resume.resume_read(item, max_doc_bytes=1 << 20, root=root))
    assert not any(c for _, c in out) and [r for r, _ in out] == plain
    again = list(resume.resume_read(item, max_doc_bytes=1 << 20, root=root))
    assert all(c for _, c in again) and [r for r, _ in again] == plain


def test_abandoned_entry_is_never_used(tmp_path):
    item = _jsonl_item(tmp_path, ['{"text": "a"}', '{"text": "b"}'])
    root = str(tmp_path / resume.RESUME_DIR)
    gen = resume.resume_read(item, max_doc_bytes=1 << 20, root=root)
    next(gen)
    gen.close()  # the consumer stopped half way: nothing is committed
    assert resume.WorkCache(root).keys("read") == []
    assert not any(c for _, c in resume.resume_read(item, max_doc_bytes=1 << 20, root=root))


def tree_digest(root: str) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (the manifest without its run timings)."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = os.path.join(dirpath, name)
            data = open(path, "rb").read()
            if name == "manifest.json":
                data = strip_timings(data)
            out[os.path.relpath(path, root)] = hashlib.sha256(data).hexdigest()
    return out


def run_killed(cmd: list[str], *, after: str | None, delay: float, log) -> bool:
    """Start ``cmd``; SIGKILL its process group ``delay`` s after ``after`` shows in its
    output (None: after the start). False when it finished first."""
    import threading

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO,
                            start_new_session=True, text=True)
    seen = threading.Event()
    if after is None:
        seen.set()

    def pump():
        for line in proc.stdout:
            log.write(line)
            if after in line:
                seen.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    while not seen.is_set() and proc.poll() is None:
        time.sleep(0.02)
    deadline = time.monotonic() + delay
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    killed = proc.poll() is None
    if killed:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join(timeout=10)
    log.write(f"--- killed: {killed} after {delay:.2f} s\n")
    return killed


@pytest.mark.slow
def test_corpus_killed_at_random_points_resumes_byte_identical(tmp_path):
    corpus = ["corpus", "--sources", SAMPLE, "--num-shards", "2", "--quality-alpha", "3"]
    ref = tmp_path / "ref"
    subprocess.run(PALMKIT + corpus + ["--output", str(ref), "--quiet"], check=True, cwd=REPO)
    out = tmp_path / "out"
    rng = random.Random(7)
    kills = 0
    with open(tmp_path / "log.txt", "w") as log:
        for _ in range(2):  # kill twice, each time at a random point after reading started
            kills += run_killed(PALMKIT + corpus + ["--output", str(out)], after="corpus: read ",
                                delay=rng.uniform(0.0, 3.0), log=log)
    assert kills >= 1
    rerun = subprocess.run(PALMKIT + corpus + ["--output", str(out)], cwd=REPO,
                           capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert tree_digest(str(out)) == tree_digest(str(ref))
    assert not (out / resume.RESUME_DIR).exists()  # deleted after success
    manifest = json.loads((out / "manifest.json").read_text())
    counts = {c: v for c, v in manifest["counts"].items() if isinstance(v, dict) and "read" in v}
    ref_counts = json.loads((ref / "manifest.json").read_text())["counts"]
    assert counts == {c: ref_counts[c] for c in counts}  # nothing counted twice


@pytest.mark.slow
def test_pack_killed_at_random_points_resumes_byte_identical(tmp_path):
    corpus, vocab = tmp_path / "corpus", tmp_path / "vocab" / "v"
    subprocess.run(PALMKIT + ["corpus", "--sources", SAMPLE, "--num-shards", "2",
                              "--quality-alpha", "3", "--output", str(corpus), "--quiet"],
                   check=True, cwd=REPO)
    subprocess.run(PALMKIT + ["vocab", "train", "--corpus", str(corpus), "--output", str(vocab),
                              "--vocab-size", "3000", "--quiet"], check=True, cwd=REPO)
    pack = ["pack", "--corpus", str(corpus), "--vocab", f"{vocab}.model", "--seq-len", "128",
            "--num-shards", "6"]
    ref = tmp_path / "ref"
    start = time.monotonic()
    subprocess.run(PALMKIT + pack + ["--output", str(ref), "--quiet"], check=True, cwd=REPO)
    wall = time.monotonic() - start
    out = tmp_path / "out"
    rng = random.Random(11)
    kills = 0
    with open(tmp_path / "log.txt", "w") as log:
        for _ in range(3):  # at random points of a run (it resumes each time, so runs shorten)
            kills += run_killed(PALMKIT + pack + ["--output", str(out)], after=None,
                                delay=rng.uniform(0.3, 0.8) * wall, log=log)
    assert kills >= 1
    rerun = subprocess.run(PALMKIT + pack + ["--output", str(out)], cwd=REPO,
                           capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert tree_digest(str(out)) == tree_digest(str(ref))
    assert not (out / resume.RESUME_DIR).exists()


def test_pack_rerun_keeps_finished_shards_and_changed_option_repacks(tmp_path):
    """A shard marker counts only for the same run fingerprint and an intact file."""
    from palmkit.manifest import FileEntry
    from pipelines.pack_shards import resumed_shards

    run_dir = tmp_path
    (run_dir / "shard-00000-of-00002.parquet").write_bytes(b"x" * 10)
    cache = resume.WorkCache(resume.cache_root(str(run_dir)))
    result = {"index": 0, "name": "shard-00000-of-00002.parquet", "documents": 1,
              "dropped_tokens": 0, "tokens_per_component": {"web": 5},
              "entry": {"rows": 1, "bytes": 10, "sha256": "ab"}}
    cache.mark("shards", result["name"], {"run": "R1", "result": result})
    done = resumed_shards(str(run_dir), "R1")
    assert list(done) == [0] and done[0]["entry"] == FileEntry(rows=1, bytes=10, sha256="ab")
    assert resumed_shards(str(run_dir), "R2") == {}  # another configuration: packed again
    (run_dir / "shard-00000-of-00002.parquet").write_bytes(b"x" * 9)  # cut short
    assert resumed_shards(str(run_dir), "R1") == {}


def test_decision_memo_replays_decisions_and_misses_changed_documents(tmp_path):
    from palmkit.records import Document

    memo = resume.DecisionMemo(str(tmp_path / "d.sqlite"), "stage-A")
    doc = Document(id="x", text="hello world", component="web", source="a.jsonl", record=3)
    decided = Document(**{**doc.to_row(), "language": "en", "language_score": 0.93})
    memo.put(doc, decided, None)
    memo.put(Document(**{**doc.to_row(), "record": 4}), doc, ("language", "fr 0.9"))
    memo.flush()
    again = resume.DecisionMemo(str(tmp_path / "d.sqlite"), "stage-A")  # another process
    assert again.get(doc) == (decided, None)
    assert again.get(Document(**{**doc.to_row(), "record": 4}))[1] == ("language", "fr 0.9")
    assert again.get(Document(**{**doc.to_row(), "text": "hello world!"})) is None
    assert resume.DecisionMemo(str(tmp_path / "d.sqlite"), "stage-B").get(doc) is None
    unflushed = resume.DecisionMemo(str(tmp_path / "d.sqlite"), "stage-C")
    unflushed.put(doc, decided, None)  # never flushed (a killed worker): not there
    assert resume.DecisionMemo(str(tmp_path / "d.sqlite"), "stage-C").get(doc) is None


def test_stage_fingerprint_follows_options_and_model_files(tmp_path):
    import dataclasses

    import mixtures
    from pipelines.clean.langid import LanguageId
    from pipelines.corpus import CorpusConfig

    cfg = CorpusConfig(sources=SAMPLE, output=str(tmp_path / "o"))
    palm = mixtures.get("palm")
    base = resume.stage_fingerprint(LanguageId(cfg, palm))
    assert resume.stage_fingerprint(LanguageId(cfg, palm)) == base
    other = dataclasses.replace(cfg, langid=dataclasses.replace(cfg.langid, threshold=0.6))
    assert resume.stage_fingerprint(LanguageId(other, palm)) != base


def test_quality_classifier_is_trained_once_per_training_set(tmp_path, monkeypatch):
    from pipelines.clean import quality

    rows = [[("curated", f"a well written sentence number {i}") for i in range(30)]
            + [("web", f"buy now cheap click {i}") for i in range(30)]]
    args = [dict(quality.TRAIN_ARGS, seed=1, epoch=5)]
    first = quality._train_cached(rows, args, cache=str(tmp_path))
    assert all(os.path.exists(p) for p in first[0])  # model files, their paths returned
    monkeypatch.setattr(quality, "_train_in_fresh_processes",
                        lambda *a: pytest.fail("trained again"))
    assert quality._train_cached(rows, args, cache=str(tmp_path)) == first
    changed = [rows[0][:-1]]
    with pytest.raises(pytest.fail.Exception, match="trained again"):
        quality._train_cached(changed, args, cache=str(tmp_path))
