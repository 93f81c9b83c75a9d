"""Write a folder shaped like `palmkit pack` output, for trainer tests, without Beam.

``write_shards(root, tokens)`` splits an int32 ``(N, seq_len)`` array into shards in training order
(palmkit.records.packed_schema, row groups of ``rows_per_group``) and writes ``manifest.json``
(stage "pack", every shard with rows/bytes/SHA-256, through ``PackedDataSpec.to_manifest``).
With ``components`` (names) and ``segments`` (per row, the component index of each segment,
``records.COMPONENTS_SCHEMA``), each shard also gets its component sidecar, as `palmkit pack`
writes it. ``real_text_tokens`` gives real text as tokens without a tokenizer: UTF-8 bytes of
the files of the bundled sample's code tree (ids 0..255, ``tests.sample_text``), documents separated by
``[eod]`` = 256.
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from palmkit.contracts import PackedDataSpec, packed_shard_name
from palmkit.manifest import file_entry
from palmkit.records import components_name, components_table, packed_schema
from tests.sample_text import file_bytes

BYTE_EOD = 256
BYTE_VOCAB = 257


def write_shards(root, tokens: np.ndarray, *, num_shards: int = 2, vocab_size: int = 512,
                 eod_id: int = 1, rows_per_group: int = 1024, components: tuple[str, ...] = (),
                 segments: list[list[int]] | None = None) -> str:
    root = str(root)
    os.makedirs(root, exist_ok=True)
    tokens = np.asarray(tokens, dtype=np.int32)
    seq_len = tokens.shape[1]
    parts = np.array_split(tokens, num_shards)
    outputs = {}
    for i, part in enumerate(parts):
        name = packed_shard_name(i, num_shards)
        column = pa.FixedSizeListArray.from_arrays(pa.array(part.reshape(-1), pa.int32()), seq_len)
        table = pa.Table.from_arrays([column], schema=packed_schema(seq_len))
        pq.write_table(table, os.path.join(root, name), row_group_size=rows_per_group)
        outputs[name] = file_entry(os.path.join(root, name), len(part))
    shards = tuple(outputs)
    if components:
        first = 0
        for name, part in zip(shards, parts):
            side = components_name(name)
            pq.write_table(components_table(segments[first: first + len(part)]),
                           os.path.join(root, side))
            outputs[side] = file_entry(os.path.join(root, side), len(part))
            first += len(part)
    spec = PackedDataSpec(seq_len=seq_len, vocab_size=vocab_size, vocab_sha256="test",
                          eod_id=eod_id, seed=0, shards=shards,
                          examples_per_shard=tuple(len(p) for p in parts),
                          components=tuple(components))
    spec.to_manifest(outputs=outputs, config={"seq_len": seq_len}, inputs={},
                     counts={"tokens_packed": int(tokens.size)}, versions={}).write(root)
    return root


def random_tokens(n: int, seq_len: int, *, vocab_size: int = 512, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(2, vocab_size, (n, seq_len), dtype=np.int32)


def real_text_tokens(n: int, seq_len: int) -> np.ndarray:
    """``n`` rows of ``seq_len`` byte tokens of real text (sample files), packed with [eod]."""
    stream: list[int] = []
    for data in file_bytes():
        stream.extend(data)
        stream.append(BYTE_EOD)
        if len(stream) >= n * seq_len:
            break
    return np.asarray(stream[: n * seq_len], dtype=np.int32).reshape(n, seq_len)
