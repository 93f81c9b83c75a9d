"""`palmkit train` in 2 processes x 4 CPU devices equals the 1-process 8-device run, each process
reads only its slice, and a SIGKILL mid-run + restart of both reproduces the run.

Each process is ``python -m tests.multiprocess_worker`` (the real CLI: flags,
``--distributed --coordinator-address localhost:PORT --num-processes 2 --process-id I``, which
calls ``jax.distributed.initialize``; CPU collectives across processes go through Gloo, JAX
0.10's default ``jax_cpu_collectives_implementation``) on a ``data=4 x model=2`` mesh whose data
axis spans both processes, reading one shard folder, checkpointing with Orbax into one workdir.

Tolerance: losses agree to 1e-5, not bitwise. The trainer promises bitwise results for the same
program (same mesh *and* process layout): across 2 processes XLA reduces gradients over the data
axis in two stages (within a process, then Gloo across) instead of one in-process reduction, so
float32 sums are added in another order; measured here, 11 of 20 (7 of 12) step losses are
bitwise equal and the largest difference is 9.5e-7 (1 ulp of ~6.5). The killed-and-resumed run is the same
program as the uninterrupted 2-process one, and *is* compared bitwise.

Cost: 3.5-5.5 min on 2 loaded cores (4 launches, each compiling palm-tiny), hence ``slow``. Every
process has a hard timeout, so a hung collective fails the test instead of hanging CI.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.shards_fixture import BYTE_EOD, BYTE_VOCAB, real_text_tokens, write_shards
from trainer.metrics import read_jsonl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS, BATCH, PER_PROCESS = 12, 8, 4
TIMEOUT = 300  # seconds per launch; a run takes ~30-40 s here
TOLERANCE = 1e-5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def train_args(data, workdir) -> list[str]:
    # vocab 512 (> the data's 257) so the embedding splits over model=2.
    return ["--data", str(data), "--workdir", str(workdir), "--steps", str(STEPS),
            "--preset", "palm-tiny", "--vocab-size", "512", "--batch-schedule", f"0:{BATCH}",
            "--lr-constant-steps", "10", "--checkpoint-every", "3", "--mesh", "data=4,model=2",
            "--quiet"]


def launch(out_dir, name, args, *, devices, process_id=None, port=None) -> subprocess.Popen:
    env = dict(os.environ, JAX_PLATFORMS="cpu",
               XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    extra = [] if process_id is None else [
        "--distributed", "--coordinator-address", f"localhost:{port}", "--num-processes", "2",
        "--process-id", str(process_id), "--initialization-timeout", "120"]
    log = open(os.path.join(out_dir, f"{name}.log"), "w")
    proc = subprocess.Popen([sys.executable, "-m", "tests.multiprocess_worker",
                             os.path.join(out_dir, f"{name}.json"), *args, *extra],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.name, proc.out_dir = name, out_dir
    return proc


def finish(procs) -> list[dict]:
    """Wait for every process (hard timeout: kill all), then their reports."""
    deadline = time.monotonic() + TIMEOUT
    for p in procs:
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail(f"{p.name} still running after {TIMEOUT} s (hung collective?)\n"
                        + tail(p))
    for p in procs:
        assert p.returncode == 0, f"{p.name} exited {p.returncode}\n" + tail(p)
    return [json.load(open(os.path.join(p.out_dir, f"{p.name}.json"))) for p in procs]


def tail(p) -> str:
    with open(os.path.join(p.out_dir, f"{p.name}.log"), errors="replace") as f:
        return "".join(line for line in f if "Gloo" not in line)[-3000:]


def run_two(out_dir, name, data, workdir, port=None) -> list[dict]:
    port = port or free_port()
    return finish([launch(out_dir, f"{name}{i}", train_args(data, workdir), devices=4,
                          process_id=i, port=port) for i in range(2)])


def losses(workdir) -> list[float]:
    rows = read_jsonl(os.path.join(workdir, "metrics.jsonl"))
    assert [r["step"] for r in rows] == list(range(1, STEPS + 1))
    return [r["loss"] for r in rows]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("mp")
    # rows_per_group = a process's slice: a row group decoded is then exactly one slice.
    data = write_shards(base / "shards", real_text_tokens(160, 64), num_shards=2,
                        vocab_size=BYTE_VOCAB, eod_id=BYTE_EOD, rows_per_group=PER_PROCESS)
    single = finish([launch(str(base), "single", train_args(data, base / "w1"), devices=8)])
    multi = run_two(str(base), "multi", data, base / "w2")
    return {"base": base, "data": data, "single": single, "multi": multi}


@pytest.mark.slow
def test_two_processes_equal_the_single_process_run(runs):
    (single,), multi = runs["single"], runs["multi"]
    assert single["devices"] == 8 and single["process_count"] == 1
    assert [(r["process_index"], r["process_count"], r["devices"], r["local_devices"])
            for r in multi] == [(0, 2, 8, 4), (1, 2, 8, 4)]
    one, two = losses(runs["base"] / "w1"), losses(runs["base"] / "w2")
    assert np.max(np.abs(np.subtract(one, two))) < TOLERANCE, (one, two)
    assert two[-1] < two[0] - 0.5  # it trained
    # Orbax wrote one checkpoint set for both processes (every 3 steps, the last at STEPS).
    steps = sorted(int(s) for s in os.listdir(runs["base"] / "w2" / "checkpoints") if s.isdigit())
    assert steps[-1] == STEPS and all(s % 3 == 0 for s in steps)


@pytest.mark.slow
def test_each_process_reads_only_its_slice_of_each_batch(runs):
    for report in runs["multi"]:
        i = report["process_index"]
        mine = [(k * BATCH + i * PER_PROCESS, k * BATCH + (i + 1) * PER_PROCESS)
                for k in range(STEPS)]
        served = [(a, b) for kind, a, b in report["trace"] if kind == "served"]
        decoded = [(a, b) for kind, a, b in report["trace"] if kind == "decoded"]
        assert served == mine, (i, served)
        assert decoded == mine, (i, decoded)  # nothing of the other process's rows from disk
    (single,) = runs["single"]
    assert [(a, b) for kind, a, b in single["trace"] if kind == "served"] == \
        [(k * BATCH, (k + 1) * BATCH) for k in range(STEPS)]


def wait_for_step(workdir, step: int, procs, timeout: float = TIMEOUT) -> None:
    path, deadline = os.path.join(workdir, "metrics.jsonl"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and len(read_jsonl(path)) >= step:
            return
        if any(p.poll() is not None for p in procs):
            pytest.fail("a process ended before it was killed\n" + "".join(map(tail, procs)))
        time.sleep(0.05)
    pytest.fail(f"step {step} not reached in {timeout} s")


@pytest.mark.slow
def test_sigkill_one_process_then_restart_both_reproduces_the_run(runs):
    base, workdir = runs["base"], runs["base"] / "w3"
    args, port = train_args(runs["data"], workdir), free_port()
    procs = [launch(str(base), f"killed{i}", args, devices=4, process_id=i, port=port)
             for i in range(2)]
    wait_for_step(workdir, 7, procs)  # past the checkpoints of steps 3 and 6
    procs[1].send_signal(signal.SIGKILL)
    try:  # process 0 now fails (its peer is gone) or blocks in a collective: end it too
        procs[0].wait(timeout=20)
    except subprocess.TimeoutExpired:
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(timeout=20)
    assert procs[1].wait(timeout=20) == -signal.SIGKILL
    assert len(read_jsonl(os.path.join(workdir, "metrics.jsonl"))) < STEPS
    # The same command again (same coordinator port: the killed coordinator's socket is gone).
    resumed = run_two(str(base), "resumed", runs["data"], workdir, port=port)
    for report in resumed:
        served = [a for kind, a, b in report["trace"] if kind == "served"]
        first_step = served[0] // BATCH + 1
        assert first_step in (4, 7), first_step  # resumed from checkpoint 3 or 6, not step 1
        assert len(served) == STEPS - first_step + 1
    assert losses(workdir) == losses(base / "w2")  # bitwise: the same 2-process program


def test_process_data_slice_follows_the_mesh():
    """Which part of each batch a process reads comes from the mesh's device layout."""
    import types

    from trainer.step import process_data_slice

    def mesh(procs):  # procs[r][c]: process of the device at data row r, model column c
        grid = np.array([[types.SimpleNamespace(process_index=p) for p in row] for row in procs])
        return types.SimpleNamespace(devices=grid)

    assert process_data_slice(mesh([[0, 0], [0, 0], [1, 1], [1, 1]])) == (0, 2)
    assert process_data_slice(mesh([[0] * 4, [1] * 4])) == (0, 2)
    # model axis across processes: both hold the same rows, both read the whole batch
    assert process_data_slice(mesh([[0, 0, 1, 1]])) == (0, 1)
    with pytest.raises(ValueError, match="contiguous"):
        process_data_slice(mesh([[0, 0], [1, 1], [0, 0], [1, 1]]))


def test_distributed_flags_reach_jax_distributed_initialize():
    import argparse

    from palmkit.errors import UserError
    from trainer import cli

    p = argparse.ArgumentParser()
    cli.configure(p)
    base = ["--data", "d", "--workdir", "w", "--steps", "1", "--distributed"]
    args = p.parse_args(base + ["--coordinator-address", "localhost:1234", "--num-processes",
                                "2", "--process-id", "1"])
    assert cli.distributed_kwargs(args) == {"coordinator_address": "localhost:1234",
                                            "num_processes": 2, "process_id": 1,
                                            "initialization_timeout": 300}
    assert cli.distributed_kwargs(p.parse_args(base)) == {"initialization_timeout": 300}
    with pytest.raises(UserError, match="--process-id 2"):
        cli.distributed_kwargs(p.parse_args(base + ["--num-processes", "2", "--process-id", "2"]))


def test_a_mesh_that_does_not_divide_the_model_is_a_one_line_error():
    """257 byte ids over model=2 was an IndivisibleError traceback from inside jit."""
    from model_stub.palm import get_config
    from palmkit.errors import UserError
    from trainer.train import check_mesh_divides

    tiny = get_config("palm-tiny", vocab_size=BYTE_VOCAB)
    check_mesh_divides(tiny, 8, 1)
    with pytest.raises(UserError, match=r"--mesh model=2 does not divide the model's vocab_size "
                                        r"of 257: pass --vocab-size 258"):
        check_mesh_divides(tiny, 4, 2)
    with pytest.raises(UserError, match="--mesh data=3 does not divide the model's d_model of 64"):
        check_mesh_divides(get_config("palm-tiny"), 3, 1)
