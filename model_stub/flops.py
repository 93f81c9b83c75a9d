"""Training FLOPs per token and model FLOPs utilisation (MFU), as in PaLM appendix B.

    flops_per_token = 6 N + 12 L H Q T

N counts every parameter, the shared 256k embedding included (that is what reproduces Table 22:
8B 0.0550, 62B 0.388, 540B 3.28 TFLOPs per token). 6N is forward (2N) + backward (4N) matmuls;
12 L H Q T is the attention score and value matmuls (QK^T and AV, 2 each per token forward, x3 with
backward) at full sequence length T. Layer norms, softmax and RoPE are not counted, and neither is
rematerialisation: MFU deliberately ignores recomputation (Table 22's "with remat" column, e.g. 540B
4.10, is hardware FLOPs).

    MFU = tokens/s * flops_per_token / peak FLOP/s of all chips

PaLM 540B: 238.3K tokens/s on 6144 TPU v4 chips at 275 TFLOP/s -> 46.2% (45.7% without attention).

This module imports no JAX unless a ``PaLMConfig`` needs counting; ``flops_per_token`` accepts an
explicit ``n_params`` to skip even that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from model_stub.palm import PaLMConfig

# Peak dense bfloat16 matmul FLOP/s per chip. Vendor datasheets: TPU v4 275 TFLOP/s; H100 SXM and
# H200 989 TFLOP/s dense (1979 is the 2:4-sparsity figure, not used for MFU). "cpu" is this
# project's 2-core AMD EPYC measured idle (best of 10 float32 2048x2048 matmuls under jit:
# ~420 GFLOP/s; 66-70 while other jobs ran); the trainer measures the CPU it runs on instead
# (``trainer.metrics``), so this entry is only the default of ``palmkit model info``-style math.
PEAK_FLOPS: dict[str, float] = {
    "tpu-v4": 275e12,
    "h100-sxm": 989e12,
    "h200": 989e12,
    "cpu": 420e9,
}


def peak_flops_per_chip(device: str, *, override: float | None = None) -> float:
    """Peak bf16 FLOP/s of one ``device`` (a key of PEAK_FLOPS) unless ``override`` is given."""
    if override is not None:
        return float(override)
    if device not in PEAK_FLOPS:
        raise KeyError(f"unknown device {device!r}; known: {', '.join(PEAK_FLOPS)} (or pass override)")
    return PEAK_FLOPS[device]


def attention_flops_per_token(config: "PaLMConfig") -> int:
    """12 L H Q T: attention score/value matmuls, forward and backward, per token."""
    return 12 * config.n_layers * config.n_heads * config.head_dim * config.seq_len


def flops_per_token(
    config: "PaLMConfig", *, with_attention: bool = True, n_params: int | None = None
) -> int:
    """Training (forward + backward) model FLOPs per token: 6N [+ 12 L H Q T]."""
    if n_params is None:
        from model_stub.palm import count_params  # JAX import only when needed

        n_params = count_params(config)
    flops = 6 * n_params
    if with_attention:
        flops += attention_flops_per_token(config)
    return flops


def mfu(tokens_per_sec: float, flops_per_token: float, peak_flops_total: float) -> float:
    """Model FLOPs utilisation in [0, 1]: achieved model FLOP/s over the peak of all chips."""
    if peak_flops_total <= 0:
        raise ValueError("peak_flops_total must be positive")
    return tokens_per_sec * flops_per_token / peak_flops_total
