"""The whole path on real text: corpus -> vocabulary -> `palmkit pack` (Beam) -> `palmkit train`.

Slow (Beam and SentencePiece training, ~1 min on 2 loaded cores); the fast tests use shards written
directly (tests/shards_fixture.py)."""

import numpy as np
import pytest

from palmkit.cli import main as cli
from tests.corpus_fixture import write_corpus
from tests.sample_text import paragraphs
from tokenizer.train import TrainConfig as VocabConfig
from tokenizer.train import main as train_vocab
from trainer.metrics import read_jsonl


@pytest.mark.slow
def test_palm_tiny_loss_falls_on_packed_real_text(tmp_path):
    texts = paragraphs(2000)  # real text: the sample code tree's sources, READMEs, licences
    mix = tmp_path / "mix.yaml"
    mix.write_text("name: two\ncomponents:\n  web: {share: 0.7}\n  code: {share: 0.3}\n")
    corpus = write_corpus(tmp_path / "corpus", {"web": [("en", p) for p in texts[:1400]],
                                                "code": [(None, p) for p in texts[1400:]]},
                          mixture=str(mix))
    train_vocab(VocabConfig(corpus=corpus, output=str(tmp_path / "vocab"), vocab_size=800,
                            model_type="bpe", digits="ascii", skip_size_check=True, num_threads=1))
    shards = str(tmp_path / "shards")
    assert cli(["pack", "--corpus", corpus, "--vocab", str(tmp_path / "vocab.model"), "--output",
                shards, "--seq-len", "64", "--num-shards", "2", "--seed", "1"]) == 0
    assert cli(["train", "--data", shards, "--workdir", str(tmp_path / "w"), "--steps", "40",
                "--preset", "palm-tiny", "--batch-schedule", "0:8", "--lr-constant-steps", "10",
                "--checkpoint-every", "20", "--quiet"]) == 0
    rows = read_jsonl(str(tmp_path / "w" / "metrics.jsonl"))
    assert len(rows) == 40
    first, last = rows[0]["loss"], np.mean([r["loss"] for r in rows[-5:]])
    assert first > 6.0 and last < first - 1.0, (first, last)
