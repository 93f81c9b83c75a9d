"""palm-tiny end to end on real text: the loss falls, resume is bitwise, spikes roll back and skip.

All runs share one model config (byte vocabulary, 64 tokens) so the train step compiles once per
batch size for the whole module (~10-20 s on 2 loaded cores); each run is then ~1-3 s."""

import json
import os
import shutil

import jax
import numpy as np
import pytest

from tests.shards_fixture import BYTE_EOD, BYTE_VOCAB, real_text_tokens, write_shards
from trainer import schedules
from trainer.metrics import read_jsonl
from trainer.train import TrainConfig, main


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    return write_shards(root, real_text_tokens(1200, 64), num_shards=3, vocab_size=BYTE_VOCAB,
                        eod_id=BYTE_EOD, rows_per_group=64)


def _config(shards, workdir, steps, **kw):
    base = dict(data=shards, workdir=str(workdir), steps=steps, batch_schedule=((0, 8),),
                lr_constant_steps=10, checkpoint_every=4, progress=False)
    return TrainConfig(**{**base, **kw})


def _params_bytes(result):
    return [np.asarray(x).tobytes() for x in jax.tree.leaves(result["state"]["params"])]


def test_loss_falls_on_real_text(shards, tmp_path):
    main(_config(shards, tmp_path / "w", 30, checkpoint_every=100))
    rows = read_jsonl(str(tmp_path / "w" / "metrics.jsonl"))
    assert [r["step"] for r in rows] == list(range(1, 31))
    for key in ("loss", "z_loss", "lr", "grad_norm", "tokens_per_sec", "mfu"):
        assert all(np.isfinite(r[key]) for r in rows), key
    first, last = rows[0]["loss"], np.mean([r["loss"] for r in rows[-5:]])
    assert first > 5.0 and last < first - 1.5, (first, last)
    assert os.listdir(tmp_path / "w" / "tensorboard")


def test_stop_and_resume_is_bitwise_identical(shards, tmp_path):
    kw = dict(batch_schedule=((0, 4), (6, 8)))  # the batch size changes mid-run
    straight = main(_config(shards, tmp_path / "a", 12, **kw))
    main(_config(shards, tmp_path / "b", 6, **kw))
    # A crash during a save leaves only Orbax's tmp folder: it must be ignored.
    junk = tmp_path / "b" / "checkpoints" / "8.orbax-checkpoint-tmp-1700000000"
    junk.mkdir()
    (junk / "garbage").write_bytes(b"\x00" * 100)
    resumed = main(_config(shards, tmp_path / "b", 12, **kw))
    a = read_jsonl(str(tmp_path / "a" / "metrics.jsonl"))
    b = read_jsonl(str(tmp_path / "b" / "metrics.jsonl"))
    assert [r["step"] for r in b] == list(range(1, 13))
    assert [r["loss"] for r in a] == [r["loss"] for r in b]
    assert [r["first_example"] for r in a] == [r["first_example"] for r in b]
    assert [r["batch_size"] for r in a] == [4] * 6 + [8] * 6
    assert _params_bytes(straight) == _params_bytes(resumed)


def _spike_config(shards, workdir, steps):
    # Step 14 reads examples [104, 112): make that batch "corrupt" (loss x 100).
    return _config(shards, workdir, steps, debug_spike_examples=(105, 106), spike_window=10,
                   spike_min_history=5, rollback_steps=3, skip_batches=8)


def test_spike_rolls_back_skips_and_replays_on_resume(shards, tmp_path):
    straight = main(_spike_config(shards, tmp_path / "a", 24))
    assert straight["rollbacks"] == 1
    (skip,) = straight["skips"]
    # Spike at 14 -> latest checkpoint at or before 14 - 3 is step 8; skip the 8 batches of 9..16.
    assert (skip.spike_step, skip.restored_step, skip.at_step) == (14, 8, 9)
    assert (skip.start_example, skip.examples) == (64, 64)
    assert skip.spike_loss > 100 * skip.median_loss / 2
    on_disk = json.load(open(tmp_path / "a" / "skips.json"))["skips"]
    assert on_disk[0]["spike_step"] == 14
    rows = read_jsonl(str(tmp_path / "a" / "metrics.jsonl"))
    assert [r["step"] for r in rows] == list(range(1, 25))  # the abandoned steps are gone
    firsts = [r["first_example"] for r in rows]
    assert firsts == [schedules.examples_before(k, ((0, 8),), [skip]) for k in range(1, 25)]
    assert all(not (f <= 105 < f + 8) for f in firsts)  # the corrupt batch is never trained on
    assert max(r["loss"] for r in rows) < 10

    # Same run in two pieces: the rollback happens in the first, the resume replays the skip.
    main(_spike_config(shards, tmp_path / "b", 16))
    resumed = main(_spike_config(shards, tmp_path / "b", 24))
    assert resumed["rollbacks"] == 0 and resumed["skips"] == straight["skips"]
    b = read_jsonl(str(tmp_path / "b" / "metrics.jsonl"))
    assert [r["loss"] for r in b] == [r["loss"] for r in rows]
    assert _params_bytes(straight) == _params_bytes(resumed)


def test_resume_with_a_different_batch_schedule_is_refused(shards, tmp_path):
    main(_config(shards, tmp_path / "w", 4))
    with pytest.raises(ValueError, match="new --workdir"):
        main(_config(shards, tmp_path / "w", 8, batch_schedule=((0, 4),)))


def test_cli_trains_and_resumes(shards, tmp_path, capsys):
    from palmkit.cli import main as cli

    args = ["train", "--data", shards, "--workdir", str(tmp_path / "w"), "--preset", "palm-tiny",
            "--batch-schedule", "0:8", "--lr-constant-steps", "10", "--checkpoint-every", "2",
            "--quiet"]
    assert cli(args + ["--steps", "2"]) == 0
    assert cli(args + ["--steps", "4"]) == 0
    assert "trained to step 4" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path / "w" / "checkpoints")) == ["2", "4"]
    shutil.rmtree(tmp_path / "w")
