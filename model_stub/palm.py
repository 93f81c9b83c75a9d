"""PaLM (Chowdhery et al. 2022, arXiv 2204.02311) in JAX/Flax linen, in one file.

Architecture (section 2 of the paper):

* decoder-only; every block is *parallel*: ``y = x + MLP(LN(x)) + Attention(LN(x))`` with one shared
  layer norm per block and a final one before the output (about 15% faster at scale: the MLP and
  attention input matmuls can be fused);
* SwiGLU MLP, ``down(swish(x @ gate) * (x @ up))``, three d_model x d_ff matrices, d_ff = 4 d_model;
* multi-query attention: ``n_heads`` query heads, one key head and one value head shared by all of
  them, head size 256 (so 540B's attention is 48 x 256 = 12,288 wide, not d_model = 18,432);
* RoPE on queries and keys (full head width, base 10,000, "rotate half" pairing: the paper does not
  say which pairing; both are equivalent up to a fixed permutation of the head dimensions);
* input and output embeddings shared; pre-softmax logits scaled by 1/sqrt(d_model) because the
  embedding is N(0, 1) (so the logits start at unit scale instead of sqrt(d_model));
* no biases anywhere: not in dense kernels, not in layer norms (LN keeps mean subtraction and a scale);
* no dropout by default (``dropout_rate`` is for finetuning, where the paper uses 0.1).

Initialisation (section 5): kernels N(0, 1/n_in) ("fan-in variance scaling"), embedding N(0, 1),
layer-norm scales 1. Parameters are float32; ``dtype="bfloat16"`` runs the matmuls in bfloat16
(softmax, layer-norm statistics and logits stay float32).

Logical axis names (every parameter is boxed with ``nn.with_logical_partitioning`` so a trainer can map
them onto a mesh with ``nn.logical_to_mesh_sharding``):

    parameter                       shape (per layer)       logical axes
    embedding                       (vocab, d_model)        ("vocab", "embed")
    blocks/norm/scale               (d_model,)              ("embed",)
    blocks/attn/query               (d_model, H, Q)         ("embed", "heads", "kv")
    blocks/attn/key, value          (d_model, Q)            ("embed", "kv")
    blocks/attn/out                 (H, Q, d_model)         ("heads", "kv", "embed")
    blocks/mlp/gate, up             (d_model, d_ff)         ("embed", "mlp")
    blocks/mlp/down                 (d_ff, d_model)         ("mlp", "embed")
    final_norm/scale                (d_model,)              ("embed",)

With ``scan_layers=True`` (default) the block parameters live once under ``blocks`` with a leading
``"layers"`` axis of size n_layers; with ``scan_layers=False`` they are ``blocks_0 .. blocks_{L-1}``
without it. Activations carry constraints named ("batch", "length", "embed"), ("batch", "length",
"heads", "kv") and ("batch", "length", "mlp"); they are no-ops unless the caller sets axis rules.

Scanning over layers compiles one block instead of n_layers copies: lowering + compiling the
gradient (bf16, remat) on this project's loaded 2-core CPU took 7.5 s scanned vs 30.5 s unrolled for
palm-8b, and 12 s vs 208 s for palm-540b (benchmarks/bench_model.py, docs/benchmarks.md).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class PaLMConfig:
    vocab_size: int
    seq_len: int
    n_layers: int
    n_heads: int
    d_model: int
    d_ff: int
    head_dim: int = 256
    dtype: str = "float32"  # computation dtype of the matmuls: "float32" or "bfloat16"
    param_dtype: str = "float32"
    remat: bool = False  # jax.checkpoint each block: recompute activations in the backward pass
    remat_policy: str = "nothing_saveable"  # a name in jax.checkpoint_policies
    scan_layers: bool = True  # nn.scan over blocks: compile time independent of n_layers
    eod_id: int | None = None
    mask_across_eod: bool = False  # PaLM attends across [eod]; True needs eod_id
    dropout_rate: float = 0.0
    rope_base: float = 10_000.0
    ln_eps: float = 1e-6

    def __post_init__(self):
        if self.mask_across_eod and self.eod_id is None:
            raise ValueError("mask_across_eod=True needs eod_id")
        for name in ("dtype", "param_dtype"):
            jnp.dtype(getattr(self, name))  # fail early on a misspelt dtype
        if self.head_dim % 2:
            raise ValueError(f"RoPE needs an even head_dim, got {self.head_dim}")


# Table 1 exactly (256k vocabulary, 2048 tokens) plus small presets. Plain data: override with
# get_config(name, vocab_size=..., seq_len=...) or dataclasses.replace.
PRESETS: dict[str, PaLMConfig] = {
    "palm-8b": PaLMConfig(
        vocab_size=256_000, seq_len=2048, n_layers=32, n_heads=16, d_model=4096, d_ff=16384
    ),
    "palm-62b": PaLMConfig(
        vocab_size=256_000, seq_len=2048, n_layers=64, n_heads=32, d_model=8192, d_ff=32768
    ),
    "palm-540b": PaLMConfig(
        vocab_size=256_000, seq_len=2048, n_layers=118, n_heads=48, d_model=18432, d_ff=73728
    ),
    # Not in the paper: 1.24B parameters (0.52B of them the 256k embedding), for MFU on one GPU.
    "palm-1b": PaLMConfig(
        vocab_size=256_000, seq_len=2048, n_layers=12, n_heads=8, d_model=2048, d_ff=8192
    ),
    # Trains on a CPU in seconds (tests, demo). Vocabulary sized for small test tokenizers.
    "palm-tiny": PaLMConfig(
        vocab_size=512, seq_len=64, n_layers=2, n_heads=4, d_model=64, d_ff=256, head_dim=16
    ),
    "palm-small": PaLMConfig(
        vocab_size=4096, seq_len=256, n_layers=4, n_heads=4, d_model=128, d_ff=512, head_dim=32
    ),
}


def get_config(name: str, **overrides: Any) -> PaLMConfig:
    """A preset with fields replaced, e.g. ``get_config("palm-tiny", vocab_size=1000)``."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return dataclasses.replace(PRESETS[name], **overrides)


def fan_in_normal(fan_in: int):
    """N(0, 1/fan_in): the paper's kernel init, written out instead of via variance_scaling so the
    fan-in of 3-D kernels (query: d_model, out: H*Q) is explicit."""
    std = 1.0 / math.sqrt(fan_in)

    def init(key, shape, dtype=jnp.float32):
        return std * jax.random.normal(key, shape, dtype)

    return init


def _kernel(module: nn.Module, name: str, shape: tuple[int, ...], axes: tuple[str, ...], fan_in: int):
    cfg = module.config
    init = nn.with_logical_partitioning(fan_in_normal(fan_in), axes)
    return module.param(name, init, shape, jnp.dtype(cfg.param_dtype))


def _constrain(x: jax.Array, axes: tuple[str, ...]) -> jax.Array:
    return nn.with_logical_constraint(x, axes)


def rope(x: jax.Array, positions: jax.Array, base: float = 10_000.0) -> jax.Array:
    """Rotary position embedding on the last axis of ``x`` (..., T, [heads,] D) for ``positions`` (B, T).

    Pairs dimension i with i + D/2 and rotates each pair by angle position * base^(-2i/D), so that
    <rope(q, m), rope(k, n)> depends on m - n only. Computed in float32: bfloat16 angles lose the
    position at T = 2048 (8 bits of mantissa)."""
    half = x.shape[-1] // 2
    freq = base ** (-jnp.arange(half, dtype=jnp.float32) / half)
    angle = positions.astype(jnp.float32)[..., None] * freq  # (B, T, D/2)
    if x.ndim == 4:  # (B, T, H, D): same angle for every head
        angle = angle[:, :, None, :]
    sin, cos = jnp.sin(angle), jnp.cos(angle)
    x1, x2 = jnp.split(x.astype(jnp.float32), 2, axis=-1)
    out = jnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)
    return out.astype(x.dtype)


def attention_mask(segment_ids: jax.Array | None, length: int) -> jax.Array:
    """Boolean (B or 1, 1, T, T) mask, True where query t may attend key s: causal, and when
    ``segment_ids`` (B, T) is given only within the same segment (document)."""
    causal = jnp.tril(jnp.ones((length, length), dtype=bool))[None, None]
    if segment_ids is None:
        return causal
    same = segment_ids[:, None, :, None] == segment_ids[:, None, None, :]
    return causal & same


def eod_segment_ids(tokens: jax.Array, eod_id: int) -> jax.Array:
    """Document index of each position: the number of ``[eod]`` tokens strictly before it, so the
    ``[eod]`` that ends a document still belongs to it and the next token starts a new one."""
    is_eod = (tokens == eod_id).astype(jnp.int32)
    return jnp.cumsum(is_eod, axis=-1) - is_eod


class LayerNorm(nn.Module):
    """Layer norm with a scale and no bias (the paper: no biases in layer norms). Float32 statistics."""

    config: PaLMConfig

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cfg = self.config
        scale = self.param(
            "scale",
            nn.with_logical_partitioning(nn.initializers.ones, ("embed",)),
            (cfg.d_model,),
            jnp.dtype(cfg.param_dtype),
        )
        x32 = x.astype(jnp.float32)
        mean = x32.mean(-1, keepdims=True)
        var = jnp.square(x32 - mean).mean(-1, keepdims=True)
        y = (x32 - mean) * jax.lax.rsqrt(var + cfg.ln_eps) * scale.astype(jnp.float32)
        return y.astype(jnp.dtype(cfg.dtype))


class MultiQueryAttention(nn.Module):
    """n_heads query heads sharing one key head and one value head (Shazeer 2019). The shared K/V
    shrink the decoding cache by n_heads (48x at 540B); training cost is nearly unchanged."""

    config: PaLMConfig

    @nn.compact
    def __call__(self, x: jax.Array, positions: jax.Array, mask: jax.Array) -> jax.Array:
        cfg = self.config
        d, h, q_dim = cfg.d_model, cfg.n_heads, cfg.head_dim
        dt = jnp.dtype(cfg.dtype)
        wq = _kernel(self, "query", (d, h, q_dim), ("embed", "heads", "kv"), fan_in=d)
        wk = _kernel(self, "key", (d, q_dim), ("embed", "kv"), fan_in=d)
        wv = _kernel(self, "value", (d, q_dim), ("embed", "kv"), fan_in=d)
        wo = _kernel(self, "out", (h, q_dim, d), ("heads", "kv", "embed"), fan_in=h * q_dim)

        x = x.astype(dt)
        q = jnp.einsum("btd,dhq->bthq", x, wq.astype(dt))
        k = jnp.einsum("btd,dq->btq", x, wk.astype(dt))
        v = jnp.einsum("btd,dq->btq", x, wv.astype(dt))
        q = _constrain(rope(q, positions, cfg.rope_base), ("batch", "length", "heads", "kv"))
        k = rope(k, positions, cfg.rope_base)

        # Scores and softmax in float32: bf16 logits over 2048 keys lose ~3 significant digits.
        scores = jnp.einsum("bthq,bsq->bhts", q, k, preferred_element_type=jnp.float32)
        scores = scores / math.sqrt(q_dim)
        scores = jnp.where(mask, scores, jnp.finfo(jnp.float32).min)
        probs = jax.nn.softmax(scores, axis=-1).astype(dt)
        ctx = jnp.einsum("bhts,bsq->bthq", probs, v)
        ctx = _constrain(ctx, ("batch", "length", "heads", "kv"))
        return jnp.einsum("bthq,hqd->btd", ctx, wo.astype(dt))


class SwiGLU(nn.Module):
    """``down(swish(x @ gate) * (x @ up))`` (Shazeer 2020): three d_model x d_ff matrices."""

    config: PaLMConfig

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cfg = self.config
        d, f = cfg.d_model, cfg.d_ff
        dt = jnp.dtype(cfg.dtype)
        w_gate = _kernel(self, "gate", (d, f), ("embed", "mlp"), fan_in=d)
        w_up = _kernel(self, "up", (d, f), ("embed", "mlp"), fan_in=d)
        w_down = _kernel(self, "down", (f, d), ("mlp", "embed"), fan_in=f)
        x = x.astype(dt)
        hidden = nn.swish(x @ w_gate.astype(dt)) * (x @ w_up.astype(dt))
        hidden = _constrain(hidden, ("batch", "length", "mlp"))
        return hidden @ w_down.astype(dt)


class ParallelBlock(nn.Module):
    """``y = x + MLP(LN(x)) + Attention(LN(x))`` with one shared LN. Returns ``(y, None)`` so the
    same class works unrolled and under ``nn.scan`` (carry = residual stream)."""

    config: PaLMConfig
    deterministic: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, positions: jax.Array, mask: jax.Array):
        cfg = self.config
        h = LayerNorm(cfg, name="norm")(x)
        branches = SwiGLU(cfg, name="mlp")(h) + MultiQueryAttention(cfg, name="attn")(h, positions, mask)
        branches = nn.Dropout(cfg.dropout_rate)(branches, deterministic=self.deterministic)
        y = x + branches.astype(x.dtype)
        return _constrain(y, ("batch", "length", "embed")), None


def _block_class(cfg: PaLMConfig):
    block = ParallelBlock
    if cfg.remat:
        # Under scan, prevent_cse=False is safe (scan already stops CSE) and avoids extra barriers.
        block = nn.remat(
            block,
            prevent_cse=not cfg.scan_layers,
            policy=getattr(jax.checkpoint_policies, cfg.remat_policy),
        )
    if cfg.scan_layers:
        block = nn.scan(
            block,
            variable_axes={"params": 0},
            split_rngs={"params": True, "dropout": True},
            in_axes=(nn.broadcast, nn.broadcast),
            length=cfg.n_layers,
            metadata_params={nn.PARTITION_NAME: "layers"},
        )
    return block


class PaLM(nn.Module):
    """tokens int32 (B, T) -> logits float32 (B, T, vocab). Loss and z-loss are the trainer's."""

    config: PaLMConfig

    @nn.compact
    def __call__(self, tokens: jax.Array, *, deterministic: bool = True) -> jax.Array:
        cfg = self.config
        dt = jnp.dtype(cfg.dtype)
        embedding = self.param(
            "embedding",
            nn.with_logical_partitioning(nn.initializers.normal(stddev=1.0), ("vocab", "embed")),
            (cfg.vocab_size, cfg.d_model),
            jnp.dtype(cfg.param_dtype),
        )
        batch, length = tokens.shape
        # Residual stream kept in the compute dtype; RoPE is relative, so positions need not restart
        # at [eod] even when attention across it is masked.
        x = _constrain(jnp.take(embedding, tokens, axis=0).astype(dt), ("batch", "length", "embed"))
        positions = jnp.broadcast_to(jnp.arange(length, dtype=jnp.int32), (batch, length))
        segments = eod_segment_ids(tokens, cfg.eod_id) if cfg.mask_across_eod else None
        mask = attention_mask(segments, length)

        block = _block_class(cfg)
        if cfg.scan_layers:
            x, _ = block(cfg, deterministic, name="blocks")(x, positions, mask)
        else:
            for i in range(cfg.n_layers):
                x, _ = block(cfg, deterministic, name=f"blocks_{i}")(x, positions, mask)

        x = LayerNorm(cfg, name="final_norm")(x)
        # Shared output embedding, logits scaled by 1/sqrt(d_model); float32 accumulation and result
        # because the trainer's softmax over 256k entries and its z-loss need the precision.
        logits = jnp.einsum("btd,vd->btv", x, embedding.astype(dt), preferred_element_type=jnp.float32)
        return logits / math.sqrt(cfg.d_model)


def abstract_params(config: PaLMConfig):
    """Parameter shapes/dtypes without allocating memory (540B: ~1 s), boxed with logical axes so
    ``nn.get_partition_spec(abstract_params(cfg))`` gives each parameter's logical PartitionSpec."""
    model = PaLM(config)
    return jax.eval_shape(lambda rng: model.init(rng, jnp.zeros((1, config.seq_len), jnp.int32))["params"],
                          jax.random.key(0))


@functools.partial(jax.jit, static_argnums=0)
def init_params(config: PaLMConfig, rng: jax.Array):
    """Initialised parameters as plain arrays (unboxed; same tree as ``abstract_params``). Jitted
    (config static): op-by-op init of a scanned model is ~5x slower on CPU. To initialise directly
    sharded, wrap it again: ``jax.jit(init_params, static_argnums=0, out_shardings=...)``."""
    model = PaLM(config)
    boxed = model.init(rng, jnp.zeros((1, min(config.seq_len, 8)), jnp.int32))["params"]
    return nn.meta.unbox(boxed)


def logical_partition_specs(config: PaLMConfig):
    """Tree of ``PartitionSpec`` of logical axis names, same structure as ``init_params``."""
    return nn.get_partition_spec(abstract_params(config))


def count_params(config: PaLMConfig) -> int:
    return sum(int(math.prod(x.shape)) for x in jax.tree.leaves(abstract_params(config)))


def param_kind(path: tuple[str, ...]) -> str:
    """'embedding', 'attention', 'mlp' or 'norm' for a parameter path such as ('blocks', 'attn', 'key')."""
    if path[0] == "embedding":
        return "embedding"
    if "attn" in path:
        return "attention"
    if "mlp" in path:
        return "mlp"
    if path[-1] == "scale":
        return "norm"
    raise ValueError(f"unclassified parameter {'/'.join(path)}")


def params_by_kind(config: PaLMConfig) -> dict[str, int]:
    counts = {"embedding": 0, "attention": 0, "mlp": 0, "norm": 0}
    flat = jax.tree_util.tree_flatten_with_path(nn.meta.unbox(abstract_params(config)))[0]
    for key_path, leaf in flat:
        path = tuple(str(getattr(k, "key", k)) for k in key_path)
        counts[param_kind(path)] += int(math.prod(leaf.shape))
    return counts
