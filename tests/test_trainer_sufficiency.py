"""Too little data for --steps is a one-line UserError before step 1 (issue 18), not an
IndexError inside a Grain traceback after steps have trained."""

import pytest

from palmkit.errors import UserError
from tests.shards_fixture import random_tokens, write_shards
from trainer import data, schedules, train


@pytest.fixture
def spec(tmp_path):
    return data.read_spec(write_shards(tmp_path / "s", random_tokens(100, 8), num_shards=2))


def test_enough_examples_passes_and_too_few_names_the_fixes(spec):
    sched = ((0, 8),)
    data.check_enough_examples(spec, steps=12, schedule=sched)  # 96 <= 100
    with pytest.raises(UserError) as e:
        data.check_enough_examples(spec, steps=13, schedule=sched)
    msg = str(e.value)
    assert "\n" not in msg
    assert "needs 104 examples" in msg and "holds 100" in msg
    assert "--steps 12 or fewer" in msg and "--allow-repeat" in msg and "--total-tokens" in msg
    data.check_enough_examples(spec, steps=13, schedule=sched, allow_repeat=True)


def test_schedule_and_recorded_skips_count(spec):
    sched = schedules.parse_batch_schedule("0:4,10:16")  # 10 x 4 + 16 per step after
    data.check_enough_examples(spec, steps=13, schedule=sched)  # 40 + 48 = 88
    with pytest.raises(UserError, match="--steps 13 or fewer"):
        data.check_enough_examples(spec, steps=14, schedule=sched)  # 104
    skip = schedules.Skip(at_step=3, examples=20, start_example=8)
    with pytest.raises(UserError, match="needs 108 examples.*--steps 12 or fewer"):
        data.check_enough_examples(spec, steps=13, schedule=sched, skips=[skip])


def test_train_main_refuses_before_compiling(spec, tmp_path, monkeypatch):
    def no_compile(*a, **k):
        raise AssertionError("compiled before the data check")

    monkeypatch.setattr(train.step, "build", no_compile)
    config = train.TrainConfig(data=spec.directory, workdir=str(tmp_path / "w"), steps=300,
                               batch_schedule=((0, 8),), progress=False)
    with pytest.raises(UserError, match="needs 2400 examples but .* holds 100"):
        train.main(config)
