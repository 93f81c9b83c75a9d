"""Greedy decoding with a key/value cache for model_stub's PaLM (multi-query attention).

Why a cache: a full forward pass per new token costs O(T^2) attention and T times the matmuls;
with the keys and values of the positions already seen kept, each new token costs one position's
matmuls plus attention over the cache. Multi-query attention is what makes the cache small: one
key head and one value head shared by all query heads, so per layer the cache is
``2 x batch x max_len x head_dim`` numbers instead of ``... x n_heads x head_dim`` (palm-540b:
48x smaller, the paper's point in section 2).

How it stays identical to ``model_stub.palm.PaLM``: the layer norm and the SwiGLU MLP are the
model's own flax modules applied to the block's parameters; only the attention is written again
here (same projections, same ``rope``, float32 scores and softmax), reading keys and values from
the cache. RoPE is applied at each token's *absolute* position (prompt position 0, 1, ...), the
positions the full forward pass uses, so ``extend`` over a prompt and then one token at a time
gives the full pass's logits at every position (``tests/test_decode.py`` checks allclose, with and
without ``mask_across_eod``, scanned and unrolled layers).

Shapes are static: the cache is allocated for ``max_len`` positions once and written in place
(``lax.dynamic_update_slice``), keys beyond the current length are masked, so the one-token step
compiles once whatever the position; ``greedy`` runs the whole generation in one jitted
``lax.fori_loop``. Every row of a batch is at the same position (prompts of equal length: the
memorization probe's 50 tokens, or one prompt in ``palmkit generate``), so no padding is needed.

Parameters are the plain (unboxed) tree of ``init_params`` or a restored checkpoint's
``state["params"]``; ``scan_layers`` checkpoints (``blocks`` with a leading layer axis) and
unrolled ones (``blocks_0 ..``) both work.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from model_stub.palm import LayerNorm, PaLMConfig, SwiGLU, rope


class Cache(NamedTuple):
    """Keys and values of every layer for ``max_len`` positions, and where the next token goes.

    ``segments`` (B, max_len) is the document index of each cached position (counting ``[eod]``
    as the model's ``eod_segment_ids`` does) and ``eods`` (B,) the ``[eod]`` tokens seen so far;
    they matter only for ``mask_across_eod`` models (PaLM itself attends across ``[eod]``)."""

    keys: jax.Array  # (L, B, max_len, head_dim), the compute dtype
    values: jax.Array  # (L, B, max_len, head_dim)
    segments: jax.Array  # (B, max_len) int32
    eods: jax.Array  # (B,) int32
    length: jax.Array  # () int32: positions filled


def init_cache(config: PaLMConfig, batch: int, max_len: int) -> Cache:
    dt = jnp.dtype(config.dtype)
    shape = (config.n_layers, batch, max_len, config.head_dim)
    return Cache(keys=jnp.zeros(shape, dt), values=jnp.zeros(shape, dt),
                 segments=jnp.zeros((batch, max_len), jnp.int32), eods=jnp.zeros((batch,), jnp.int32),
                 length=jnp.zeros((), jnp.int32))


def stacked_blocks(params: dict[str, Any], config: PaLMConfig) -> dict[str, Any]:
    """The block parameters with a leading layer axis, for scanned and unrolled checkpoints."""
    if "blocks" in params:
        return params["blocks"]
    layers = [params[f"blocks_{i}"] for i in range(config.n_layers)]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *layers)


def _attend(p: dict[str, Any], config: PaLMConfig, h: jax.Array, positions: jax.Array,
            mask: jax.Array, k_cache: jax.Array, v_cache: jax.Array, start: jax.Array):
    """Multi-query attention of the new positions ``h`` (B, T, d) over the cache, after writing
    their keys/values at ``start``. Mirrors ``palm.MultiQueryAttention`` line by line."""
    dt = jnp.dtype(config.dtype)
    h = h.astype(dt)
    q = jnp.einsum("btd,dhq->bthq", h, p["query"].astype(dt))
    k = jnp.einsum("btd,dq->btq", h, p["key"].astype(dt))
    v = jnp.einsum("btd,dq->btq", h, p["value"].astype(dt))
    q = rope(q, positions, config.rope_base)
    k = rope(k, positions, config.rope_base)
    k_cache = jax.lax.dynamic_update_slice(k_cache, k.astype(k_cache.dtype), (0, start, 0))
    v_cache = jax.lax.dynamic_update_slice(v_cache, v.astype(v_cache.dtype), (0, start, 0))
    scores = jnp.einsum("bthq,bsq->bhts", q, k_cache, preferred_element_type=jnp.float32)
    scores = scores / math.sqrt(config.head_dim)
    scores = jnp.where(mask, scores, jnp.finfo(jnp.float32).min)
    probs = jax.nn.softmax(scores, axis=-1).astype(dt)
    ctx = jnp.einsum("bhts,bsq->bthq", probs, v_cache)
    return jnp.einsum("bthq,hqd->btd", ctx, p["out"].astype(dt)), k_cache, v_cache


@functools.partial(jax.jit, static_argnums=1)
def extend(params: dict[str, Any], config: PaLMConfig, cache: Cache, tokens: jax.Array):
    """Run ``tokens`` (B, T) at positions ``cache.length ..`` through the model, appending their
    keys and values to ``cache``. Returns ``(logits float32 (B, T, vocab), cache)``: the logits
    the full forward pass gives at those positions. Prefill is one call with the prompt, each
    decode step one call with one token (each shape compiles once)."""
    cfg = config
    dt = jnp.dtype(cfg.dtype)
    batch, t = tokens.shape
    max_len = cache.keys.shape[2]
    start = cache.length
    positions = jnp.broadcast_to(start + jnp.arange(t, dtype=jnp.int32), (batch, t))
    # Keys visible to each new query: causal (key position <= query position) and filled.
    key_pos = jnp.arange(max_len, dtype=jnp.int32)
    mask = key_pos[None, None, None, :] <= positions[:, None, :, None]  # (B, 1, T, max_len)
    segments, eods = cache.segments, cache.eods
    if cfg.mask_across_eod:
        is_eod = (tokens == cfg.eod_id).astype(jnp.int32)
        new_seg = eods[:, None] + jnp.cumsum(is_eod, axis=1) - is_eod  # as palm.eod_segment_ids
        segments = jax.lax.dynamic_update_slice(segments, new_seg, (0, start))
        eods = eods + is_eod.sum(axis=1)
        mask = mask & (segments[:, None, None, :] == new_seg[:, None, :, None])

    embedding = params["embedding"]
    x = jnp.take(embedding, tokens, axis=0).astype(dt)
    norm, mlp = LayerNorm(cfg), SwiGLU(cfg)

    def layer(x, inputs):
        p, k_cache, v_cache = inputs
        h = norm.apply({"params": p["norm"]}, x)
        attn, k_cache, v_cache = _attend(p["attn"], cfg, h, positions, mask, k_cache, v_cache, start)
        y = x + (mlp.apply({"params": p["mlp"]}, h) + attn).astype(x.dtype)
        return y, (k_cache, v_cache)

    x, (keys, values) = jax.lax.scan(layer, x, (stacked_blocks(params, cfg), cache.keys, cache.values))
    x = norm.apply({"params": params["final_norm"]}, x)
    logits = jnp.einsum("btd,vd->btv", x, embedding.astype(dt), preferred_element_type=jnp.float32)
    new_cache = Cache(keys=keys, values=values, segments=segments, eods=eods, length=start + t)
    return logits / math.sqrt(cfg.d_model), new_cache


@functools.partial(jax.jit, static_argnums=(1, 3))
def greedy(params: dict[str, Any], config: PaLMConfig, prompts: jax.Array, num_new: int) -> jax.Array:
    """Greedy continuation: int32 ``(B, num_new)``, the argmax token at each step fed back.

    One jitted program: prefill the prompts (B, P), then ``num_new - 1`` one-token steps in a
    ``fori_loop`` over a cache of ``P + num_new`` positions. Nothing stops early (static shapes);
    callers cut at ``[eod]`` themselves (``palmkit generate``)."""
    batch, plen = prompts.shape
    cache = init_cache(config, batch, plen + num_new)
    logits, cache = extend(params, config, cache, prompts.astype(jnp.int32))
    first = jnp.argmax(logits[:, -1], axis=-1).astype(jnp.int32)
    out = jnp.zeros((batch, num_new), jnp.int32).at[:, 0].set(first)

    def body(i, carry):
        out, cache = carry
        prev = jax.lax.dynamic_slice_in_dim(out, i - 1, 1, axis=1)
        logits, cache = extend(params, config, cache, prev)
        nxt = jnp.argmax(logits[:, -1], axis=-1).astype(jnp.int32)
        return out.at[:, i].set(nxt), cache

    out, _ = jax.lax.fori_loop(1, num_new, body, (out, cache))
    return out


def cut_at(tokens, stop_id: int | None) -> list[int]:
    """``tokens`` up to (not including) the first ``stop_id``."""
    out = [int(t) for t in tokens]
    if stop_id is not None and stop_id in out:
        out = out[: out.index(stop_id)]
    return out


def config_from_params(params: dict[str, Any], *, seq_len: int, eod_id: int | None = None,
                       dtype: str = "float32") -> PaLMConfig:
    """The ``PaLMConfig`` a parameter tree was built with, read from its shapes (a checkpoint does
    not record its preset): vocabulary and width from the embedding, layers, heads and head size
    from the query kernel, d_ff from the gate. ``seq_len`` only sizes ``init``; RoPE decodes any
    length."""
    vocab, d_model = params["embedding"].shape
    if "blocks" in params:
        blocks, scan = params["blocks"], True
        n_layers = blocks["attn"]["query"].shape[0]
        q_shape, d_ff = blocks["attn"]["query"].shape[1:], blocks["mlp"]["gate"].shape[-1]
    else:
        n_layers = sum(1 for k in params if k.startswith("blocks_"))
        blocks, scan = params["blocks_0"], False
        q_shape, d_ff = blocks["attn"]["query"].shape, blocks["mlp"]["gate"].shape[-1]
    _, n_heads, head_dim = q_shape
    return PaLMConfig(vocab_size=int(vocab), seq_len=int(seq_len), n_layers=int(n_layers),
                      n_heads=int(n_heads), d_model=int(d_model), d_ff=int(d_ff),
                      head_dim=int(head_dim), scan_layers=scan, eod_id=eod_id, dtype=dtype)
