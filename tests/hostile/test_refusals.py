"""Where refusing is right, every command refuses in one line with exit code 2, before any
work, and writes nothing outside (and nothing inside) its output folder."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from palmkit import cli
from tests.corpus_fixture import write_corpus
from tests.shards_fixture import random_tokens, write_shards

LID = os.path.join(os.path.dirname(__file__), "..", "..", "pipelines", "resources", "lid.176.ftz")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny good corpus, vocabulary and pack output, and a set of bad files."""
    from tokenizer.train import TrainConfig, main as train_vocab

    root = tmp_path_factory.mktemp("refuse")
    (root / "web").mkdir()
    (root / "web" / "a.jsonl").write_text(
        "".join(json.dumps({"text": f"Page {i}: some English words to read."}) + "\n"
                for i in range(20)))
    (root / "one.yaml").write_text("name: one\ncomponents:\n  web: {share: 1.0}\n")
    (root / "sources.yaml").write_text("components:\n  web: [{format: jsonl, path: web/*.jsonl}]\n")
    texts = [(None, f"Document {i}: " + "words and more words. " * (5 + i % 7)) for i in range(200)]
    corpus = write_corpus(root / "corpus", {"web": texts}, mixture=str(root / "one.yaml"))
    train_vocab(TrainConfig(corpus=corpus, output=str(root / "v"), vocab_size=300,
                            model_type="bpe", digits="ascii", skip_size_check=True, num_threads=1))
    shards = write_shards(root / "shards", random_tokens(16, 16))
    model = (root / "v.model").read_bytes()
    (root / "truncated.model").write_bytes(model[: len(model) // 2])
    (root / "random.model").write_bytes(os.urandom(4096))
    lid = open(LID, "rb").read()
    (root / "truncated.ftz").write_bytes(lid[: len(lid) // 3])
    (root / "text.ftz").write_text("this is not a fastText model\n")
    (root / "empty.ftz").write_bytes(b"")
    (root / "bad.yaml").write_text("components: [unclosed\n")
    (root / "escape.yaml").write_text("components:\n  ../../x: [{format: jsonl, path: web/*.jsonl}]\n")
    (root / "escape-mix.yaml").write_text("name: e\ncomponents:\n  ../../x: {share: 1.0}\n")
    (root / "nan.yaml").write_text("name: n\ncomponents:\n  web: {share: .nan}\n")
    (root / "afile").write_text("not a folder")
    return root, corpus, shards


def _corpus(root, *extra, sources="sources.yaml", mixture="one.yaml"):
    return ["corpus", "--sources", str(root / sources), "--output", str(root / "out"),
            "--mixture", str(root / mixture), "--quiet", *extra]


CASES = {
    "missing sources": lambda r, c, s: _corpus(r, sources="nope.yaml"),
    "bad yaml": lambda r, c, s: _corpus(r, sources="bad.yaml"),
    "component escapes the output": lambda r, c, s: _corpus(r, sources="escape.yaml",
                                                            mixture="escape-mix.yaml"),
    "nan share": lambda r, c, s: _corpus(r, mixture="nan.yaml"),
    "truncated langid model": lambda r, c, s: _corpus(r, "--langid-model", str(r / "truncated.ftz"),
                                                      "--stages", "pipelines.clean.langid:LanguageId"),
    "text as langid model": lambda r, c, s: _corpus(r, "--langid-model", str(r / "text.ftz"),
                                                    "--stages", "pipelines.clean.langid:LanguageId"),
    "empty quality model": lambda r, c, s: _corpus(r, "--quality-model", str(r / "empty.ftz")),
    "output is a file": lambda r, c, s: ["corpus", "--sources", str(r / "sources.yaml"),
                                         "--output", str(r / "afile"), "--mixture",
                                         str(r / "one.yaml")],
    "vocab size 0": lambda r, c, s: ["vocab", "train", "--corpus", c, "--output",
                                     str(r / "out" / "v"), "--vocab-size", "0"],
    "vocab from a pack output": lambda r, c, s: ["vocab", "train", "--corpus", s, "--output",
                                                 str(r / "out" / "v")],
    "truncated vocab": lambda r, c, s: ["pack", "--corpus", c, "--vocab", str(r / "truncated.model"),
                                        "--output", str(r / "out")],
    "random bytes vocab": lambda r, c, s: ["pack", "--corpus", c, "--vocab", str(r / "random.model"),
                                           "--output", str(r / "out")],
    "pack from a pack output": lambda r, c, s: ["pack", "--corpus", s, "--vocab", str(r / "v.model"),
                                                "--output", str(r / "out")],
    "pack seq len 1": lambda r, c, s: ["pack", "--corpus", c, "--vocab", str(r / "v.model"),
                                       "--output", str(r / "out"), "--seq-len", "1"],
    "train negative steps": lambda r, c, s: ["train", "--data", s, "--workdir", str(r / "out"),
                                             "--steps", "-1"],
    "train checkpoint every 0": lambda r, c, s: ["train", "--data", s, "--workdir", str(r / "out"),
                                                 "--steps", "2", "--checkpoint-every", "0"],
    "train on a corpus": lambda r, c, s: ["train", "--data", c, "--workdir", str(r / "out"),
                                          "--steps", "2"],
    "train on nothing": lambda r, c, s: ["train", "--data", str(r / "nope"), "--workdir",
                                         str(r / "out"), "--steps", "2"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_in_one_line(world, case, capsys):
    root, corpus, shards = world
    shutil.rmtree(root / "out", ignore_errors=True)
    before = sorted(os.listdir(root))
    assert cli.main(CASES[case](root, corpus, shards)) == 2
    err = [line for line in capsys.readouterr().err.strip().splitlines() if "apitools" not in line]
    assert len(err) == 1 and err[0].startswith("palmkit ") and ": error: " in err[0], err
    assert sorted(os.listdir(root)) == before  # no output folder, nothing beside it
    assert not os.path.exists(os.path.join(str(root), "..", "x"))
