"""`palmkit pack --segment-ids`: per-token segment_ids and positions agree with the attention
mask model_stub derives from [eod] (issue 18), and the dropped-tokens warning."""

import logging

import jax.numpy as jnp
import numpy as np
import pytest

from model_stub.palm import attention_mask, eod_segment_ids
from palmkit.cli import main as cli
from palmkit.contracts import PackedDataSpec
from palmkit.manifest import Manifest
from pipelines import pack as pack_job
from pipelines import packing
from tests.corpus_fixture import write_corpus
from tests.sample_text import paragraphs
from tests.shards_fixture import random_tokens, write_shards
from tokenizer.train import TrainConfig
from tokenizer.train import main as train_vocab
from trainer import data

SEQ_LEN = 64
EOD = 1


def test_columns_on_a_hand_made_row():
    row = np.array([[EOD, 5, 6, EOD, 7, EOD, EOD, 8]])
    np.testing.assert_array_equal(packing.segment_ids(row, EOD), [[1, 2, 2, 2, 3, 3, 4, 5]])
    np.testing.assert_array_equal(packing.segment_positions(row, EOD), [[0, 0, 1, 2, 0, 1, 0, 0]])
    mid = np.array([[5, 6, EOD, 7]])  # a row that starts inside a document
    np.testing.assert_array_equal(packing.segment_ids(mid, EOD), [[1, 1, 1, 2]])
    np.testing.assert_array_equal(packing.segment_positions(mid, EOD), [[0, 1, 2, 0]])


def _agree_with_model(tokens, segments, positions, eod_id):
    model = np.asarray(eod_segment_ids(jnp.asarray(tokens), eod_id))
    np.testing.assert_array_equal(segments, model + 1)  # the same ids, 1-based
    np.testing.assert_array_equal(np.asarray(attention_mask(jnp.asarray(segments), tokens.shape[1])),
                                  np.asarray(attention_mask(jnp.asarray(model), tokens.shape[1])))
    for t, s, p in zip(tokens, segments, positions):
        starts = np.flatnonzero(np.diff(s, prepend=0))  # first token of each segment
        assert list(p[starts]) == [0] * len(starts)
        np.testing.assert_array_equal(np.diff(p)[np.diff(s) == 0], 1)


def test_random_rows_agree_with_model_stub_eod_mask():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 6, (16, 32)).astype(np.int32)  # many [eod] (id 1) in every row
    _agree_with_model(tokens, packing.segment_ids(tokens, EOD),
                      packing.segment_positions(tokens, EOD), EOD)


@pytest.fixture(scope="module")
def corpus_and_vocab(tmp_path_factory):
    root = tmp_path_factory.mktemp("seg")
    texts = paragraphs(900)
    docs = {"web": [("en", p) for p in texts[0:600]], "code": [(None, p) for p in texts[600:]]}
    mix = root / "mix.yaml"
    mix.write_text("name: two\ncomponents:\n  web: {share: 0.7}\n  code: {share: 0.3}\n")
    corpus = write_corpus(root / "corpus", docs, mixture=str(mix), files_per_component=2)
    prefix = str(root / "vocab")
    train_vocab(TrainConfig(corpus=corpus, output=prefix, vocab_size=600, model_type="bpe",
                            digits="ascii", skip_size_check=True, num_threads=1))
    return corpus, prefix + ".model"


def _pack(corpus, vocab, out, *extra):
    args = ["pack", "--corpus", corpus, "--vocab", vocab, "--output", str(out),
            "--seq-len", str(SEQ_LEN), "--num-shards", "2", *extra]
    assert cli(args) == 0
    return data.read_spec(str(out))


def test_packed_shards_columns_agree_with_the_eod_mask(corpus_and_vocab, tmp_path):
    corpus, vocab = corpus_and_vocab
    spec = _pack(corpus, vocab, tmp_path / "seg", "--segment-ids")
    plain = _pack(corpus, vocab, tmp_path / "plain")
    assert spec.segment_ids and not plain.segment_ids
    assert "segment_ids" not in Manifest.read(plain.directory).extra  # old packs' bytes unchanged
    ex = data.PackedExamples(spec)
    assert ex.columns == ("tokens", "segment_ids", "positions")
    tokens = ex.read(0, len(ex))
    np.testing.assert_array_equal(tokens, data.PackedExamples(plain).read(0, len(ex)))
    _agree_with_model(tokens, ex.read(0, len(ex), "segment_ids"), ex.read(0, len(ex), "positions"),
                      spec.eod_id)
    assert tokens[0, 0] == spec.eod_id  # a shard's leading [eod] is segment 1 on its own
    assert ex.read(0, 1, "segment_ids")[0, :2].tolist() == [1, 2]
    # The trainer's batches carry the columns (None without --segment-ids).
    batches = data.StepBatches(ex, schedule=((0, 4),), skips=(), first_step=2, last_step=2)
    b = batches[0]
    np.testing.assert_array_equal(b.segment_ids, ex.read(4, 8, "segment_ids"))
    np.testing.assert_array_equal(b.positions, ex.read(4, 8, "positions"))
    plain_batch = data.StepBatches(data.PackedExamples(plain), schedule=((0, 4),), skips=(),
                                   first_step=1, last_step=1)[0]
    assert plain_batch.segment_ids is None and plain_batch.positions is None


def test_dropped_tokens_warn_above_one_percent(tmp_path, caplog):
    root = write_shards(tmp_path / "s", random_tokens(10, 16), num_shards=2)
    manifest = Manifest.read(root)
    manifest.counts["dropped_tokens"] = 1  # 1 of 161: 0.6%
    with caplog.at_level(logging.WARNING, logger="pipelines.pack"):
        assert pack_job.warn_dropped(manifest) < 0.01
    assert not caplog.records
    manifest.counts["dropped_tokens"] = 30  # 30 of 190: 16%
    with caplog.at_level(logging.WARNING, logger="pipelines.pack"):
        assert pack_job.warn_dropped(manifest) == pytest.approx(30 / 190)
    (record,) = caplog.records
    assert "--num-shards" in record.getMessage() and "--seq-len" in record.getMessage()
    assert "\n" not in record.getMessage()
    assert PackedDataSpec.from_manifest(manifest).num_shards == 2


def test_array_record_format_holds_the_same_examples(corpus_and_vocab, tmp_path):
    import grain

    corpus, vocab = corpus_and_vocab
    ar = _pack(corpus, vocab, tmp_path / "ar", "--format", "array_record", "--segment-ids")
    pq_spec = _pack(corpus, vocab, tmp_path / "pq", "--segment-ids")
    assert ar.format == "array_record" and pq_spec.format == "parquet"
    assert all(s.endswith(".array_record") for s in ar.shards)
    assert ar.examples_per_shard == pq_spec.examples_per_shard
    assert "format" not in Manifest.read(pq_spec.directory).extra
    a, p = data.PackedExamples(ar), data.PackedExamples(pq_spec)
    for column in a.columns:
        np.testing.assert_array_equal(a.read(0, len(a), column), p.read(0, len(p), column))
    # Plain Grain reads a record: tokens, segment_ids, positions, each seq_len int32 LE.
    source = grain.sources.ArrayRecordDataSource([f"{ar.directory}/{s}" for s in ar.shards])
    assert len(source) == len(a)
    first = np.frombuffer(source[0], "<i4").reshape(-1, SEQ_LEN)
    np.testing.assert_array_equal(first, np.stack([p.read(0, 1, c)[0] for c in p.columns]))
    # Same inputs, same bytes; and the trainer's batches come from the records.
    again = _pack(corpus, vocab, tmp_path / "ar2", "--format", "array_record", "--segment-ids")
    assert [open(f"{again.directory}/{s}", "rb").read() for s in again.shards] == \
        [open(f"{ar.directory}/{s}", "rb").read() for s in ar.shards]
    batch = data.StepBatches(a, schedule=((0, 4),), skips=(), first_step=3, last_step=3)[0]
    np.testing.assert_array_equal(batch.tokens, p.read(8, 12))
