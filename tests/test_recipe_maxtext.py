"""recipes/maxtext: MaxText's Grain transforms (tokenize=False, packing=False) on palmkit shards.

MaxText itself needs Python >= 3.12 (every release on the registry), so these tests run the same
transforms with Grain (recipes/maxtext/palmkit_grain.py names MaxText's functions they mirror)
on shards written by the pack job's own writers, in both formats."""

import os

import numpy as np
import pytest

pytest.importorskip("grain", reason="recipes/maxtext needs grain (palmkit's trainer extra)")
pytest.importorskip("tensorflow_datasets", reason="the tf.train.Example proto comes from "
                    "tensorflow-datasets")

from palmkit.contracts import PackedDataSpec, packed_shard_name  # noqa: E402
from recipes.maxtext import palmkit_grain as mg  # noqa: E402
from tests.shards_fixture import BYTE_EOD, BYTE_VOCAB, real_text_tokens  # noqa: E402

SEQ, N = 64, 50


def write_pack(directory, tokens, *, fmt, segment_ids=True, num_shards=2) -> str:
    """A pack output folder written with ``pipelines.pack_shards.write_shard`` (the pack job's writer)."""
    from pipelines.pack_shards import write_shard

    os.makedirs(directory, exist_ok=True)
    parts, outputs = np.array_split(tokens, num_shards), {}
    for i, part in enumerate(parts):
        name = packed_shard_name(i, num_shards, fmt)
        outputs[name] = write_shard(str(directory), name, part, seq_len=SEQ, eod_id=BYTE_EOD,
                                    segment_ids=segment_ids, fmt=fmt)
    spec = PackedDataSpec(seq_len=SEQ, vocab_size=BYTE_VOCAB, vocab_sha256="t", eod_id=BYTE_EOD,
                          seed=0, shards=tuple(outputs), examples_per_shard=tuple(map(len, parts)),
                          segment_ids=segment_ids, format=fmt)
    spec.to_manifest(outputs=outputs, config={}, inputs={}, counts={}, versions={}).write(str(directory))
    return str(directory)


@pytest.fixture(scope="module")
def tokens():
    t = real_text_tokens(N, SEQ)
    assert (t != mg.PALMKIT_PAD_ID).all()  # byte 0 never occurs in the sample text
    return t


def collect(ds) -> dict[str, np.ndarray]:
    batches = list(ds)
    return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}


def check_maxtext_batches(got, tokens):
    """What MaxText's pretrain pipeline feeds its model, for rows ``tokens`` in order."""
    np.testing.assert_array_equal(got["inputs"], tokens)
    np.testing.assert_array_equal(got["targets"][:, :-1], tokens[:, 1:])
    assert (got["targets"][:, -1] == mg.PALMKIT_PAD_ID).all()
    assert (got["inputs_segmentation"] == 1).all()
    assert (got["targets_segmentation"][:, :-1] == 1).all() and (got["targets_segmentation"][:, -1] == 0).all()
    np.testing.assert_array_equal(got["inputs_position"], np.tile(np.arange(SEQ), (len(tokens), 1)))


def test_parquet_shards_need_only_flags(tokens, tmp_path):
    shards = write_pack(tmp_path / "p", tokens, fmt="parquet")
    flags = mg.maxtext_flags(shards)
    assert "tokenize_train_data=False" in flags and "packing=False" in flags
    assert f"max_target_length={SEQ}" in flags and "train_data_columns=['tokens']" in flags
    files = sorted(str(p) for p in (tmp_path / "p").glob("shard-*.parquet"))
    assert [f for f in flags if f.startswith("grain_train_files=")] == \
        [f"grain_train_files={os.path.join(shards, 'shard-*.parquet')}"]
    got = collect(mg.maxtext_batches(files, file_type="parquet", seq_len=SEQ, batch_size=8))
    check_maxtext_batches(got, tokens)


def test_palmkit_array_record_is_not_maxtext_records_but_export_is(tokens, tmp_path):
    import grain

    shards = write_pack(tmp_path / "a", tokens, fmt="array_record")
    raw = grain.sources.ArrayRecordDataSource(
        sorted(str(p) for p in (tmp_path / "a").glob("*.array_record")))
    # palmkit's records are raw int32 (tokens, segment_ids, positions): Grain reads them ...
    assert len(raw) == N
    np.testing.assert_array_equal(np.frombuffer(raw[3], "<i4").reshape(3, SEQ)[0], tokens[3])
    # ... but MaxText's ParseFeatures expects a tf.train.Example and cannot use them.
    from google.protobuf.message import DecodeError

    with pytest.raises((DecodeError, ValueError)):
        mg.parse_example(raw[3])
    files = mg.export(shards, str(tmp_path / "x"))
    again = mg.export(shards, str(tmp_path / "y"))
    assert [open(a, "rb").read() for a in files] == [open(b, "rb").read() for b in again]
    example = mg.parse_example(grain.sources.ArrayRecordDataSource(files)[3],
                               columns=("tokens", "segment_ids", "positions"))
    np.testing.assert_array_equal(example["tokens"], tokens[3])
    np.testing.assert_array_equal(  # the pack's segment ids survive the export
        example["segment_ids"], np.frombuffer(raw[3], "<i4").reshape(3, SEQ)[1])
    flags = mg.maxtext_flags(str(tmp_path / "x"), file_type="arrayrecord")
    assert "grain_file_type=arrayrecord" in flags
    got = collect(mg.maxtext_batches(files, file_type="arrayrecord", seq_len=SEQ, batch_size=8))
    check_maxtext_batches(got, tokens)
    # two hosts: every 2nd example each (MaxText's dataset[host::hosts]), together all of them
    halves = [collect(mg.maxtext_batches(files, file_type="arrayrecord", seq_len=SEQ,
                                         batch_size=5, host_index=h, host_count=2))["inputs"]
              for h in range(2)]
    np.testing.assert_array_equal(halves[0], tokens[0::2])
    np.testing.assert_array_equal(halves[1], tokens[1::2])


def test_maxtext_and_palmkit_train_on_the_same_next_token_pairs(tokens, tmp_path):
    """palmkit: inputs = [eod] + row[:-1], targets = row; MaxText: inputs = row, targets =
    row[1:] + pad (masked). The (context, target) pairs agree except palmkit's first one."""
    import jax.numpy as jnp

    from trainer.step import shift_right

    shards = write_pack(tmp_path / "p", tokens, fmt="parquet", segment_ids=False)
    files = sorted(str(p) for p in (tmp_path / "p").glob("shard-*.parquet"))
    m = collect(mg.maxtext_batches(files, file_type="parquet", seq_len=SEQ, batch_size=10))
    p_inputs = np.asarray(shift_right(jnp.asarray(tokens), BYTE_EOD))
    assert mg._read_info(shards)["seq_len"] == SEQ
    # MaxText's input at t is palmkit's at t + 1, and both then predict tokens[t + 1].
    np.testing.assert_array_equal(m["inputs"][:, :-1], p_inputs[:, 1:])
    np.testing.assert_array_equal(m["targets"][:, :-1], tokens[:, 1:])
    assert (m["targets_segmentation"][:, -1] == 0).all()  # MaxText's last position: no target


def test_cli_prints_flags(tokens, tmp_path, capsys):
    shards = write_pack(tmp_path / "p", tokens, fmt="parquet")
    assert mg.main(["flags", shards]) == 0
    assert "dataset_type=grain grain_file_type=parquet" in capsys.readouterr().out
    assert mg.main(["nonsense"]) == 2


def test_trainer_reads_one_array_record_for_random_access(tokens, tmp_path):
    """The trainer's own reader: a random ``[i]`` on ArrayRecord decodes that record alone (the
    format's point, docs/benchmarks.md), a batch-sized range its 1024-record group; same rows as
    the Parquet pack either way."""
    from trainer import data

    a = data.PackedExamples(data.read_spec(write_pack(tmp_path / "a", tokens, fmt="array_record")))
    p = data.PackedExamples(data.read_spec(write_pack(tmp_path / "p", tokens, fmt="parquet")))
    want_segments, want_31 = p.read(30, 33, "segment_ids"), p[31]
    data.READ_TRACE = []  # from here on only `a` reads
    try:
        for i in (31, 2, 44):
            np.testing.assert_array_equal(a[i], tokens[i])
        np.testing.assert_array_equal(a.read(30, 33, "segment_ids"), want_segments)
        np.testing.assert_array_equal(a.read(30, 33), tokens[30:33])
        np.testing.assert_array_equal(a[31], want_31)  # now served from the cached group
        decoded = [(lo, hi) for kind, lo, hi in data.READ_TRACE if kind == "decoded"]
    finally:
        data.READ_TRACE = None
    # 31, 2, 44 alone; then shard 1 (examples 25..49) as one group, once, for both columns.
    assert decoded[:3] == [(31, 32), (2, 3), (44, 45)]
    assert decoded[3:] == [(25, 50)]
