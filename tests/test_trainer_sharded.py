"""A step on a data=4 x model=2 mesh of 8 simulated CPU devices equals the single-device step.

XLA_FLAGS must be set before JAX starts, so the comparison runs in a fresh subprocess."""

import json
import os
import subprocess
import sys

import pytest

CHILD = r"""
import json, jax, numpy as np
from model_stub.palm import get_config
from trainer import step as S

cfg = get_config("palm-tiny", eod_id=1)
oc = S.OptimConfig(lr_constant_steps=1)
tokens = np.random.default_rng(0).integers(2, 512, (8, 64), dtype=np.int32)

def run(mesh):
    c = S.build(cfg, oc, mesh)
    state = S.init_state(c, mesh, seed=0)
    losses = []
    for _ in range(3):
        state, m = S.run_step(c, mesh, state, S.global_batch(mesh, tokens, 8), 1.0)
        losses.append(float(m["loss"]))
    return state, losses

single, l1 = run(S.make_mesh(1, 1, jax.devices()[:1]))
sharded, l8 = run(S.make_mesh(4, 2))
emb = sharded["params"]["embedding"]
diff = jax.tree.map(lambda a, b: float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b)))),
                    single["params"], sharded["params"])
print(json.dumps({"devices": jax.device_count(), "losses": [l1, l8],
                  "max_param_diff": max(jax.tree.leaves(diff)),
                  "embedding_spec": [str(a) for a in emb.sharding.spec],
                  "embedding_shard": list(emb.addressable_shards[0].data.shape),
                  "v_spec": [str(a) for a in sharded["opt_state"][1][0].v["blocks"]["mlp"]["up"].sharding.spec]}))
"""


@pytest.mark.slow  # ~45 s on 2 loaded cores: compiles the step twice in a fresh JAX process
def test_sharded_step_equals_single_device_step():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=root, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["devices"] == 8
    # FSDP + tensor parallel: (vocab, embed) -> (model, data), so each device holds 256 x 16.
    assert result["embedding_spec"] == ["model", "data"]
    assert result["embedding_shard"] == [256, 16]
    assert result["v_spec"] == ["None", "data", "model"]  # optimizer slots sharded like params
    single, sharded = result["losses"]
    assert all(abs(a - b) < 1e-4 for a, b in zip(single, sharded)), result["losses"]
    assert result["max_param_diff"] < 1e-4, result
