"""Texts that wait at fusion breaks go to the run's disk (palmkit/spill.py): records pickle to
small references and come back whole; persistent bytes stay inline; the corpus job's output is
byte-identical with and without spilling; nothing is left behind."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pytest

from palmkit import cli, spill
from palmkit.records import Document, Reject, from_wire, stored_wire, to_wire
from pipelines import corpus
from tests.test_corpus_job import SAMPLE, all_bytes

_WORDS = "Ünïcödé text code 🙂 emoji \n\t indented\u2581line λ 漢字 x1 y2".split(" ")
LONG = " ".join(_WORDS[(i * 7919) % 97 % len(_WORDS)] + str(i) for i in range(2000))


def doc(text: str = LONG, **kw) -> Document:
    return Document(id="d1", text=text, component="web", source="s.jsonl", record=3,
                    language="en", metadata={"url": "http://x"}, **kw)


def test_records_pickle_to_references_while_spilling_and_come_back_whole(tmp_path):
    inline = len(to_wire(doc()))
    with spill.enabled(str(tmp_path / "spill")):
        wire = to_wire(doc())
        assert len(wire) < 200 < inline  # a reference, not the compressed text
        assert from_wire(wire) == doc()
        rej = Reject.of(doc(), "duplicate", "same text", duplicate_of="d0", similarity=1.0)
        assert len(to_wire(rej)) < 300 and from_wire(to_wire(rej)) == rej
        short = doc("tiny")  # below MIN_BYTES compressed: inline
        assert from_wire(to_wire(short)) == short and b"spill" not in to_wire(short)
        odd = doc("lone surrogate \udc80 and NUL \x00 " * 50)  # what validation later rejects
        assert from_wire(to_wire(odd)).text == odd.text
        not_text = Document(id="x", text=b"\xff\xfe" * 500, component="web", source="s",
                            record=0)  # wrong field type: pickled as it is
        assert from_wire(to_wire(not_text)).text == not_text.text
        assert len(os.listdir(tmp_path / "spill")) == 1
    assert not (tmp_path / "spill").exists()  # deleted when the job ends


def test_stored_bytes_outlive_the_spill_folder(tmp_path):
    with spill.enabled(str(tmp_path / "spill")):
        stored, transient = stored_wire(doc()), to_wire(doc())
    assert from_wire(stored) == doc()
    with pytest.raises(RuntimeError, match="PALMKIT_SPILL_DIR unset"):
        from_wire(transient)


def test_a_killed_runs_leftovers_are_removed_and_other_processes_read_the_files(tmp_path):
    folder = tmp_path / "spill"
    folder.mkdir()
    (folder / "123-old.spill").write_bytes(b"garbage")
    with spill.enabled(str(folder)):
        assert os.listdir(folder) == []
        wire = to_wire(doc())
        # another worker process sees the bytes at once: the writer does not buffer
        code = ("import sys; from palmkit.records import from_wire; "
                "sys.stdout.write(from_wire(sys.stdin.buffer.read()).text[:40])")
        out = subprocess.run([sys.executable, "-c", code], input=wire, capture_output=True,
                             env={**os.environ, "PYTHONPATH": os.getcwd()}, check=True)
        assert out.stdout.decode() == LONG[:40]


@pytest.mark.slow
def test_corpus_job_output_is_the_same_with_and_without_spilling(tmp_path, monkeypatch):
    args = ["corpus", "--sources", SAMPLE, "--quiet", "--quality-alpha", "1"]
    puts = []
    real_put = spill.put
    monkeypatch.setattr(spill, "put", lambda data: puts.append(1) or real_put(data))
    assert cli.main(args + ["--output", str(tmp_path / "spilled")]) == 0
    assert len(puts) > 1000  # the documents' texts did go through the spill files
    assert not (tmp_path / "spilled" / corpus.SPILL_DIR).exists()
    monkeypatch.setattr(corpus, "local_memory", lambda run_dir: contextlib.nullcontext())
    assert cli.main(args + ["--output", str(tmp_path / "in_memory")]) == 0
    assert all_bytes(tmp_path / "spilled") == all_bytes(tmp_path / "in_memory")
