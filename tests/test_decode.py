"""The KV-cache decode (model_stub/decode.py) gives the full forward pass's logits at every position."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from model_stub import decode
from model_stub.palm import PaLM, PaLMConfig, init_params

SMALL = PaLMConfig(vocab_size=97, seq_len=32, n_layers=3, n_heads=4, d_model=32, d_ff=64,
                   head_dim=8, eod_id=1)


def _tokens(batch, length, seed=0, vocab=97):
    return np.random.default_rng(seed).integers(2, vocab, (batch, length), dtype=np.int32)


def _cached_logits(params, cfg, tokens, prefill):
    """Logits of every position: the first ``prefill`` in one call, then one token per call."""
    cache = decode.init_cache(cfg, tokens.shape[0], tokens.shape[1])
    logits, cache = decode.extend(params, cfg, cache, jnp.asarray(tokens[:, :prefill]))
    parts = [logits]
    for t in range(prefill, tokens.shape[1]):
        step_logits, cache = decode.extend(params, cfg, cache, jnp.asarray(tokens[:, t: t + 1]))
        parts.append(step_logits)
    assert int(cache.length) == tokens.shape[1]
    return np.asarray(jnp.concatenate(parts, axis=1))


@pytest.mark.parametrize("cfg", [
    SMALL,
    dataclasses.replace(SMALL, scan_layers=False),
    dataclasses.replace(SMALL, mask_across_eod=True),
], ids=["scanned", "unrolled", "mask_across_eod"])
def test_cached_logits_equal_full_forward_at_every_position(cfg):
    params = init_params(cfg, jax.random.key(3))
    tokens = _tokens(2, 20, seed=1)
    tokens[0, 4] = tokens[1, 11] = tokens[0, 15] = cfg.eod_id  # documents inside the rows
    full = np.asarray(PaLM(cfg).apply({"params": params}, jnp.asarray(tokens)))
    cached = _cached_logits(params, cfg, tokens, 7)  # prefill 7 positions, then 13 steps
    np.testing.assert_allclose(cached, full, rtol=2e-4, atol=2e-4)


def test_eod_masking_changes_the_logits_so_the_mask_test_means_something():
    cfg = dataclasses.replace(SMALL, mask_across_eod=True)
    params = init_params(cfg, jax.random.key(3))
    tokens = _tokens(1, 12, seed=2)
    plain = _cached_logits(params, SMALL, tokens.copy(), 3)
    tokens[0, 5] = cfg.eod_id
    masked = _cached_logits(params, cfg, tokens, 3)
    unmasked = _cached_logits(params, SMALL, tokens, 3)
    assert not np.allclose(masked[0, 7:], unmasked[0, 7:], atol=1e-3)
    np.testing.assert_allclose(masked[0, :5], plain[0, :5], rtol=2e-4, atol=2e-4)


def test_greedy_tokens_are_the_argmax_of_the_full_forward():
    params = init_params(SMALL, jax.random.key(5))
    prompts = _tokens(3, 6, seed=4)
    out = np.asarray(decode.greedy(params, SMALL, jnp.asarray(prompts), 10))
    assert out.shape == (3, 10)
    # Each generated token must be the full pass's argmax given the prompt and the tokens before
    # it: one forward over prompt + output checks all ten steps.
    seq = np.concatenate([prompts, out], axis=1)
    logits = np.asarray(PaLM(SMALL).apply({"params": params}, jnp.asarray(seq)))
    np.testing.assert_array_equal(logits[:, 5:-1].argmax(-1), out)


def test_config_from_params_reads_the_architecture_back():
    for cfg in (SMALL, dataclasses.replace(SMALL, scan_layers=False)):
        params = init_params(cfg, jax.random.key(0))
        got = decode.config_from_params(params, seq_len=cfg.seq_len, eod_id=cfg.eod_id)
        assert got == cfg


def test_cut_at_stops_before_the_first_stop_id():
    assert decode.cut_at(np.array([5, 6, 1, 7, 1]), 1) == [5, 6]
    assert decode.cut_at([5, 6], 1) == [5, 6]
    assert decode.cut_at([5, 1], None) == [5, 1]
