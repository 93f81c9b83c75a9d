"""User mistakes end a command with exit code 2 and one line; outputs are replaced only by a
run that succeeded; options are never abbreviated or silently dropped."""

from __future__ import annotations

import json
import os

import pytest

from palmkit import cli
from pipelines import pack as pack_job
from tests.corpus_fixture import write_corpus


def _sources(root) -> str:
    (root / "web").mkdir(parents=True, exist_ok=True)
    (root / "web" / "a.jsonl").write_text(
        "".join(json.dumps({"text": f"A page about number {i}, written in English."}) + "\n"
                for i in range(30)))
    (root / "mix.yaml").write_text("name: one\ncomponents:\n  web: {share: 1.0}\n")
    (root / "sources.yaml").write_text("components:\n  web:\n    - {format: jsonl, path: web/*.jsonl}\n")
    return str(root / "sources.yaml")


def _corpus_args(root, out, *extra):
    return ["corpus", "--sources", _sources(root), "--output", str(out), "--stages", "none",
            "--mixture", str(root / "mix.yaml"), "--quiet", *extra]


def _one_error_line(capsys, *needles):
    err = capsys.readouterr().err.strip().splitlines()
    err = [line for line in err if "apitools" not in line]
    assert len(err) == 1, err
    for needle in needles:
        assert needle in err[0], err[0]
    return err[0]


@pytest.mark.parametrize("flag, suggestion", [
    (["--quality-alfa", "1"], "--quality-alpha"),  # Beam used to drop it with a warning
    (["--num-shard", "3"], "--num-shards"),  # argparse used to take it as an abbreviation
    (["--direct_num_worker=2"], "--direct_num_workers"),
])
def test_misspelled_options_are_refused_with_a_suggestion(tmp_path, capsys, flag, suggestion):
    assert cli.main(_corpus_args(tmp_path, tmp_path / "out", *flag)) == 2
    _one_error_line(capsys, "palmkit corpus: error:", flag[0].split("=")[0], suggestion)
    assert not (tmp_path / "out").exists()


def test_beam_options_still_pass_through(tmp_path):
    args = _corpus_args(tmp_path, tmp_path / "out", "--direct_num_workers=1",
                        "--direct_running_mode=in_memory")
    assert cli.main(args) == 0


@pytest.mark.parametrize("flag, value", [("--max-doc-bytes", "0"), ("--num-shards", "0"),
                                         ("--langid-threshold", "1.5"), ("--quality-alpha", "-1"),
                                         ("--near-dedup-threshold", "nan")])
def test_bad_values_are_refused_before_any_work(tmp_path, capsys, flag, value):
    assert cli.main(_corpus_args(tmp_path, tmp_path / "out", flag, value)) == 2
    _one_error_line(capsys, flag)
    assert not (tmp_path / "out").exists()


def test_debug_shows_the_traceback(tmp_path):
    from palmkit.errors import UserError

    with pytest.raises(UserError, match="--num-shards"):
        cli.main(_corpus_args(tmp_path, tmp_path / "out", "--num-shards", "0", "--debug"))


def test_output_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("mine")
    assert cli.main(_corpus_args(tmp_path, target)) == 2
    _one_error_line(capsys, "is a file")
    assert target.read_text() == "mine"


def test_failed_overwrite_keeps_the_previous_corpus(tmp_path):
    out = tmp_path / "out"
    assert cli.main(_corpus_args(tmp_path, out)) == 0
    before = {p: open(os.path.join(dp, p), "rb").read()
              for dp, _, fs in os.walk(out) for p in fs}
    with pytest.raises(Exception, match="stage failed on purpose"):
        cli.main(_corpus_args(tmp_path, out, "--overwrite", "--stages", "tests.failing_stage:Boom"))
    after = {p: open(os.path.join(dp, p), "rb").read()
             for dp, _, fs in os.walk(out) if ".incoming" not in dp for p in fs}
    assert after == before  # the old corpus, whole
    assert cli.main(_corpus_args(tmp_path, out, "--overwrite")) == 0  # and a good run replaces it
    assert not (out / ".incoming").exists()


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    from tokenizer.train import TrainConfig, main as train_vocab

    root = tmp_path_factory.mktemp("pk")
    texts = [(None, f"Document {i}: " + "words and more words. " * (5 + i % 7)) for i in range(300)]
    (root / "mix.yaml").write_text("name: one\ncomponents:\n  web: {share: 1.0}\n")
    corpus = write_corpus(root / "corpus", {"web": texts}, mixture=str(root / "mix.yaml"))
    train_vocab(TrainConfig(corpus=corpus, output=str(root / "v"), vocab_size=300,
                            model_type="bpe", digits="ascii", skip_size_check=True, num_threads=1))
    return corpus, str(root / "v.model")


def _pack_args(corpus, vocab, out, *extra):
    return ["pack", "--corpus", corpus, "--vocab", vocab, "--output", str(out), "--seq-len", "64",
            *extra]


def test_pack_refuses_a_previous_pack_and_replaces_it_without_stale_shards(small_corpus, tmp_path,
                                                                           capsys, monkeypatch):
    corpus, vocab = small_corpus
    out = tmp_path / "p"
    assert cli.main(_pack_args(corpus, vocab, out, "--num-shards", "4")) == 0
    assert cli.main(_pack_args(corpus, vocab, out, "--num-shards", "2")) == 2
    _one_error_line(capsys, "already holds a pack output", "--overwrite")
    old = sorted(os.listdir(out))

    def fail(*a, **k):
        raise RuntimeError("pack failed on purpose")

    monkeypatch.setattr(pack_job, "pack_shard", fail)
    with pytest.raises(Exception, match="pack failed on purpose"):
        cli.main(_pack_args(corpus, vocab, out, "--num-shards", "2", "--overwrite"))
    assert sorted(p for p in os.listdir(out) if p != ".incoming") == old
    monkeypatch.undo()
    assert cli.main(_pack_args(corpus, vocab, out, "--num-shards", "2", "--overwrite")) == 0
    assert sorted(os.listdir(out)) == [  # the 4-shard run's files, sidecars too, are gone
        "components-00000-of-00002.parquet", "components-00001-of-00002.parquet",
        "manifest.json", "shard-00000-of-00002.parquet", "shard-00001-of-00002.parquet"]


@pytest.mark.parametrize("extra, needle", [
    (["--seq-len", "1"], "--seq-len"), (["--total-tokens", "0"], "--total-tokens"),
    (["--total-tokens", "-5"], "--total-tokens"), (["--num-shards", "0"], "--num-shards"),
    (["--seq-len", "100000000"], "longer than all the data"),
])
def test_pack_bad_values_are_refused_up_front(small_corpus, tmp_path, capsys, extra, needle):
    corpus, vocab = small_corpus
    assert cli.main(_pack_args(corpus, vocab, tmp_path / "p", *extra)) == 2
    _one_error_line(capsys, needle)
    assert not (tmp_path / "p").exists()


def test_pack_verifies_corpus_checksums_and_the_vocab_report(small_corpus, tmp_path, capsys):
    import shutil

    corpus, vocab = small_corpus
    bad = tmp_path / "corpus"
    shutil.copytree(corpus, bad)
    shard = next(p for p in (bad / "clean" / "web").iterdir())
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit
    shard.write_bytes(bytes(data))
    assert cli.main(_pack_args(str(bad), vocab, tmp_path / "p")) == 2
    _one_error_line(capsys, "SHA-256")
    other = tmp_path / "v.model"
    shutil.copy(vocab, other)
    (tmp_path / "v.json").write_text(json.dumps({"sha256": "0" * 64}))
    assert cli.main(_pack_args(corpus, str(other), tmp_path / "p2")) == 2
    _one_error_line(capsys, "does not match", "v.json")
