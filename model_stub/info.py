"""`palmkit model info`: parameters by kind, FLOPs per token and memory of a preset, computed from an
abstract initialisation (``jax.eval_shape``: 540B takes seconds and no memory).

Memory figures are for parameters in float32 (4 bytes each) and for the optimizer state of Adafactor
without factorisation (PaLM section 5): first moment + second moment, float32, 8 bytes per parameter.
Activations, gradients and compiler buffers are not included (they depend on batch, sharding, remat).
"""

from __future__ import annotations

import dataclasses
import json

from model_stub import flops, palm
from palmkit import flags

GIB = 2**30


@dataclasses.dataclass(frozen=True)
class InfoConfig:
    preset: str = flags.option(choices=tuple(palm.PRESETS), help="model preset")
    vocab_size: int | None = flags.option(None, help="override the preset's vocabulary")
    seq_len: int | None = flags.option(None, help="override the preset's sequence length")
    as_json: bool = flags.option(False, flag="--json", help="print JSON")


def model_info(config: palm.PaLMConfig) -> dict:
    """Everything `palmkit model info` prints, as plain data."""
    by_kind = palm.params_by_kind(config)
    n = sum(by_kind.values())
    return {
        "config": dataclasses.asdict(config),
        "params": n,
        "params_by_kind": by_kind,
        "flops_per_token": flops.flops_per_token(config, n_params=n),
        "flops_per_token_without_attention": flops.flops_per_token(config, with_attention=False, n_params=n),
        "param_bytes_f32": 4 * n,
        "adafactor_state_bytes_f32": 8 * n,
    }


def format_info(name: str, info: dict) -> str:
    cfg = info["config"]
    lines = [
        f"{name}: {cfg['n_layers']} layers, {cfg['n_heads']} heads x {cfg['head_dim']}, "
        f"d_model {cfg['d_model']}, d_ff {cfg['d_ff']}, vocab {cfg['vocab_size']}, seq_len {cfg['seq_len']}",
        f"  parameters           {info['params']:>18,}  ({info['params'] / 1e9:.3f}B)",
    ]
    for kind, count in info["params_by_kind"].items():
        lines.append(f"    {kind:<18} {count:>18,}  ({100 * count / info['params']:.2f}%)")
    lines += [
        f"  FLOPs/token          {info['flops_per_token']:>18,}  ({info['flops_per_token'] / 1e12:.4g} TFLOPs)",
        f"    w/o attention      {info['flops_per_token_without_attention']:>18,}"
        f"  ({info['flops_per_token_without_attention'] / 1e12:.4g} TFLOPs)",
        f"  params f32           {info['param_bytes_f32'] / GIB:>18,.2f} GiB",
        f"  Adafactor m+v f32    {info['adafactor_state_bytes_f32'] / GIB:>18,.2f} GiB",
    ]
    return "\n".join(lines)


def main(config: InfoConfig) -> dict:
    overrides = {k: v for k, v in (("vocab_size", config.vocab_size), ("seq_len", config.seq_len)) if v}
    info = model_info(palm.get_config(config.preset, **overrides))
    print(json.dumps(info, indent=2) if config.as_json else format_info(config.preset, info))
    return info
