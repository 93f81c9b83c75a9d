"""recipes/seqio: a seqio Task over palmkit shards, through T5X's decoder-only feature converter.

Skipped unless seqio (and so TensorFlow) is installed, which palmkit's environment does not do.
To run it: ``python3.11 -m venv V && V/bin/pip install seqio tensorflow-cpu==2.21.0 pytest``
(~3 min, 3.2 GB), then ``PYTHONPATH=. V/bin/python -m pytest tests/test_recipe_seqio.py``.
Writes its shards without Beam (tests.shards_fixture, ArrayRecordWriter) so that venv suffices."""

import os

import numpy as np
import pytest

seqio = pytest.importorskip(
    "seqio", reason="seqio needs TensorFlow, not in palmkit's environment: see this file's "
    "docstring to run it in a side venv")

from palmkit.contracts import PackedDataSpec, packed_shard_name  # noqa: E402
from palmkit.manifest import file_entry  # noqa: E402
from palmkit.records import example_record  # noqa: E402
from recipes.seqio import palmkit_task  # noqa: E402
from tests.shards_fixture import BYTE_EOD, BYTE_VOCAB, real_text_tokens, write_shards  # noqa: E402

SEQ, N = 64, 40


def write_array_record(root, tokens, num_shards=2) -> str:
    from array_record.python.array_record_module import ArrayRecordWriter

    os.makedirs(root, exist_ok=True)
    parts, outputs = np.array_split(tokens, num_shards), {}
    for i, part in enumerate(parts):
        name = packed_shard_name(i, num_shards, "array_record")
        writer = ArrayRecordWriter(os.path.join(root, name), "group_size:1")
        for row in part:
            writer.write(example_record([row]))
        writer.close()
        outputs[name] = file_entry(os.path.join(root, name), len(part))
    spec = PackedDataSpec(seq_len=SEQ, vocab_size=BYTE_VOCAB, vocab_sha256="t", eod_id=BYTE_EOD,
                          seed=0, shards=tuple(outputs), examples_per_shard=tuple(map(len, parts)),
                          format="array_record")
    spec.to_manifest(outputs=outputs, config={}, inputs={}, counts={}, versions={}).write(str(root))
    return str(root)


@pytest.fixture(scope="module")
def tokens():
    return real_text_tokens(N, SEQ)


@pytest.mark.parametrize("fmt", ["parquet", "array_record"])
def test_task_yields_the_rows_in_order_and_t5x_converter_shifts_them(tokens, tmp_path, fmt):
    shards = write_shards(tmp_path / "s", tokens, vocab_size=BYTE_VOCAB, eod_id=BYTE_EOD) \
        if fmt == "parquet" else write_array_record(tmp_path / "s", tokens)
    name = f"palmkit_test_{fmt}"
    task = palmkit_task.register(name, shards)
    try:
        assert seqio.get_mixture_or_task(name) is task
        ds = task.get_dataset({"targets": SEQ}, split="train", shuffle=False)
        got = np.stack([ex["targets"] for ex in ds.as_numpy_iterator()])
        np.testing.assert_array_equal(got, tokens)
        converted = seqio.LMFeatureConverter(pack=False)(ds, {"targets": SEQ})
        first = next(converted.as_numpy_iterator())
        np.testing.assert_array_equal(first["decoder_target_tokens"], tokens[0])
        np.testing.assert_array_equal(first["decoder_input_tokens"],
                                      np.concatenate([[0], tokens[0, :-1]]))
        assert (first["decoder_loss_weights"] == 1).all()
        # one host of two: every second example
        half = task.get_dataset({"targets": SEQ}, split="train", shuffle=False,
                                shard_info=seqio.ShardInfo(index=1, num_shards=2))
        np.testing.assert_array_equal(
            np.stack([ex["targets"] for ex in half.as_numpy_iterator()]), tokens[1::2])
    finally:
        seqio.TaskRegistry.remove(name)
