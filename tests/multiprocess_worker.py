"""One process of tests/test_multiprocess.py: `palmkit train ARGS...` through the real CLI, then
what this process read.

    python -m tests.multiprocess_worker OUT.json --data D --workdir W --steps 12 ...

Runs ``palmkit.cli.main(["train", *ARGS])`` in this process (flags, ``--distributed``'s
``jax.distributed.initialize``, ``trainer.train.main``) with ``trainer.data.READ_TRACE`` on, and
writes ``OUT.json``: the exit code, ``jax.process_index()/process_count()/device_count()`` and
the trace (``["served"|"decoded", start, stop]`` global example ranges). XLA_FLAGS and
JAX_PLATFORMS come from the environment the test sets, before JAX starts.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    out, args = argv[0], argv[1:]
    from trainer import data

    data.READ_TRACE = []
    from palmkit import cli

    rc = cli.main(["train", *args])
    import jax

    with open(out, "w", encoding="utf-8") as f:
        json.dump({"rc": rc, "process_index": jax.process_index(),
                   "process_count": jax.process_count(), "devices": jax.device_count(),
                   "local_devices": jax.local_device_count(), "trace": data.READ_TRACE}, f)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
