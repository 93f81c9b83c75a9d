"""The trainer against what a person (or a crash) can do to its inputs: damaged checkpoints, a
workdir already past ``--steps``, bad option values, the wrong or a corrupt ``--data`` folder.

Each failure must be one line (a ``UserError``, exit 2 from the CLI) that names what to fix;
a damaged newest checkpoint is skipped with a warning and the resumed run is still bitwise equal
to a clean one. Same tiny config as ``tests/test_trainer_resume.py`` (one compile per batch size
per process; each run ~1-3 s)."""

import glob
import logging
import math
import os
import shutil

import jax
import numpy as np
import pytest

from palmkit.errors import UserError
from palmkit.manifest import Manifest, ManifestError
from tests.shards_fixture import BYTE_EOD, BYTE_VOCAB, real_text_tokens, write_shards
from trainer import checkpoint
from trainer.metrics import read_jsonl
from trainer.train import TrainConfig, main


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    return write_shards(root, real_text_tokens(1200, 64), num_shards=3, vocab_size=BYTE_VOCAB,
                        eod_id=BYTE_EOD, rows_per_group=64)


def _config(shards, workdir, steps, **kw):
    base = dict(data=shards, workdir=str(workdir), steps=steps, batch_schedule=((0, 8),),
                lr_constant_steps=10, checkpoint_every=2, progress=False)
    return TrainConfig(**{**base, **kw})


def _params_bytes(result):
    return [np.asarray(x).tobytes() for x in jax.tree.leaves(result["state"]["params"])]


@pytest.fixture(scope="module")
def runs(shards, tmp_path_factory):
    """A clean 6-step run, and a workdir stopped at step 4 (checkpoints 2 and 4) to copy."""
    root = tmp_path_factory.mktemp("runs")
    clean = main(_config(shards, root / "clean", 6))
    main(_config(shards, root / "at4", 4))
    assert sorted(os.listdir(root / "at4" / "checkpoints")) == ["2", "4"]
    return {"clean": clean, "clean_dir": root / "clean", "at4": root / "at4"}


def _copy_at4(runs, tmp_path):
    w = tmp_path / "w"
    shutil.copytree(runs["at4"], w)
    return w


def _one_line(e: BaseException) -> str:
    text = str(e)
    assert "\n" not in text, text
    return text


# -- damaged checkpoints -----------------------------------------------------------------------


def _largest_array_file(step_dir):
    files = [p for p in glob.glob(os.path.join(step_dir, "state", "**", "*"), recursive=True)
             if os.path.isfile(p) and "/d/" in p]
    return max(files, key=os.path.getsize)


def _truncate(step_dir):
    path = _largest_array_file(step_dir)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def _garbage(step_dir):
    for path in glob.glob(os.path.join(step_dir, "state", "**", "d", "*"), recursive=True):
        size = os.path.getsize(path)
        with open(path, "wb") as f:
            f.write((b"\x13garbage" * (size // 8 + 1))[:size])


def _empty(step_dir):
    shutil.rmtree(step_dir)
    os.mkdir(step_dir)


DAMAGE = {
    "truncated array file": _truncate,
    "garbage in the array files": _garbage,
    "meta item missing": lambda d: os.remove(os.path.join(d, "meta", "metadata")),
    "state metadata missing": lambda d: os.remove(os.path.join(d, "state", "_METADATA")),
    "empty step folder": _empty,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_latest_checkpoint_falls_back_with_a_warning(shards, runs, tmp_path, caplog, damage):
    w = _copy_at4(runs, tmp_path)
    DAMAGE[damage](str(w / "checkpoints" / "4"))
    with caplog.at_level(logging.WARNING, logger="trainer.checkpoint"):
        resumed = main(_config(shards, w, 6))
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "trainer.checkpoint"]
    assert "\n" not in warning
    assert "checkpoint step 4" in warning and "resuming from step 2" in warning, warning
    assert "Error" in warning or "Exception" in warning, warning  # the original error's class
    # The damaged step is kept aside for inspection, out of Orbax's sight; step 4 is saved anew.
    assert os.path.isdir(w / "checkpoints-corrupt" / "4")
    assert sorted(os.listdir(w / "checkpoints"), key=int) == ["2", "4", "6"]
    assert resumed["step"] == 6 and resumed["trained"]
    assert _params_bytes(resumed) == _params_bytes(runs["clean"])
    a = read_jsonl(str(runs["clean_dir"] / "metrics.jsonl"))
    b = read_jsonl(str(w / "metrics.jsonl"))
    assert [r["step"] for r in b] == list(range(1, 7))
    assert [r["loss"] for r in a] == [r["loss"] for r in b]


def test_no_intact_checkpoint_is_a_one_line_user_error(shards, runs, tmp_path):
    w = _copy_at4(runs, tmp_path)
    _truncate(str(w / "checkpoints" / "4"))
    os.remove(w / "checkpoints" / "2" / "meta" / "metadata")
    with pytest.raises(UserError) as info:
        main(_config(shards, w, 6))
    message = _one_line(info.value)
    assert isinstance(info.value, checkpoint.CheckpointError)
    assert str(w / "checkpoints") in message
    assert "step 4:" in message and "step 2: FileNotFoundError" in message, message
    # Nothing is moved or deleted when the run stops: the person decides.
    assert sorted(os.listdir(w / "checkpoints")) == ["2", "4"]
    assert not os.path.exists(w / "checkpoints-corrupt")


def test_damaged_rollback_target_rolls_back_further(shards, tmp_path, caplog):
    # As in test_trainer_resume: step 14 reads the "corrupt" batch; with checkpoints every 4 steps
    # the rollback target is step 8 -- damaged here, so the run rolls back to 4 and skips from 5
    # up to and including the spike's batch (10 batches, more than skip_batches=8).
    kw = dict(debug_spike_examples=(105, 106), spike_window=10, spike_min_history=5,
              rollback_steps=3, skip_batches=8, checkpoint_every=4)
    main(_config(shards, tmp_path / "w", 12, **kw))
    _truncate(str(tmp_path / "w" / "checkpoints" / "8"))
    with caplog.at_level(logging.WARNING, logger="trainer.checkpoint"):
        result = main(_config(shards, tmp_path / "w", 20, **kw))
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "trainer.checkpoint"]
    assert "checkpoint step 8" in warning and "rolling back to step 4" in warning, warning
    (skip,) = result["skips"]
    assert (skip.spike_step, skip.restored_step, skip.at_step) == (14, 4, 5)
    assert (skip.start_example, skip.examples, skip.batches) == (32, 80, 10)
    assert result["rollbacks"] == 1 and result["step"] == 20
    rows = read_jsonl(str(tmp_path / "w" / "metrics.jsonl"))
    assert [r["step"] for r in rows] == list(range(1, 21))


def test_edited_skip_record_is_a_user_error(tmp_path):
    (tmp_path / checkpoint.SKIPS_NAME).write_text("{not json")
    with pytest.raises(UserError, match="skips.json: not a skip record"):
        checkpoint.read_skips(str(tmp_path))


# -- a workdir already at or past --steps ----------------------------------------------------


@pytest.mark.parametrize("steps", [4, 3])
def test_workdir_at_or_past_steps_has_nothing_to_do(shards, runs, tmp_path, steps):
    w = _copy_at4(runs, tmp_path)
    before = (w / "metrics.jsonl").read_bytes()
    result = main(_config(shards, w, steps))
    assert not result["trained"] and result["step"] == 4
    assert result["message"] == (f"{w} already at step 4 >= --steps {steps}: nothing to do; "
                                 f"pass a larger --steps to continue")
    assert (w / "metrics.jsonl").read_bytes() == before
    assert sorted(os.listdir(w / "checkpoints")) == ["2", "4"]


def test_cli_past_steps_prints_one_line_and_exits_0(shards, runs, tmp_path, capsys):
    from palmkit.cli import main as cli

    w = _copy_at4(runs, tmp_path)
    assert cli(["train", "--data", shards, "--workdir", str(w), "--steps", "3",
                "--checkpoint-every", "2", "--lr-constant-steps", "10", "--quiet"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{w} already at step 4 >= --steps 3: nothing to do; pass a larger --steps "
                   f"to continue"]


# -- option values ---------------------------------------------------------------------------


@pytest.mark.parametrize("kw, flag", [
    (dict(steps=-1), "--steps"),
    (dict(checkpoint_every=0), "--checkpoint-every"),
    (dict(checkpoint_every=-5), "--checkpoint-every"),
    (dict(batch_schedule=((0, 0),)), "--batch-schedule"),
    (dict(batch_schedule=((0, 8), (10, 16), (10, 32))), "--batch-schedule"),
    (dict(batch_schedule=((0, 8), (20, 16), (10, 32))), "--batch-schedule"),
    (dict(batch_schedule=((5, 8),)), "--batch-schedule"),
    (dict(batch_schedule=()), "--batch-schedule"),
    (dict(lr_peak=0.0), "--lr-peak"),
    (dict(lr_peak=-1e-2), "--lr-peak"),
    (dict(lr_peak=math.nan), "--lr-peak"),
    (dict(lr_constant_steps=0), "--lr-constant-steps"),
    (dict(z_loss=-1e-4), "--z-loss"),
    (dict(clip_norm=0.0), "--clip-norm"),
    (dict(keep_checkpoints=0), "--keep-checkpoints"),
    (dict(spike_factor=1.0), "--spike-factor"),
    (dict(spike_window=0), "--spike-window"),
    (dict(rollback_steps=-1), "--rollback-steps"),
    (dict(skip_batches=0), "--skip-batches"),
    (dict(peak_flops=0.0), "--peak-flops"),
    (dict(mesh_data=0), "--mesh data="),
    (dict(mesh_model=0), "--mesh model="),
    (dict(model_overrides={"seq_len": 0}), "--seq-len"),
    (dict(model_overrides={"vocab_size": -3}), "--vocab-size"),
    (dict(model_overrides={"eod_id": -1}), "--eod-id"),
    (dict(preset="palm-huge"), "--preset"),
    (dict(steps=2.5), "--steps"),
])
def test_bad_option_values_are_one_line_user_errors(kw, flag):
    with pytest.raises(UserError) as info:
        TrainConfig(data="d", workdir="w", **{"steps": 10, **kw})
    assert _one_line(info.value).startswith(flag), info.value


def test_main_checks_the_config_again_and_the_mesh_against_the_devices(tmp_path):
    config = TrainConfig(data=str(tmp_path / "nowhere"), workdir=str(tmp_path / "w"), steps=4)
    config.checkpoint_every = 0  # changed after construction: main must still refuse it
    with pytest.raises(UserError, match="^--checkpoint-every 0"):
        main(config)
    n = jax.device_count()
    for kw in (dict(mesh_data=n + 1), dict(mesh_model=n + 1), dict(mesh_data=n, mesh_model=2)):
        config = TrainConfig(data=str(tmp_path / "nowhere"), workdir=str(tmp_path / "w"), steps=4, **kw)
        with pytest.raises(UserError, match=f"^--mesh .*{n} available devices") as info:
            main(config)
        _one_line(info.value)
    assert not os.path.exists(tmp_path / "w")  # refused before touching anything


def _parse(argv):
    from palmkit.cli import build_parser

    return build_parser("train").parse_args(["train", "--data", "d", "--workdir", "w", *argv])


@pytest.mark.parametrize("argv, flag", [
    (["--steps", "-1"], "--steps"),
    (["--steps", "1", "--mesh", "data=x"], "--mesh"),
    (["--steps", "1", "--mesh", "pipeline=2"], "--mesh"),
    (["--steps", "1", "--batch-schedule", "zero:8"], "--batch-schedule"),
    (["--steps", "1", "--batch-schedule", "0:8,100:16,50:32"], "--batch-schedule"),
    (["--steps", "1", "--batch-schedule", "0:-8"], "--batch-schedule"),
    (["--steps", "1", "--batch-schedule", "0:8,0:16"], "--batch-schedule"),
    (["--steps", "5", "--checkpoint-every", "0"], "--checkpoint-every"),
    (["--steps", "5", "--mesh", "data=0"], "--mesh"),
    (["--steps", "5", "--mesh", "model=0"], "--mesh"),
    (["--steps", "5", "--lr-peak", "0"], "--lr-peak"),
    (["--steps", "5", "--lr-peak", "inf"], "--lr-peak"),
    (["--steps", "5", "--keep-checkpoints", "0"], "--keep-checkpoints"),
    (["--steps", "5", "--skip-batches", "0"], "--skip-batches"),
    (["--steps", "5", "--seq-len", "0"], "--seq-len"),
])
def test_flags_that_do_not_parse_or_are_out_of_range_name_the_flag(argv, flag):
    from trainer.cli import build_config

    with pytest.raises(UserError) as info:
        build_config(_parse(argv))
    assert _one_line(info.value).startswith(flag), info.value


def test_cli_reports_a_bad_flag_in_one_line(tmp_path, capsys):
    """Through `palmkit train`: exit 2 and `palmkit train: error: --steps ...` (palmkit/cli.py
    turns a UserError into that; before that wiring the UserError itself reaches the caller)."""
    from palmkit.cli import main as cli

    argv = ["train", "--data", str(tmp_path), "--workdir", str(tmp_path / "w"), "--steps", "-3"]
    try:
        rc = cli(argv)
    except UserError as e:
        assert _one_line(e).startswith("--steps -3")
    else:
        assert rc == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("palmkit train: error: --steps -3"), err


# -- the data hand-over ----------------------------------------------------------------------


def test_missing_data_folder(tmp_path):
    with pytest.raises(ManifestError, match="does not exist") as info:
        main(TrainConfig(data=str(tmp_path / "nowhere"), workdir=str(tmp_path / "w"), steps=2))
    assert "palmkit pack" in _one_line(info.value)


def test_data_folder_that_is_a_corpus_not_a_pack_output(tmp_path):
    Manifest(stage="corpus", config={}, outputs={}, counts={}).write(str(tmp_path / "corpus"))
    with pytest.raises(ManifestError, match="written by stage 'corpus'.*'pack'") as info:
        main(TrainConfig(data=str(tmp_path / "corpus"), workdir=str(tmp_path / "w"), steps=2))
    _one_line(info.value)


def _copy_shards(shards, tmp_path):
    root = tmp_path / "shards"
    shutil.copytree(shards, root)
    return root, root / "shard-00000-of-00003.parquet"


def test_corrupt_shard_fails_its_checksum_before_training(shards, tmp_path):
    root, path = _copy_shards(shards, tmp_path)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(ManifestError, match="SHA-256") as info:
        main(_config(str(root), tmp_path / "w", 2))
    _one_line(info.value)
    assert not os.path.exists(tmp_path / "w")


@pytest.mark.parametrize("where", ["footer", "data pages"])
def test_corrupt_shard_without_checksums_is_a_user_error_when_read(shards, tmp_path, where):
    root, path = _copy_shards(shards, tmp_path)
    blob = bytearray(path.read_bytes())
    if where == "footer":
        blob[-4:] = b"\0\0\0\0"  # the Parquet magic: same size, so only a read can tell
    else:
        for i in range(8, len(blob) // 2, 7):
            blob[i] = 0xAB
    path.write_bytes(bytes(blob))
    with pytest.raises(ManifestError, match="shard-00000-of-00003.parquet") as info:
        main(_config(str(root), tmp_path / "w", 2, verify_checksums=False))
    assert "corrupt" in _one_line(info.value)
