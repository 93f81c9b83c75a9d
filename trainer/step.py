"""The train step: PaLM's loss (+ z-loss), optimizer (Adafactor, unfactored), sharding, init.

Sharding: a 2-D mesh ``("data", "model")``. Parameters are placed by their logical axis names
(model_stub boxes every parameter) through ``RULES``: ``embed`` -> ``data`` is the fully-sharded
data parallelism (every parameter and optimizer slot is split over the data axis and all-gathered
per use, as in PaLM's 256-way FSDP within a pod), ``heads``/``mlp``/``vocab`` -> ``model`` is the
tensor (model) parallelism. Activations use the same names; flax assigns a mesh axis at most once
per array and takes the first rule whose mesh axis is still free, so parameters get ``embed`` ->
``data`` while the residual stream ``("batch", "length", "embed")`` becomes ``("data", None,
"model")``: batch-sharded and embed-sharded over the model axis. The second part matters under
remat, which keeps one residual-stream input per layer: for palm-62b with 16 sequences per data
shard that is 64 x 16 x 2048 x 8192 x 2 bytes = 34 GiB per chip unsharded, 4.3 GiB over model=8
(the TPU compiler refused v4-512 data=32 model=8 at 42 GiB of temporaries without it; docs/aot.md).

Optimizer (section 5): ``clip_by_global_norm(1.0)`` then optax's Adafactor with ``factored=False``
(a full second moment per parameter: Adam-like, 4 bytes x N more than factored), ``decay_rate=0.8``
(beta2 = 1 - k^-0.8), ``momentum=0.9`` (beta1), ``multiply_by_parameter_scale=True`` (updates scaled
by the parameter's RMS), no update clipping (the global-norm clip replaces it), the learning rate of
``schedules.learning_rate`` and weight decay ``lr(k)^2 * param`` added after the learning rate
(optax's ``add_decayed_weights`` sits after ``scale_by_learning_rate`` in its chain), so each step
subtracts exactly ``lr(k)^2 * param``.

Inputs are the packed rows shifted right by one with ``[eod]`` in front, targets the rows themselves:
the model sees exactly ``seq_len`` positions (2048: tile-friendly, and what the FLOPs formula counts);
only the first target of each row is predicted from ``[eod]`` alone (1 of 2048 positions).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from model_stub.palm import PaLM, PaLMConfig, init_params, logical_partition_specs
from trainer import schedules

# logical axis -> mesh axis (first unused one wins; see module docstring).
RULES: tuple[tuple[str, str | None], ...] = (
    ("batch", "data"),
    ("vocab", "model"),
    ("heads", "model"),
    ("mlp", "model"),
    ("embed", "data"),
    ("embed", "model"),  # used only where "data" is taken: the activations' embed axis
    ("kv", None),
    ("length", None),
    ("layers", None),
)


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    lr_peak: float = 1e-2
    lr_constant_steps: int = 10_000
    beta1: float = 0.9
    decay_rate: float = 0.8  # beta2 = 1 - k^-decay_rate
    clip_norm: float = 1.0
    weight_decay: bool = True  # dynamic weight decay lr(k)^2
    z_loss: float = 1e-4


def make_optimizer(cfg: OptimConfig) -> optax.GradientTransformation:
    # optax counts from 0 for the first update; the paper's k is 1-based.
    lr = lambda count: schedules.learning_rate(count + 1, peak=cfg.lr_peak,  # noqa: E731
                                               constant_steps=cfg.lr_constant_steps)
    wd = (lambda count: lr(count) ** 2) if cfg.weight_decay else None
    return optax.chain(
        optax.clip_by_global_norm(cfg.clip_norm),
        optax.adafactor(learning_rate=lr, factored=False, decay_rate=cfg.decay_rate,
                        multiply_by_parameter_scale=True, clipping_threshold=None,
                        momentum=cfg.beta1, weight_decay_rate=wd),
    )


def make_mesh(data: int, model: int, devices=None) -> Mesh:
    devices = jax.devices() if devices is None else devices
    if data * model != len(devices):
        raise ValueError(f"mesh data={data} x model={model} needs {data * model} devices; "
                         f"{len(devices)} available")
    grid = np.asarray(devices).reshape(data, model)
    return Mesh(grid, ("data", "model"), axis_types=(AxisType.Auto,) * 2)


def lm_loss(logits: jax.Array, targets: jax.Array, *, z_coeff: float) -> tuple[jax.Array, jax.Array]:
    """Mean cross-entropy and z-loss ``z_coeff * mean(log(Z)^2)`` over all tokens (float32)."""
    logits = logits.astype(jnp.float32)
    log_z = jax.nn.logsumexp(logits, axis=-1)
    target_logit = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    return jnp.mean(log_z - target_logit), z_coeff * jnp.mean(jnp.square(log_z))


def shift_right(tokens: jax.Array, start_id: int) -> jax.Array:
    return jnp.concatenate([jnp.full_like(tokens[:, :1], start_id), tokens[:, :-1]], axis=1)


def state_shardings(model_cfg: PaLMConfig, optimizer, mesh: Mesh):
    """NamedSharding for every leaf of the train state ``{"step", "params", "opt_state"}``."""
    with nn.logical_axis_rules(RULES):
        param_sh = nn.logical_to_mesh_sharding(logical_partition_specs(model_cfg), mesh, RULES)
    replicated = NamedSharding(mesh, PartitionSpec())
    abstract_params = jax.eval_shape(lambda: init_params(model_cfg, jax.random.key(0)))
    abstract_opt = jax.eval_shape(optimizer.init, abstract_params)
    # Param-shaped slots (second moment, momentum) are sharded like their parameter; the (1,)
    # placeholders unfactored Adafactor keeps for v_row/v_col, and counts, are replicated.
    opt_sh = optax.tree_map_params(
        optimizer, lambda leaf, p, s: s if leaf.shape == p.shape else replicated, abstract_opt,
        abstract_params, param_sh, transform_non_params=lambda _: replicated,
        is_leaf=lambda x: isinstance(x, NamedSharding))
    return {"step": replicated, "params": param_sh, "opt_state": opt_sh}


def batch_sharding(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec("data", None))


@dataclasses.dataclass(frozen=True)
class Compiled:
    """Everything jitted for one (model, optimizer, mesh): built once per process and cached, so
    a rollback or a second run in the same process (tests) does not recompile (~10 s for palm-tiny)."""

    optimizer: optax.GradientTransformation
    shardings: Any
    init: Any  # seed -> state
    step: Any  # (state, tokens, loss_scale) -> (state, metrics)


@functools.lru_cache(maxsize=8)
def build(model_cfg: PaLMConfig, optim_cfg: OptimConfig, mesh: Mesh) -> Compiled:
    optimizer = make_optimizer(optim_cfg)
    shardings = state_shardings(model_cfg, optimizer, mesh)
    replicated = NamedSharding(mesh, PartitionSpec())

    def init(seed):
        params = init_params(model_cfg, jax.random.key(seed))
        return {"step": jnp.zeros((), jnp.int32), "params": params, "opt_state": optimizer.init(params)}

    step = functools.partial(_train_step, model=PaLM(model_cfg), optimizer=optimizer,
                             z_coeff=optim_cfg.z_loss,
                             start_id=model_cfg.eod_id if model_cfg.eod_id is not None else 0)
    # Parameters and optimizer state are created directly in their shards (never whole on one
    # device); the step donates the old state so peak memory holds one copy of it.
    return Compiled(
        optimizer=optimizer, shardings=shardings,
        init=jax.jit(init, static_argnums=0, out_shardings=shardings),
        step=jax.jit(step, in_shardings=(shardings, batch_sharding(mesh), replicated),
                     out_shardings=(shardings, replicated), donate_argnums=(0,)),
    )


def init_state(compiled: Compiled, mesh: Mesh, seed: int) -> dict[str, Any]:
    with jax.set_mesh(mesh), nn.logical_axis_rules(RULES):
        return compiled.init(seed)


def _train_step(state, tokens, loss_scale, *, model: PaLM, optimizer, z_coeff: float, start_id: int):
    def loss_fn(params):
        logits = model.apply({"params": params}, shift_right(tokens, start_id))
        ce, z = lm_loss(logits, tokens, z_coeff=z_coeff)
        # loss_scale is 1 except where a test injects a spike (TrainConfig.debug_spike_examples).
        return (ce + z) * loss_scale, (ce * loss_scale, z)

    (_, (ce, z)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state["params"])
    updates, opt_state = optimizer.update(grads, state["opt_state"], state["params"])
    params = optax.apply_updates(state["params"], updates)
    metrics = {"loss": ce, "z_loss": z, "grad_norm": optax.tree.norm(grads)}
    return {"step": state["step"] + 1, "params": params, "opt_state": opt_state}, metrics


def run_step(compiled: Compiled, mesh: Mesh, state, tokens: jax.Array, loss_scale: float):
    """One update; activations are constrained by ``RULES`` on ``mesh``."""
    with jax.set_mesh(mesh), nn.logical_axis_rules(RULES):
        return compiled.step(state, tokens, jnp.float32(loss_scale))


def process_data_slice(mesh: Mesh) -> tuple[int, int]:
    """``(index, count)``: this process reads part ``index`` of ``count`` equal contiguous parts
    of every global batch (``schedules.process_slice``).

    Read from the mesh, not from ``jax.process_index()``: the batch is sharded over ``data``
    only, so processes whose devices hold the same rows of the ``data`` axis (a ``model`` axis
    spanning processes) must read the *same* rows, and ``count`` is the number of distinct row
    blocks, not of processes. ``ValueError`` when a process's rows are not one contiguous block
    of the same size as the others' (a device order ``make_array_from_process_local_data``
    cannot fill from one slice)."""
    grid = np.asarray(mesh.devices)
    blocks = {}
    for row in range(grid.shape[0]):
        for proc in {d.process_index for d in grid[row].flat}:
            blocks.setdefault(proc, []).append(row)
    rows = blocks[jax.process_index()]
    distinct = sorted({tuple(r) for r in blocks.values()})
    sizes = {len(r) for r in distinct}
    if len(sizes) != 1 or any(list(r) != list(range(r[0], r[0] + len(r))) for r in distinct) \
            or sum(len(r) for r in distinct) != grid.shape[0]:
        raise ValueError(f"mesh rows per process {blocks} are not equal contiguous blocks")
    return distinct.index(tuple(rows)), len(distinct)


def global_batch(mesh: Mesh, local_tokens: np.ndarray, global_size: int) -> jax.Array:
    """This process's rows -> the global (global_size, T) array sharded over ``data``."""
    shape = (global_size, local_tokens.shape[1])
    return jax.make_array_from_process_local_data(batch_sharding(mesh), local_tokens, shape)
