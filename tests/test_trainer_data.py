"""Reading packed shards: manifest checks, random access across shards and row groups, steps."""

import os

import numpy as np
import pytest

from palmkit.manifest import ManifestError
from tests.shards_fixture import random_tokens, write_shards
from trainer import data, schedules
from trainer.train import TrainConfig, model_config

SEQ = 16


@pytest.fixture
def shards(tmp_path):
    tokens = random_tokens(100, SEQ)
    # 3 shards (34, 33, 33 rows) of row groups of 10: batches cross both kinds of boundary.
    return write_shards(tmp_path / "s", tokens, num_shards=3, rows_per_group=10), tokens


def test_random_access_matches_training_order(shards):
    root, tokens = shards
    ex = data.PackedExamples(data.read_spec(root))
    assert len(ex) == 100
    np.testing.assert_array_equal(ex.read(0, 100), tokens)
    np.testing.assert_array_equal(ex.read(28, 41), tokens[28:41])  # crosses shard 0 -> 1
    np.testing.assert_array_equal(ex[67], tokens[67])
    with pytest.raises(IndexError):
        ex.read(95, 101)


def test_step_batches_follow_the_schedule_and_skips_through_grain(shards):
    root, tokens = shards
    ex = data.PackedExamples(data.read_spec(root))
    sched = schedules.parse_batch_schedule("0:4,3:8")
    skip = schedules.Skip(at_step=4, examples=10, start_example=12)
    batches = data.StepBatches(ex, schedule=sched, skips=[skip], first_step=2, last_step=6)
    got = list(data.step_iterator(batches, prefetch=2))
    assert [b.step for b in got] == [2, 3, 4, 5, 6]
    assert [b.first_example for b in got] == [4, 8, 22, 30, 38]
    for b in got:
        np.testing.assert_array_equal(b.tokens, tokens[b.first_example: b.first_example + b.global_size])
    # Random access by step gives the same batch as iteration (pure function of the step).
    np.testing.assert_array_equal(batches[3].tokens, got[3].tokens)
    # Process 1 of 2 reads only the second half of each global batch.
    half = data.StepBatches(ex, schedule=sched, skips=[skip], first_step=2, last_step=6,
                            process_index=1, process_count=2)
    np.testing.assert_array_equal(half[2].tokens, tokens[26:30])


def test_running_out_of_data_is_an_error_unless_repeat_is_allowed(shards):
    root, tokens = shards
    ex = data.PackedExamples(data.read_spec(root))
    sched = ((0, 8),)
    with pytest.raises(IndexError, match="one epoch"):
        data.StepBatches(ex, schedule=sched, skips=(), first_step=13, last_step=13)[0]
    wrapped = data.StepBatches(ex, schedule=sched, skips=(), first_step=13, last_step=13,
                               allow_repeat=True)[0]
    np.testing.assert_array_equal(wrapped.tokens, tokens[np.arange(96, 104) % 100])


def _cfg(root, **overrides):
    return TrainConfig(data=str(root), workdir="unused", steps=1, model_overrides=overrides)


def test_model_config_comes_from_the_manifest(shards):
    root, _ = shards
    cfg = model_config(_cfg(root), data.read_spec(root))
    assert (cfg.seq_len, cfg.vocab_size, cfg.eod_id) == (SEQ, 512, 1)
    assert model_config(_cfg(root, vocab_size=1024), data.read_spec(root)).vocab_size == 1024


@pytest.mark.parametrize("override, message", [
    ({"seq_len": 32}, "seq_len=16"),
    ({"vocab_size": 256}, "vocabulary of 512"),
    ({"eod_id": 3}, r"\[eod\] id is 1"),
])
def test_forced_mismatch_with_the_manifest_is_a_clear_error(shards, override, message):
    root, _ = shards
    with pytest.raises(ManifestError, match=message):
        model_config(_cfg(root, **override), data.read_spec(root))


def test_corrupted_shard_fails_its_checksum(shards):
    root, _ = shards
    path = os.path.join(root, "shard-00001-of-00003.parquet")
    blob = bytearray(open(path, "rb").read())
    blob[100] ^= 0xFF  # same size, different bytes
    open(path, "wb").write(bytes(blob))
    with pytest.raises(ManifestError, match="SHA-256"):
        data.read_spec(root)
    data.read_spec(root, verify_checksums=False)  # sizes only: passes


def test_not_a_pack_output_is_a_clear_error(tmp_path):
    with pytest.raises(ManifestError, match="palmkit pack"):
        data.read_spec(str(tmp_path))
