"""Ahead-of-time compilation of the real train step for a TPU v4 topology, on a CPU-only machine.

    palmkit aot --preset palm-8b --topology v4-128 --mesh data=16,model=4 --batch 256

Needs the ``tpu`` extra (``pip install 'palmkit[tpu]'``: jax[tpu] with libtpu, +684 MB). libtpu
describes the topology's devices without any TPU attached
(``jax.experimental.topologies.get_topology_desc``); the train step of ``trainer.step`` (same
shardings, same optimizer) is lowered with abstract inputs and compiled by the TPU compiler, which
reports per-chip memory (``memory_analysis``) and FLOPs (``cost_analysis``). An out-of-memory
layout is thus found in minutes on a laptop instead of on a pod (MaxText's ``train_compile.py``).

Naming: ``v4-N`` counts TensorCores as Cloud TPU does; a v4 chip has 2 (one "megacore" device),
so v4-128 = 64 chips = 64 JAX devices in a 4x4x4 cube. HBM: 32 GiB per chip.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import time

from palmkit import flags

HBM_PER_CHIP = 32 * 2**30

# chips -> (x, y, z) of the v4 slice shapes Cloud TPU offers (full cubes of 4x4x4 and larger).
V4_SHAPES = {4: (2, 2, 1), 8: (2, 2, 2), 16: (2, 2, 4), 32: (2, 4, 4), 64: (4, 4, 4),
             128: (4, 4, 8), 256: (4, 8, 8), 512: (8, 8, 8), 1024: (8, 8, 16),
             2048: (8, 16, 16), 3072: (12, 16, 16)}


class TpuExtraMissing(RuntimeError):
    pass


@dataclasses.dataclass
class AotConfig:
    preset: str = flags.option(help="e.g. palm-8b, palm-62b, palm-540b")
    topology: str = flags.option(help="TPU v4 slice, e.g. v4-128 (64 chips)")
    mesh_data: int | None = flags.option(None, cli=False, help="--mesh data=N; default: chips / mesh_model")
    mesh_model: int = flags.option(1, cli=False, help="--mesh model=M")
    batch: int | None = flags.option(
        None, help="global batch in sequences (default: 2 per data shard)")
    dtype: str = flags.option("bfloat16", choices=("bfloat16", "float32"),
                              help="matmul dtype on the TPU")
    remat: bool = flags.option(True, help="keep activations (more memory)")
    seq_len: int | None = flags.option(None, help="sequence length (default: the preset's, 2048)")
    # XLA's cost analysis counts a while loop's body once, so with scanned layers the compiler's
    # FLOPs are those of ONE block plus embedding/logits; unroll for a per-step figure comparable
    # with the formula (compile time grows with the number of layers).
    unroll: bool = flags.option(
        False, help="unrolled layers: compiler FLOPs for the whole step (slower compile)")


@dataclasses.dataclass
class AotReport:
    preset: str
    topology: str
    chips: int
    mesh: tuple[int, int]
    batch: int
    seq_len: int
    argument_bytes: int
    output_bytes: int
    alias_bytes: int
    temp_bytes: int
    total_bytes: int
    compiler_flops: float  # per chip per step, from cost_analysis
    formula_flops: float  # per chip per step, 6N + 12LHQT per token
    compile_seconds: float
    unrolled: bool = False
    error: str | None = None  # the compiler's out-of-memory message, when it refused

    @property
    def fits(self) -> bool:
        return self.error is None and self.total_bytes <= HBM_PER_CHIP

    def table_row(self) -> str:
        gib = lambda b: f"{b / 2**30:.2f}"  # noqa: E731
        if self.error:
            return (f"| {self.preset} | {self.topology} ({self.chips} chips) | data={self.mesh[0]} "
                    f"model={self.mesh[1]} | {self.batch} | - | - | - | NO: {self.error} | - | "
                    f"{self.compile_seconds:.0f} |")
        return (f"| {self.preset} | {self.topology} ({self.chips} chips) | data={self.mesh[0]} "
                f"model={self.mesh[1]} | {self.batch} | {gib(self.argument_bytes)} | "
                f"{gib(self.temp_bytes)} | {gib(self.total_bytes)} / 32 | "
                f"{'yes' if self.fits else 'NO'} | {self.compiler_flops / 1e12:.1f}"
                f"{'' if self.unrolled else ' (1 layer)'} / "
                f"{self.formula_flops / 1e12:.1f} | {self.compile_seconds:.0f} |")


def require_libtpu() -> None:
    if importlib.util.find_spec("libtpu") is None:
        raise TpuExtraMissing("`palmkit aot` needs libtpu: install the tpu extra, "
                              "`pip install 'palmkit[tpu]'` (jax[tpu]==0.10.2, +684 MB)")


def topology_devices(topology: str):
    """TPU v4 devices of a topology such as ``v4-128``, described by libtpu (no TPU needed)."""
    from jax.experimental import topologies

    kind, _, cores = topology.partition("-")
    chips = int(cores) // 2 if cores.isdigit() else 0
    if kind != "v4" or chips not in V4_SHAPES:
        raise ValueError(f"topology {topology!r}: expected v4-N with N in "
                         f"{sorted(2 * c for c in V4_SHAPES)} (TensorCores; 2 per chip)")
    x, y, z = V4_SHAPES[chips]
    desc = topologies.get_topology_desc(topology_name=f"v4:{x}x{y}x{z}", platform="tpu",
                                        chip_config_name="megacore",
                                        chips_per_host_bounds=(2, 2, 1), num_slices=1,
                                        wrap=(False,) * 3)
    return desc.devices


def compile_report(config: AotConfig) -> AotReport:
    require_libtpu()
    import flax.linen as nn
    import jax
    import jax.numpy as jnp
    from jax.sharding import NamedSharding, PartitionSpec

    from model_stub.flops import flops_per_token
    from model_stub.palm import count_params, get_config
    from trainer import checkpoint, step

    devices = topology_devices(config.topology)
    chips = len(devices)
    model = config.mesh_model
    data = config.mesh_data or chips // model
    mesh = step.make_mesh(data, model, devices)
    overrides = {"dtype": config.dtype, "remat": config.remat, "scan_layers": not config.unroll}
    if config.seq_len:
        overrides["seq_len"] = config.seq_len
    model_cfg = get_config(config.preset, **overrides)
    batch = config.batch or 2 * data
    compiled = step.build(model_cfg, step.OptimConfig(), mesh)
    shapes = jax.eval_shape(lambda: compiled.init(0))
    state = checkpoint.abstract_state(shapes, compiled.shardings)
    tokens = jax.ShapeDtypeStruct((batch, model_cfg.seq_len), jnp.int32,
                                  sharding=step.batch_sharding(mesh))
    scale = jax.ShapeDtypeStruct((), jnp.float32, sharding=NamedSharding(mesh, PartitionSpec()))
    n = count_params(model_cfg)
    formula = flops_per_token(model_cfg, n_params=n) * batch * model_cfg.seq_len / chips
    start = time.perf_counter()
    try:
        with jax.set_mesh(mesh), nn.logical_axis_rules(step.RULES):
            exe = compiled.step.lower(state, tokens, scale).compile()
    except jax.errors.JaxRuntimeError as e:
        if "RESOURCE_EXHAUSTED" not in str(e):
            raise
        # The TPU compiler refuses a program that cannot fit: that *is* the answer.
        return AotReport(preset=config.preset, topology=config.topology, chips=chips,
                         mesh=(data, model), batch=batch, seq_len=model_cfg.seq_len,
                         argument_bytes=0, output_bytes=0, alias_bytes=0, temp_bytes=0,
                         total_bytes=0, compiler_flops=math.nan, formula_flops=formula,
                         compile_seconds=time.perf_counter() - start, unrolled=config.unroll,
                         error=str(e).split("RESOURCE_EXHAUSTED: ")[-1].strip().splitlines()[0])
    seconds = time.perf_counter() - start
    mem = exe.memory_analysis()
    cost = exe.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    total = (mem.argument_size_in_bytes + mem.output_size_in_bytes - mem.alias_size_in_bytes
             + mem.temp_size_in_bytes)
    return AotReport(
        preset=config.preset, topology=config.topology, chips=chips, mesh=(data, model),
        batch=batch, seq_len=model_cfg.seq_len, argument_bytes=mem.argument_size_in_bytes,
        output_bytes=mem.output_size_in_bytes, alias_bytes=mem.alias_size_in_bytes,
        temp_bytes=mem.temp_size_in_bytes, total_bytes=total,
        compiler_flops=float(cost.get("flops", math.nan)),
        formula_flops=formula,
        compile_seconds=seconds, unrolled=config.unroll)


TABLE_HEADER = ("| preset | topology | mesh | batch | arguments GiB | temporaries GiB | "
                "total GiB / HBM | fits | TFLOPs/chip/step compiler / formula | compile s |\n"
                "|---|---|---|---|---|---|---|---|---|---|")
