"""`palmkit generate` (trainer/generate.py): a trained workdir continues a prompt through the
lossless tokenizer; what a workdir lacks is a one-line error."""

import os
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from palmkit.cli import main as cli
from palmkit.contracts import PackedDataSpec, packed_shard_name
from palmkit.manifest import file_entry
from palmkit.records import packed_schema


def test_missing_and_untrained_workdirs_are_one_line_errors(tmp_path, capsys):
    assert cli(["generate", "--workdir", str(tmp_path / "nope"), "--prompt", "x"]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "w" / "checkpoints").mkdir(parents=True)
    assert cli(["generate", "--workdir", str(tmp_path / "w"), "--prompt", "x"]) == 2
    err = capsys.readouterr().err
    assert "no checkpoint" in err and len(err.strip().splitlines()) == 1
    assert cli(["generate", "--workdir", str(tmp_path / "w"), "--prompt", "x",
                "--max-new-tokens", "0"]) == 2
    assert "--max-new-tokens 0" in capsys.readouterr().err


SAVE_SHARDED = """
import os, sys
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
import jax, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from trainer import checkpoint
mesh = Mesh(np.array(jax.devices()).reshape(4), ("data",))
x = jax.device_put(np.arange(64, dtype=np.float32).reshape(8, 8), NamedSharding(mesh, P("data")))
manager = checkpoint.make_manager(sys.argv[1], keep=2, async_save=False)
meta = {k: [] for k in checkpoint.META_KEYS}
meta.update(step=3, seed=0, examples_consumed=0, data_fingerprint="x")
checkpoint.save(manager, 3, {"params": {"embedding": x}, "step": np.int32(3)}, meta)
manager.wait_until_finished()
manager.close()
"""


def test_a_checkpoint_saved_over_several_devices_restores_whole_on_one(tmp_path):
    """A TPU- or multi-device-trained workdir must load for inference on one device: Orbax
    refuses the saved shardings there, so the target comes from the saved metadata."""
    import subprocess
    import sys

    from trainer.generate import restore_newest

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-c", SAVE_SHARDED, str(tmp_path / "w")], check=True, cwd=root,
                   env={**os.environ, "PYTHONPATH": root, "JAX_PLATFORMS": "cpu"})
    step, params, meta = restore_newest(str(tmp_path / "w"))
    assert step == 3 and meta["step"] == 3
    np.testing.assert_array_equal(np.asarray(params["embedding"]),
                                  np.arange(64, dtype=np.float32).reshape(8, 8))


def write_text_shards(root, rows: np.ndarray, vocab) -> str:
    """One pack-shaped shard of ``rows`` encoded with ``vocab``, the manifest naming the
    vocabulary file and its SHA-256 as `palmkit pack` does."""
    os.makedirs(root, exist_ok=True)
    seq_len, name = rows.shape[1], packed_shard_name(0, 1)
    column = pa.FixedSizeListArray.from_arrays(pa.array(rows.reshape(-1), pa.int32()), seq_len)
    pq.write_table(pa.Table.from_arrays([column], schema=packed_schema(seq_len)),
                   os.path.join(root, name))
    outputs = {name: file_entry(os.path.join(root, name), len(rows))}
    spec = PackedDataSpec(seq_len=seq_len, vocab_size=vocab.vocab_size, vocab_sha256=vocab.sha256,
                          eod_id=vocab.eod_id, seed=0, shards=(name,), examples_per_shard=(len(rows),))
    spec.to_manifest(outputs=outputs, config={"seq_len": seq_len}, inputs={"vocab": vocab.path},
                     counts={"tokens_packed": int(rows.size)}, versions={}).write(str(root))
    return str(root)


@pytest.mark.slow
def test_generate_continues_a_memorized_document_losslessly(tmp_path, capsys):
    """A real vocabulary (BPE, 400 pieces, trained on the sample's text), palm-tiny trained 60
    steps on rows cut from one document at stride 8; `palmkit generate` given the document's
    first words prints the document on (and the wrong --vocab, or a workdir moved away from its
    data without --vocab, are one-line errors). ~60 s on 2 loaded cores."""
    import tokenizer
    from tests.corpus_fixture import write_corpus
    from tests.sample_text import paragraphs
    from tokenizer.train import TrainConfig as VocabConfig, main as train_vocab
    from trainer.generate import GenerateConfig, main as generate
    from trainer.train import TrainConfig, main as train

    texts = paragraphs(400)
    corpus = write_corpus(tmp_path / "corpus", {"web": [("en", t) for t in texts]})
    train_vocab(VocabConfig(corpus=corpus, output=str(tmp_path / "vocab"), vocab_size=400,
                            model_type="bpe", digits="ascii", skip_size_check=True, num_threads=1))
    vocab = tokenizer.load(str(tmp_path / "vocab.model"))
    doc = "Pack, train, then ask the model: " + " ".join(texts[:6])
    ids = np.asarray(vocab.encode(doc), np.int32)
    assert len(ids) >= 64 + 8 * 7
    rows = np.stack([ids[8 * r: 8 * r + 64] for r in range(8)])
    shards = write_text_shards(tmp_path / "shards", rows, vocab)
    work = str(tmp_path / "train")
    train(TrainConfig(data=shards, workdir=work, steps=60, preset="palm-tiny",
                      batch_schedule=((0, 8),), lr_constant_steps=60, checkpoint_every=60,
                      allow_repeat=True, progress=False, spike_factor=100.0))

    k = next(k for k in range(12, 40) if vocab.encode(vocab.decode(ids[:k])) == ids[:k].tolist())
    prompt = vocab.decode(ids[:k])
    assert doc.startswith(prompt)
    # vocabulary and data found from the workdir alone (pack manifest beside it)
    assert cli(["generate", "--workdir", work, "--prompt", prompt, "--max-new-tokens", "24",
                "--quiet"]) == 0
    printed = capsys.readouterr().out
    want = vocab.decode(ids[: k + 24])
    assert printed == want + "\n", (printed, want)

    result = generate(GenerateConfig(workdir=work, prompt=prompt, max_new_tokens=24,
                                     vocab=str(tmp_path / "vocab.model")))
    assert result["tokens"] == ids[k: k + 24].tolist() and result["preset"] == "palm-tiny"
    assert result["prompt_tokens"] == [vocab.eod_id] + ids[:k].tolist()
    assert prompt + result["text"] == want and not result["stopped_at_eod"]

    other = str(tmp_path / "elsewhere" / "train")
    shutil.copytree(work, other)
    assert cli(["generate", "--workdir", other, "--prompt", prompt]) == 2
    assert "pass --vocab" in capsys.readouterr().err
    assert cli(["generate", "--workdir", work, "--prompt", prompt, "--vocab",
                str(tmp_path / "missing.model")]) == 2
    assert "vocabulary not found" in capsys.readouterr().err
