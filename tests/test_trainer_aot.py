"""`palmkit aot`: a clear error without the tpu extra; with it, palm-tiny compiles for v4-8.

The compile runs in a subprocess (libtpu's environment must be set before JAX starts); it uses
this interpreter when libtpu is installed here, else skips."""

import importlib.util
import os
import subprocess
import sys

import pytest

from trainer import aot

HAS_LIBTPU = importlib.util.find_spec("libtpu") is not None


@pytest.mark.skipif(HAS_LIBTPU, reason="libtpu is installed: the missing-extra error cannot occur")
def test_without_libtpu_the_error_names_the_tpu_extra(capsys):
    with pytest.raises(aot.TpuExtraMissing, match=r"palmkit\[tpu\]"):
        aot.require_libtpu()
    from palmkit.cli import main as cli

    assert cli(["aot", "--preset", "palm-tiny", "--topology", "v4-8"]) == 2
    assert "tpu extra" in capsys.readouterr().out


def test_topology_names_are_checked():
    with pytest.raises(ValueError, match="v4-N"):
        aot.topology_devices("v5-8")
    with pytest.raises(ValueError, match="v4-N"):
        aot.topology_devices("v4-12")


@pytest.mark.skipif(not HAS_LIBTPU, reason="needs the tpu extra (pip install 'palmkit[tpu]')")
def test_palm_tiny_compiles_for_a_v4_8_topology():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-m", "palmkit.cli", "aot", "--preset", "palm-tiny",
                          "--topology", "v4-8", "--mesh", "data=2,model=2"],
                         cwd=root, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    row = out.stdout.strip().splitlines()[-1]
    assert row.startswith("| palm-tiny | v4-8 (4 chips) | data=2 model=2 |") and "| yes |" in row
