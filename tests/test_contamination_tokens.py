"""Token n-grams (`--unit tokens`), packed shards as the corpus (`--shards`), and `palmkit pack`
reading a decontaminated corpus: one small vocabulary trained on the test corpus."""

import json
import os

import pytest

from palmkit.cli import main as cli
from palmkit.manifest import Manifest
from tests.corpus_fixture import write_corpus
from tests.sample_text import paragraphs
from tests.test_contamination_job import EVALS, _examples
from tokenizer.train import TrainConfig
from tokenizer.train import main as train_vocab


@pytest.fixture(scope="module")
def corpus_and_vocab(tmp_path_factory):
    root = tmp_path_factory.mktemp("tokens")
    ex, fill = _examples(), paragraphs(400)
    docs = [("en", t) for t in fill[:300]]
    docs[5] = ("en", f"{fill[300]}\n{ex['whole']}\n{fill[301]}")  # raw text, as the example
    docs[9] = ("en", f"{fill[302]}\n{ex['above'].upper()}\n{fill[303]}")  # tokens see case
    mix = root / "mix.yaml"
    mix.write_text("name: one\ncomponents:\n  web: {share: 1.0}\n")
    corpus = write_corpus(root / "corpus", {"web": docs}, mixture=str(mix))
    prefix = str(root / "vocab")
    train_vocab(TrainConfig(corpus=corpus, output=prefix, vocab_size=600, model_type="bpe",
                            digits="ascii", skip_size_check=True, num_threads=1))
    return corpus, prefix + ".model"


def _contaminated(out):
    with open(os.path.join(out, "sets", "qa.json"), encoding="utf-8") as f:
        return set(json.load(f)["contaminated"])


def test_token_ngrams_on_a_corpus_and_on_its_packed_shards(corpus_and_vocab, tmp_path):
    corpus, vocab = corpus_and_vocab
    common = ["--eval-sets", EVALS, "--unit", "tokens", "--vocab", vocab]
    assert cli(["contamination", "--corpus", corpus, *common, "--output",
                str(tmp_path / "c"), "--remove"]) == 0
    assert _contaminated(tmp_path / "c") == {"whole"}  # upper-cased tokens differ
    # the decontaminated corpus packs like any corpus, and its shards hold no example any more
    assert cli(["pack", "--corpus", str(tmp_path / "c" / "corpus"), "--vocab", vocab,
                "--output", str(tmp_path / "packed"), "--seq-len", "64", "--num-shards",
                "2"]) == 0
    assert cli(["contamination", "--shards", str(tmp_path / "packed"), *common, "--output",
                str(tmp_path / "s")]) == 0
    assert _contaminated(tmp_path / "s") == set()
    # packed shards of the original corpus: the example is found across rows of a shard
    assert cli(["pack", "--corpus", corpus, "--vocab", vocab, "--output",
                str(tmp_path / "orig"), "--seq-len", "64", "--num-shards", "2"]) == 0
    assert cli(["contamination", "--shards", str(tmp_path / "orig"), *common, "--output",
                str(tmp_path / "s2")]) == 0
    assert _contaminated(tmp_path / "s2") == {"whole"}
    summary = Manifest.read(str(tmp_path / "s2"), stage="contamination").extra["summary"]
    assert summary["rule"]["unit"] == "tokens" and summary["scan"]["documents"] > 0


def test_shards_need_tokens_and_the_packs_vocabulary(corpus_and_vocab, tmp_path, capsys):
    corpus, vocab = corpus_and_vocab
    code = cli(["contamination", "--shards", corpus, "--eval-sets", EVALS, "--output",
                str(tmp_path / "o")])
    assert code == 2 and "--unit tokens" in capsys.readouterr().err
    code = cli(["contamination", "--shards", corpus, "--eval-sets", EVALS, "--unit", "tokens",
                "--vocab", vocab, "--output", str(tmp_path / "o")])
    assert code == 2 and "'pack' output is needed" in capsys.readouterr().err
