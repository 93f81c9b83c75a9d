"""PaLM model: architecture identities checked against hand-written numpy, paper numbers, training signal."""

from __future__ import annotations

import dataclasses
import functools
import json

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from model_stub import flops, palm
from palmkit import cli

# Tiny models compile in half the CPU time without XLA's backend optimisations (38 s -> 22 s for
# this file); numerics are unchanged up to float rounding.
_jit = functools.partial(
    jax.jit,
    compiler_options={"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True},
)
TINY = palm.get_config("palm-tiny", vocab_size=64, seq_len=16)
TINY_APPLY = _jit(palm.PaLM(TINY).apply)  # one compilation shared by the tests below
PARAM_NAMES = {"embedding", "scale", "query", "key", "value", "out", "gate", "up", "down"}


def _np_rope(x: np.ndarray, positions: np.ndarray, base: float = 10_000.0) -> np.ndarray:
    """Independent RoPE: pair (i, i + D/2) as a complex number and multiply by e^{i pos theta_i}."""
    half = x.shape[-1] // 2
    theta = base ** (-np.arange(half) / half)
    z = (x[..., :half] + 1j * x[..., half:]) * np.exp(1j * positions[:, None] * theta)
    return np.concatenate([z.real, z.imag], axis=-1)


def _np_layernorm(x, scale, eps=1e-6):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * scale


def _np_mha(x, wq, wk, wv, wo, *, causal_mask):
    """Standard multi-head attention for one sequence x (T, D) with per-head kernels (D, H, Q)."""
    t, h = x.shape[0], wq.shape[1]
    pos = np.arange(t)
    out = np.zeros((t, wo.shape[-1]))
    for head in range(h):
        q = _np_rope(x @ wq[:, head], pos)
        k = _np_rope(x @ wk[:, head], pos)
        v = x @ wv[:, head]
        s = q @ k.T / np.sqrt(q.shape[-1])
        s = np.where(causal_mask, s, -np.inf)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        out += (p @ v) @ wo[head]
    return out


def _np_params(tree):
    return jax.tree.map(lambda a: np.asarray(a, np.float64), tree)


ATTN = palm.MultiQueryAttention(TINY)
ATTN_INIT, ATTN_APPLY = _jit(ATTN.init), _jit(ATTN.apply)


def _attn_inputs(cfg, batch=2, seed=0):
    x = jax.random.normal(jax.random.key(seed), (batch, cfg.seq_len, cfg.d_model))
    positions = jnp.broadcast_to(jnp.arange(cfg.seq_len), (batch, cfg.seq_len))
    return x, positions, palm.attention_mask(None, cfg.seq_len)


def test_multi_query_equals_multi_head_with_one_shared_key_value_projection():
    x, positions, mask = _attn_inputs(TINY)
    p = nn.meta.unbox(ATTN_INIT(jax.random.key(1), x, positions, mask)["params"])
    got = np.asarray(ATTN_APPLY({"params": p}, x, positions, mask))
    w = _np_params(p)
    h = TINY.n_heads
    wk = np.repeat(w["key"][:, None, :], h, axis=1)  # every head gets the same K and V kernel
    wv = np.repeat(w["value"][:, None, :], h, axis=1)
    causal = np.tril(np.ones((TINY.seq_len, TINY.seq_len), bool))
    xs = np.asarray(x, np.float64)
    for b in range(x.shape[0]):
        want = _np_mha(xs[b], w["query"], wk, wv, w["out"], causal_mask=causal)
        np.testing.assert_allclose(got[b], want, rtol=2e-4, atol=2e-5)
    # Not vacuous: untying one head's key changes the result.
    wk[:, 0] += 0.5
    other = _np_mha(xs[0], w["query"], wk, wv, w["out"], causal_mask=causal)
    assert np.abs(other - got[0]).max() > 1e-2


def test_rope_scores_depend_only_on_relative_position():
    q, k = jax.random.normal(jax.random.key(0), (2, 1, 1, 32))

    def score(m, n):
        return float(jnp.sum(palm.rope(q, jnp.array([[m]])) * palm.rope(k, jnp.array([[n]]))))

    for m, n in [(5, 2), (100, 3), (0, 0), (7, 40)]:
        base = score(m, n)
        for shift in (1, 17, 1000):
            assert score(m + shift, n + shift) == pytest.approx(base, rel=1e-4, abs=1e-4)
    assert abs(score(5, 2) - score(5, 3)) > 1e-3  # but it does depend on the offset
    # Matches the complex-number formulation.
    np.testing.assert_allclose(
        np.asarray(palm.rope(q, jnp.array([[9]])))[0, 0],
        _np_rope(np.asarray(q[0], np.float64), np.array([9]))[0],
        rtol=1e-5, atol=1e-6,
    )
    # Whole attention layer: shifting every position by a constant leaves the output unchanged.
    x, positions, mask = _attn_inputs(TINY)
    p = ATTN_INIT(jax.random.key(1), x, positions, mask)
    a = ATTN_APPLY(p, x, positions, mask)
    b = ATTN_APPLY(p, x, positions + 1234, mask)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-3, atol=1e-4)


def test_changing_future_tokens_never_changes_earlier_logits():
    apply = TINY_APPLY
    params = palm.init_params(TINY, jax.random.key(0))
    tokens = jax.random.randint(jax.random.key(1), (2, TINY.seq_len), 0, TINY.vocab_size)
    base = apply({"params": params}, tokens)
    assert base.shape == (2, TINY.seq_len, TINY.vocab_size) and base.dtype == jnp.float32
    for t in (1, 7, TINY.seq_len - 1):
        changed = tokens.at[:, t:].set((tokens[:, t:] + 1) % TINY.vocab_size)
        out = apply({"params": params}, changed)
        np.testing.assert_array_equal(np.asarray(out[:, :t]), np.asarray(base[:, :t]))
        assert not np.allclose(out[:, t], base[:, t])


def test_parallel_block_equals_its_definition_by_hand():
    x, positions, mask = _attn_inputs(TINY, batch=1, seed=3)
    block = palm.ParallelBlock(TINY)
    p = nn.meta.unbox(_jit(block.init)(jax.random.key(4), x, positions, mask)["params"])
    # Non-trivial norm scale, so a missing or misplaced scale would show.
    p["norm"]["scale"] = 1.0 + 0.1 * jax.random.normal(jax.random.key(5), (TINY.d_model,))
    got, _ = _jit(block.apply)({"params": p}, x, positions, mask)
    w = _np_params(p)
    xs = np.asarray(x[0], np.float64)
    h = _np_layernorm(xs, w["norm"]["scale"])  # ONE norm feeds both branches
    g = h @ w["mlp"]["gate"]
    mlp = (g / (1 + np.exp(-g)) * (h @ w["mlp"]["up"])) @ w["mlp"]["down"]
    a = w["attn"]
    wk = np.repeat(a["key"][:, None], TINY.n_heads, 1)
    wv = np.repeat(a["value"][:, None], TINY.n_heads, 1)
    causal = np.tril(np.ones((TINY.seq_len,) * 2, bool))
    want = xs + mlp + _np_mha(h, a["query"], wk, wv, a["out"], causal_mask=causal)
    np.testing.assert_allclose(np.asarray(got[0]), want, rtol=2e-4, atol=5e-5)


PAPER = {  # preset: (parameters counted exactly, Table 1 figure in B, Table 22 TFLOPs/token w/o remat)
    "palm-8b": (8_632_012_800, 8.63, 0.0550),
    "palm-62b": (62_495_662_080, 62.50, 0.388),
    "palm-540b": (540_356_474_880, 540.35, 3.28),
}


@pytest.mark.parametrize("name", list(PAPER))
def test_parameter_counts_and_flops_match_the_paper(name):
    exact, table1, table22 = PAPER[name]
    cfg = palm.PRESETS[name]
    assert (cfg.vocab_size, cfg.seq_len, cfg.head_dim, cfg.d_ff) == (256_000, 2048, 256, 4 * cfg.d_model)
    n = palm.count_params(cfg)
    assert n == exact
    assert abs(n / 1e9 - table1) <= 0.01
    assert sum(palm.params_by_kind(cfg).values()) == n
    f = flops.flops_per_token(cfg)
    assert f == 6 * n + 12 * cfg.n_layers * cfg.n_heads * 256 * 2048
    # Table 22 prints 3 significant figures; our count rounds to exactly the printed value.
    assert float(f"{f / 1e12:.3g}") == table22


def test_paper_mfu_arithmetic():
    cfg = palm.PRESETS["palm-540b"]
    n = palm.count_params(cfg)
    peak = 6144 * flops.PEAK_FLOPS["tpu-v4"]
    with_attn = flops.mfu(238.3e3, flops.flops_per_token(cfg, n_params=n), peak)
    without = flops.mfu(238.3e3, flops.flops_per_token(cfg, with_attention=False, n_params=n), peak)
    assert round(100 * with_attn, 1) == 46.2
    assert round(100 * without, 1) == 45.7
    assert flops.PEAK_FLOPS["h100-sxm"] == flops.PEAK_FLOPS["h200"] == 989e12
    assert flops.peak_flops_per_chip("cpu", override=3.5e11) == 3.5e11


def _lm_loss(params, model, tokens):
    logits = model.apply({"params": params}, tokens[:, :-1])
    return optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]).mean()


def test_tiny_model_overfits_one_batch():
    cfg = dataclasses.replace(TINY, seq_len=TINY.seq_len + 1)
    model = palm.PaLM(cfg)
    params = palm.init_params(cfg, jax.random.key(0))
    tokens = jax.random.randint(jax.random.key(1), (4, cfg.seq_len), 0, cfg.vocab_size)
    opt = optax.adam(1e-2)
    state = opt.init(params)

    @_jit
    def step(params, state):
        loss, grads = jax.value_and_grad(_lm_loss)(params, model, tokens)
        updates, state = opt.update(grads, state)
        return optax.apply_updates(params, updates), state, loss

    losses = []
    for _ in range(40):
        params, state, loss = step(params, state)
        losses.append(float(loss))
    assert losses[0] > 0.8 * np.log(cfg.vocab_size)  # starts near chance
    assert losses[-1] < 0.25 * losses[0], losses


def test_eod_mask_blocks_attention_across_documents():
    eod = 1
    tokens = jax.random.randint(jax.random.key(2), (1, TINY.seq_len), 2, TINY.vocab_size)
    tokens = tokens.at[0, 5].set(eod)  # doc A = positions 0..5 (its [eod] included), doc B = 6..
    changed = tokens.at[0, 2].set(3 if int(tokens[0, 2]) != 3 else 4)  # edit inside doc A
    np.testing.assert_array_equal(
        np.asarray(palm.eod_segment_ids(tokens, eod))[0], [0] * 6 + [1] * (TINY.seq_len - 6)
    )
    masked = dataclasses.replace(TINY, eod_id=eod, mask_across_eod=True)
    params = palm.init_params(TINY, jax.random.key(0))  # the option adds no parameters
    for cfg, crosses in ((TINY, True), (masked, False)):
        apply = TINY_APPLY if cfg is TINY else _jit(palm.PaLM(cfg).apply)
        a = apply({"params": params}, tokens)
        b = apply({"params": params}, changed)
        assert not np.allclose(a[0, 2:6], b[0, 2:6])  # doc A itself sees the edit
        assert (not np.allclose(a[0, 6:], b[0, 6:])) == crosses
    with pytest.raises(ValueError):
        palm.get_config("palm-tiny", mask_across_eod=True)


def test_no_parameter_has_a_bias_and_every_parameter_has_logical_axes():
    specs = palm.logical_partition_specs(TINY)
    shapes = palm.abstract_params(TINY)
    flat = jax.tree_util.tree_flatten_with_path(nn.meta.unbox(shapes))[0]
    spec_leaves = jax.tree.leaves(specs, is_leaf=lambda s: isinstance(s, jax.sharding.PartitionSpec))
    assert len(flat) == len(spec_leaves) == 10
    known_axes = {"vocab", "embed", "mlp", "heads", "kv", "layers"}
    for (path, leaf), spec in zip(flat, spec_leaves):
        name = str(path[-1].key)
        assert name in PARAM_NAMES and "bias" not in name
        assert len(spec) == len(leaf.shape) and set(spec) <= known_axes
        if name == "scale":  # layer norms: a scale vector (per layer), nothing else
            assert spec[-1] == "embed" and len(leaf.shape) == (2 if "blocks" in str(path) else 1)


def test_initialisation_follows_the_paper():
    cfg = palm.get_config("palm-small")
    p = palm.init_params(cfg, jax.random.key(0))
    assert np.std(p["embedding"]) == pytest.approx(1.0, rel=0.02)
    fan_in = {"query": cfg.d_model, "key": cfg.d_model, "out": cfg.n_heads * cfg.head_dim,
              "gate": cfg.d_model, "down": cfg.d_ff}
    a, m = p["blocks"]["attn"], p["blocks"]["mlp"]
    for name, w in (("query", a["query"]), ("key", a["key"]), ("out", a["out"]),
                    ("gate", m["gate"]), ("down", m["down"])):
        assert np.std(w) == pytest.approx(fan_in[name] ** -0.5, rel=0.05), name
    assert np.all(p["blocks"]["norm"]["scale"] == 1.0)
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(p))


def test_scan_unrolled_remat_and_bfloat16_agree():
    tokens = jax.random.randint(jax.random.key(1), (2, TINY.seq_len), 0, TINY.vocab_size)
    params = palm.init_params(TINY, jax.random.key(0))
    grad = _jit(jax.value_and_grad(_lm_loss), static_argnums=1)
    loss_ref, g_ref = grad(params, palm.PaLM(TINY), tokens)  # scanned, no remat
    # The same parameters unstacked into blocks_0.., unrolled and rematerialised: same loss and grads.
    unrolled = {k: v for k, v in params.items() if k != "blocks"}
    for i in range(TINY.n_layers):
        unrolled[f"blocks_{i}"] = jax.tree.map(lambda a, i=i: a[i], params["blocks"])
    cfg_unrolled = dataclasses.replace(TINY, scan_layers=False, remat=True)
    loss_u, g_u = grad(unrolled, palm.PaLM(cfg_unrolled), tokens)
    assert float(loss_u) == pytest.approx(float(loss_ref), rel=1e-5)
    restacked = jax.tree.map(lambda *xs: jnp.stack(xs), *[g_u[f"blocks_{i}"] for i in range(TINY.n_layers)])
    for x, y in zip(jax.tree.leaves(g_ref["blocks"]), jax.tree.leaves(restacked)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(g_ref["embedding"], g_u["embedding"], rtol=1e-4, atol=1e-6)
    # bfloat16 computation (scanned + remat): float32 parameters, float32 logits, close loss.
    cfg_bf16 = dataclasses.replace(TINY, dtype="bfloat16", remat=True)
    loss_bf16, g_bf16 = grad(params, palm.PaLM(cfg_bf16), tokens)
    assert float(loss_bf16) == pytest.approx(float(loss_ref), rel=2e-2)
    assert all(g.dtype == jnp.float32 and bool(jnp.isfinite(g).all()) for g in jax.tree.leaves(g_bf16))
    assert jax.eval_shape(palm.PaLM(cfg_bf16).apply, {"params": params}, tokens).dtype == jnp.float32


def test_model_info_cli_json(capsys):
    assert cli.main(["model", "info", "--preset", "palm-8b", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["params"] == 8_632_012_800
    assert info["flops_per_token"] == 55_013_302_272
    assert info["params_by_kind"]["norm"] == 33 * 4096
    assert info["adafactor_state_bytes_f32"] == 8 * info["params"]
    assert cli.main(["model", "info", "--preset", "palm-tiny", "--vocab-size", "100"]) == 0
    assert "6,400" in capsys.readouterr().out  # embedding 100 x 64
