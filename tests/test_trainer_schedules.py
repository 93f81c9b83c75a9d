"""PaLM's schedules, the optimizer's beta2 and weight decay, and the loss with z-loss."""

import math

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from trainer import schedules
from trainer.schedules import Skip
from trainer.step import OptimConfig, lm_loss, make_optimizer


def test_learning_rate_is_constant_then_inverse_sqrt():
    lr = schedules.learning_rate
    assert lr(1) == lr(10_000) == 1e-2
    assert lr(40_000) == pytest.approx(1 / math.sqrt(40_000))  # the paper's 1/sqrt(k)
    assert lr(250_000) == pytest.approx(0.002)
    # Small runs: configurable and continuous at the switch; the array form agrees.
    assert lr(10, peak=0.1, constant_steps=10) == 0.1
    assert lr(40, peak=0.1, constant_steps=10) == pytest.approx(0.05)
    assert float(lr(jnp.asarray(40), peak=0.1, constant_steps=10)) == pytest.approx(0.05)


def test_beta2_matches_optax_adafactor_second_moment():
    assert schedules.beta2(1) == 0.0
    assert schedules.beta2(10_000) == pytest.approx(1 - 10_000 ** -0.8)
    # Unfactored Adafactor: v_k = beta2(k) v_{k-1} + (1 - beta2(k)) g_k^2.
    tx = optax.scale_by_factored_rms(factored=False, decay_rate=0.8, epsilon=0.0)
    state = tx.init(jnp.zeros(3))
    v = 0.0
    for k, g in enumerate([1.0, 3.0, 2.0, 5.0], start=1):
        _, state = tx.update(jnp.full(3, g), state, jnp.zeros(3))
        b2 = schedules.beta2(k)
        v = b2 * v + (1 - b2) * g * g
        assert float(state.v[0]) == pytest.approx(v, rel=1e-6)


def test_weight_decay_is_lr_squared_times_params():
    # With zero gradients the only change is the dynamic weight decay: p <- p (1 - lr^2).
    cfg = OptimConfig(lr_peak=0.1, lr_constant_steps=1)
    tx = make_optimizer(cfg)
    params = {"w": jnp.full((4, 4), 2.0)}
    state = tx.init(params)
    for k in (1, 2, 3):
        updates, state = tx.update({"w": jnp.zeros((4, 4))}, state, params)
        lr = schedules.learning_rate(k, peak=0.1, constant_steps=1)
        expected = params["w"] * (1 - lr**2)
        params = optax.apply_updates(params, updates)
        np.testing.assert_allclose(params["w"], expected, rtol=1e-6)


def test_global_norm_clipping_caps_the_update_direction():
    tx = make_optimizer(OptimConfig(weight_decay=False))
    params = {"w": jnp.ones(4)}
    state = tx.init(params)
    big, _ = tx.update({"w": jnp.full(4, 1e6)}, state, params)
    small, _ = tx.update({"w": jnp.full(4, 1.0)}, state, params)
    np.testing.assert_allclose(big["w"], small["w"], rtol=1e-5)  # both clipped to norm 1


def test_z_loss_on_hand_made_logits():
    logits = jnp.array([[[0.0, 0.0], [math.log(3.0), 0.0]]])  # Z = 2 and 4
    targets = jnp.array([[0, 1]])
    ce, z = lm_loss(logits, targets, z_coeff=1e-4)
    assert float(ce) == pytest.approx((math.log(2) + math.log(4)) / 2, rel=1e-6)
    assert float(z) == pytest.approx(1e-4 * (math.log(2) ** 2 + math.log(4) ** 2) / 2, rel=1e-6)


def test_batch_schedule_parse_and_sizes():
    sched = schedules.parse_batch_schedule("0:512,50000:1024,115000:2048")
    assert sched == schedules.PALM_540B_BATCH_SCHEDULE
    assert [schedules.batch_size(k, sched) for k in (1, 50_000, 50_001, 115_000, 115_001)] == \
        [512, 512, 1024, 1024, 2048]
    for bad in ("", "5:8", "0:8,0:16", "0:0", "0-8"):
        with pytest.raises(ValueError):
            schedules.parse_batch_schedule(bad)


def test_examples_before_is_the_sum_of_earlier_batch_sizes_plus_skips():
    sched = schedules.parse_batch_schedule("0:8,100:16,130:32")
    running = 0
    for k in range(1, 200):
        assert schedules.examples_before(k, sched) == running
        running += schedules.batch_size(k, sched)
    skip = schedules.skip_for_spike(restored_step=95, batches=10, schedule=sched, skips=(),
                                    spike_step=120, spike_loss=9.0, median_loss=3.0)
    # Steps 96..105 would have read 5 x 8 + 5 x 16 examples starting at 95 x 8.
    assert (skip.at_step, skip.start_example, skip.examples) == (96, 760, 120)
    assert schedules.step_examples(96, sched, [skip]) == (880, 888)
    assert schedules.step_examples(95, sched, [skip]) == (752, 760)  # before the skip: unchanged


def test_process_slices_tile_the_global_batch():
    parts = [schedules.process_slice(64, 96, index=i, count=4) for i in range(4)]
    assert parts == [(64, 72), (72, 80), (80, 88), (88, 96)]
    with pytest.raises(ValueError):
        schedules.process_slice(0, 10, index=0, count=4)


def test_skip_records_round_trip(tmp_path):
    from trainer import checkpoint

    skips = (Skip(at_step=9, examples=32, start_example=32, batches=8, spike_step=14),)
    checkpoint.write_skips(str(tmp_path), skips)
    assert checkpoint.read_skips(str(tmp_path)) == skips
    assert checkpoint.merge_skips((), skips) == skips
    with pytest.raises(ValueError):
        checkpoint.merge_skips(skips, ())
