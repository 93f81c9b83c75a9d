"""A seqio ``Task`` over palmkit shards (Parquet or ArrayRecord), for T5X and anything built on
seqio. Tested by tests/test_recipe_seqio.py (skipped where seqio is not installed).

seqio needs TensorFlow (tf.data), which palmkit's own environment does not carry; install them
side by side (measured here: ``pip install seqio tensorflow-cpu==2.21.0`` in a fresh Python 3.11
venv, ~3 min, 3.2 GB, seqio 0.0.20) with this repository on ``PYTHONPATH`` (the task reads the
shards through ``trainer.data``, which needs only numpy, pyarrow and array_record)::

    import seqio
    from recipes.seqio.palmkit_task import register
    register("palmkit_pretrain", "SHARDS")          # explicit: no registration at import
    ds = seqio.get_mixture_or_task("palmkit_pretrain").get_dataset(
        {"targets": 2048}, split="train", shuffle=False)

T5X (decoder-only; not run here): ``MIXTURE_OR_TASK_NAME = "palmkit_pretrain"``,
``TASK_FEATURE_LENGTHS = {"targets": 2048}``, a ``DecoderOnlyModel`` and ``pack = False`` on the
train ``utils.DatasetConfig`` (rows are already packed to exactly ``seq_len``: packing again
would only merge full rows). ``seqio.LMFeatureConverter(pack=False)`` (tested) gives
``decoder_target_tokens`` = the row, ``decoder_input_tokens`` = the row shifted right with id 0
in front (T5X's BOS; palmkit's trainer puts ``[eod]`` there), ``decoder_loss_weights`` = 1
where the target is not 0 (palmkit's pad id, never emitted: all ones).

The source is a ``seqio.FunctionDataSource``: rows come from ``trainer.data.PackedExamples`` in
training order (``shuffle_files`` is ignored: the pack already shuffled, and palmkit's order is
what makes a run reproducible); with ``shard_info`` (one per host) host ``i`` of ``n`` reads
examples ``i, i + n, ...``. The vocabulary is ``seqio.PassThroughVocabulary`` of the manifest's
size with ``[eod]`` as its EOS (``add_eos=False``: rows already end documents with ``[eod]``);
pass a ``seqio.SentencePieceVocabulary(VOCAB.model)`` instead to decode text.
"""

from __future__ import annotations

import functools


def rows(shards: str, *, index: int = 0, count: int = 1, chunk: int = 1024):
    """Examples ``index, index + count, ...`` of the pack at ``shards`` as int32 arrays, read
    ``chunk`` examples at a time."""
    from trainer.data import PackedExamples, read_spec

    source = PackedExamples(read_spec(shards, verify_checksums=False))
    for start in range(0, len(source), chunk):
        block = source.read(start, min(start + chunk, len(source)))
        first = (index - start) % count
        yield from block[first::count]


def dataset_fn(split: str, shuffle_files: bool, seed=None, shard_info=None, *, shards: str,
               seq_len: int):
    """seqio's ``DatasetFnCallable``: a ``tf.data.Dataset`` of ``{"targets": int32[seq_len]}``."""
    import tensorflow as tf

    index, count = (shard_info.index, shard_info.num_shards) if shard_info else (0, 1)
    gen = functools.partial(rows, shards, index=index, count=count)
    ds = tf.data.Dataset.from_generator(
        gen, output_signature=tf.TensorSpec([seq_len], tf.int32))
    return ds.map(lambda t: {"targets": t})


def task(name: str, shards: str, *, vocabulary=None):
    """The ``seqio.Task`` (not registered: see ``register``)."""
    import seqio
    import tensorflow as tf

    from trainer.data import read_spec

    spec = read_spec(shards)
    source = seqio.FunctionDataSource(
        dataset_fn=functools.partial(dataset_fn, shards=shards, seq_len=spec.seq_len),
        splits=("train",), num_input_examples={"train": spec.num_examples})
    vocab = vocabulary or seqio.PassThroughVocabulary(size=spec.vocab_size, eos_id=spec.eod_id)
    features = {"targets": seqio.Feature(vocabulary=vocab, add_eos=False, dtype=tf.int32)}
    return seqio.Task(name, source=source, output_features=features, preprocessors=[])


def register(name: str, shards: str, *, vocabulary=None):
    """Add the task to ``seqio.TaskRegistry`` (what T5X's gin configs look names up in)."""
    import seqio

    t = task(name, shards, vocabulary=vocabulary)
    seqio.TaskRegistry.add_provider(name, t)
    return t
