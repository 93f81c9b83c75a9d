"""MaxText's Grain input pipeline on palmkit shards: the flags, an ArrayRecord export, and the
same transforms MaxText applies, runnable with Grain alone (tests/test_recipe_maxtext.py).

Checked against MaxText's source at commit e591f30 (2026-08-22):
``src/maxtext/input_pipeline/grain_data_processing.py`` (``get_datasets``,
``pretrain_preprocessing_pipeline``), ``data_processing_utils.py`` (``format_and_batch``),
``input_pipeline_utils.py`` (``KeepFeatures``, ``ParseFeatures``, ``Rekey``,
``PadOrTrimToMaxLength``, ``ShiftData``) and ``configs/base.yml``.

Parquet shards (`palmkit pack`'s default) need no conversion::

    python -m maxtext.trainers.pre_train.train src/maxtext/configs/base.yml \\
        $(python -m recipes.maxtext.palmkit_grain flags SHARDS) run_name=... ...

``flags`` prints ``maxtext_flags(SHARDS)``: ``dataset_type=grain grain_file_type=parquet
grain_train_files=SHARDS/shard-*.parquet train_data_columns=['tokens']
tokenize_train_data=False`` (MaxText's tokenizer is then used only for ``pad_id``)
``packing=False`` (rows are already exactly ``seq_len``: ``PadOrTrimToMaxLength`` is a no-op)
``max_target_length=SEQ_LEN vocab_size=...`` ``enable_data_shuffling=False`` (the shards are
already in palmkit's shuffled order) ``grain_num_threads=1`` (one file at a time, so one host
reads rows in palmkit's order; more threads interleave files round-robin).

ArrayRecord: MaxText's ``grain_file_type=arrayrecord`` parses every record as a serialized
``tf.train.Example`` (``ParseFeatures``), but ``palmkit pack --format array_record`` stores raw
little-endian int32 (``palmkit.records.example_record``, read by palmkit's trainer and
``grain.sources.ArrayRecordDataSource`` directly). ``export`` rewrites a pack (either format)
as ArrayRecord of ``tf.train.Example`` records (``tokens`` int64 list, plus ``segment_ids`` and
``positions`` when packed with ``--segment-ids``; ``group_size:1`` for random access), in the
same order::

    python -m recipes.maxtext.palmkit_grain export SHARDS OUT
    ... grain_file_type=arrayrecord grain_train_files='OUT/*.array_record' (other flags as above)

How the columns map (``maxtext_batches`` below reproduces it): ``tokens`` -> ``inputs`` and
``targets``; ``inputs_segmentation = tokens != pad_id`` (palmkit's vocabulary has pad id 0, a
piece encoding never emits, so all ones), ``inputs_position = arange(seq_len)``; after batching
``ShiftData`` shifts ``targets`` left by one (the last target is ``pad_id`` with segmentation
0). So MaxText trains on the same next-token pairs as palmkit's trainer, except that palmkit also
predicts ``tokens[0]`` from ``[eod]`` (its inputs are the row shifted right) and MaxText masks
the last position instead. MaxText's pretrain pipeline takes one data column, so palmkit's
``segment_ids``/``positions`` are not used: attention crosses ``[eod]``, which is what PaLM does
(``model_stub.palm.PaLMConfig.mask_across_eod`` is False by default). Multi-host: MaxText gives
each host whole Parquet files (``files[host::hosts]``) or every ``hosts``-th ArrayRecord example,
not palmkit's contiguous slice of each batch: the global batch holds the same examples only on
one host.

MaxText itself is not installed here: every ``maxtext`` release on the package registry
(0.1.0-0.2.5) requires Python >= 3.12 and this project runs 3.11.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

#: palmkit SentencePiece vocabularies: pad id 0 (tokenizer/train.py), what MaxText takes as pad_id.
PALMKIT_PAD_ID = 0


def maxtext_flags(shards: str, *, file_type: str = "parquet") -> list[str]:
    """MaxText ``key=value`` overrides that read ``shards`` (a pack output, or an ``export``
    folder with ``file_type="arrayrecord"``) as pre-tokenized, pre-packed rows."""
    info = _read_info(shards)
    pattern = os.path.join(os.path.abspath(shards),
                           "shard-*.parquet" if file_type == "parquet" else "*.array_record")
    return ["dataset_type=grain", f"grain_file_type={file_type}", f"grain_train_files={pattern}",
            "train_data_columns=['tokens']", "tokenize_train_data=False", "packing=False",
            f"max_target_length={info['seq_len']}", f"vocab_size={info['vocab_size']}",
            "enable_data_shuffling=False", "grain_num_threads=1"]


def _read_info(directory: str) -> dict:
    """``seq_len``, ``vocab_size``, ``eod_id``, ``columns`` of a pack output or an export."""
    path = os.path.join(directory, EXPORT_INFO)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    from trainer.data import PackedExamples, read_spec

    spec = read_spec(directory, verify_checksums=False)
    return {"seq_len": spec.seq_len, "vocab_size": spec.vocab_size, "eod_id": spec.eod_id,
            "columns": list(PackedExamples(spec).columns), "examples": spec.num_examples}


EXPORT_INFO = "maxtext_export.json"


def example_bytes(columns: dict[str, np.ndarray]) -> bytes:
    """One serialized ``tf.train.Example`` with an int64 list per column (what MaxText's
    ``ParseFeatures`` reads back as int32 arrays). The proto class is tensorflow-datasets'
    generated copy of TensorFlow's ``example.proto`` (same wire format, no TensorFlow)."""
    from tensorflow_datasets.proto import tf_example_pb2

    ex = tf_example_pb2.Example()
    for name, values in columns.items():
        ex.features.feature[name].int64_list.value.extend(np.asarray(values).tolist())
    return ex.SerializeToString()


def export(shards: str, output: str, *, examples_per_file: int | None = None) -> list[str]:
    """Rewrite the pack at ``shards`` as ArrayRecord files of ``tf.train.Example`` records in
    the same order (one output file per input shard unless ``examples_per_file``); returns the
    paths. Deterministic: same input, same bytes."""
    from array_record.python.array_record_module import ArrayRecordWriter

    from trainer.data import PackedExamples, read_spec

    spec = read_spec(shards)
    source = PackedExamples(spec)
    bounds = np.concatenate([[0], np.cumsum(spec.examples_per_shard)]).astype(int)
    if examples_per_file:
        bounds = np.unique(np.append(np.arange(0, len(source), examples_per_file), len(source)))
    os.makedirs(output, exist_ok=True)
    paths = []
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        path = os.path.join(output, f"shard-{i:05d}-of-{len(bounds) - 1:05d}.array_record")
        writer = ArrayRecordWriter(path, "group_size:1")
        for start in range(lo, hi, 1024):
            stop = min(start + 1024, hi)
            cols = {c: source.read(start, stop, c) for c in source.columns}
            for j in range(stop - start):
                writer.write(example_bytes({c: v[j] for c, v in cols.items()}))
        writer.close()
        paths.append(path)
    with open(os.path.join(output, EXPORT_INFO), "w", encoding="utf-8") as f:
        json.dump({"seq_len": spec.seq_len, "vocab_size": spec.vocab_size, "eod_id": spec.eod_id,
                   "columns": list(source.columns), "examples": len(source),
                   "files": [os.path.basename(p) for p in paths]}, f, indent=2)
    return paths


# --- MaxText's transforms (tokenize=False, packing=False), as pure functions ------------------

def parse_example(record: bytes, columns=("tokens",)) -> dict[str, np.ndarray]:
    """``ParseFeatures`` + ``NormalizeFeatures`` (tokenize=False): int64 lists -> int32."""
    from tensorflow_datasets.proto import tf_example_pb2

    ex = tf_example_pb2.Example()
    ex.ParseFromString(record)
    missing = [c for c in columns if c not in ex.features.feature]
    if missing:
        raise ValueError(f"Column {missing} not found in dataset. Available columns: "
                         f"{sorted(ex.features.feature.keys())}")
    return {c: np.array(ex.features.feature[c].int64_list.value, dtype=np.int32) for c in columns}


def keep_features(row: dict, columns=("tokens",)) -> dict[str, np.ndarray]:
    """``KeepFeatures`` (tokenize=False) on a Parquet row: text would be an error there."""
    out = {}
    for c in columns:
        if c not in row:
            raise ValueError(f"Column {[c]} not found in dataset. Available columns: {sorted(row)}")
        if isinstance(row[c], (str, bytes)):
            raise ValueError(f"tokenize_data=False but column '{c}' contains text data")
        out[c] = np.asarray(row[c], dtype=np.int32)
    return out


def rekey_and_pad(element: dict, *, seq_len: int, pad_id: int) -> dict[str, np.ndarray]:
    """``Rekey({"inputs": col, "targets": col})`` then ``PadOrTrimToMaxLength``."""
    (col,) = element
    tokens = element[col]
    out = {}
    for name in ("inputs", "targets"):
        x = np.pad(tokens, (0, max(seq_len - len(tokens), 0)), constant_values=pad_id)[:seq_len]
        out[name] = x
        out[f"{name}_segmentation"] = (x != pad_id).astype(np.int32)
        out[f"{name}_position"] = np.arange(seq_len, dtype=np.int32)
    return out


def shift_batch(batch: dict, *, pad_id: int) -> dict[str, np.ndarray]:
    """``ShiftData(ignored_ids=[pad_id], axis=1)``: targets and their segmentation shifted left
    (filled with pad_id / 0), segmentation 0 where the target is pad_id."""
    out = dict(batch)
    t, s = batch["targets"], batch["targets_segmentation"]
    out["targets"] = np.concatenate([t[:, 1:], np.full_like(t[:, :1], pad_id)], axis=1)
    seg = np.concatenate([s[:, 1:], np.zeros_like(s[:, :1])], axis=1)
    out["targets_segmentation"] = np.where(out["targets"] != pad_id, seg, 0)
    return out


def maxtext_batches(files: list[str], *, file_type: str, seq_len: int, batch_size: int,
                    pad_id: int = PALMKIT_PAD_ID, host_index: int = 0, host_count: int = 1):
    """A Grain ``IterDataset`` of the batches MaxText's pretrain pipeline builds from ``files``
    with the ``maxtext_flags`` settings (no shuffle, one epoch, ``grain_num_threads=1``)."""
    import grain

    if file_type == "arrayrecord":
        ds = grain.MapDataset.source(grain.sources.ArrayRecordDataSource(files))
        ds = ds[host_index::host_count].to_iter_dataset().map(parse_example)
    elif file_type == "parquet":
        ds = grain.MapDataset.source(files[host_index::host_count]).map(
            grain.experimental.ParquetIterDataset)
        ds = grain.experimental.InterleaveIterDataset(ds, cycle_length=1).map(keep_features)
    else:
        raise ValueError(f"grain_file_type {file_type!r}: arrayrecord or parquet")
    ds = ds.map(lambda e: rekey_and_pad(e, seq_len=seq_len, pad_id=pad_id))
    ds = ds.batch(batch_size, drop_remainder=False)
    return ds.map(lambda b: shift_batch(b, pad_id=pad_id))


def main(argv: list[str]) -> int:
    usage = "usage: python -m recipes.maxtext.palmkit_grain (flags SHARDS | export SHARDS OUT)"
    if len(argv) == 2 and argv[0] == "flags":
        kind = "arrayrecord" if os.path.exists(os.path.join(argv[1], EXPORT_INFO)) else "parquet"
        print(" ".join(maxtext_flags(argv[1], file_type=kind)))
        return 0
    if len(argv) == 3 and argv[0] == "export":
        paths = export(argv[1], argv[2])
        print(f"wrote {len(paths)} ArrayRecord files of tf.train.Example to {argv[2]}")
        return 0
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
