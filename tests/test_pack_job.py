"""The pack Beam job end to end: corpus folder -> small vocabulary -> shards + manifest."""

import glob
import os

import numpy as np
import pyarrow.parquet as pq
import pytest

import tokenizer
from palmkit.cli import main as cli
from palmkit.manifest import Manifest, ManifestError
from pipelines import packing
from pipelines.timings import strip_timings
from tests.corpus_fixture import write_corpus
from tests.sample_text import paragraphs
from tokenizer.train import TrainConfig
from tokenizer.train import main as train_vocab

SEQ_LEN = 64


@pytest.fixture(scope="module")
def corpus_and_vocab(tmp_path_factory):
    root = tmp_path_factory.mktemp("pack")
    texts = paragraphs(2400)  # real text: the sample code tree's sources, READMEs, licences
    docs = {
        "web": [("en", p) for p in texts[0:1200]],
        "code": [(None, p) for p in texts[1200:2000]],
        "books": [("en", p) for p in texts[2000:2400]],
    }
    mix = root / "mix.yaml"
    mix.write_text("name: three\ncomponents:\n  web: {share: 0.6}\n  code: {share: 0.3}\n"
                   "  books: {share: 0.1}\n")
    corpus = write_corpus(root / "corpus", docs, mixture=str(mix), files_per_component=2)
    prefix = str(root / "vocab")
    train_vocab(TrainConfig(corpus=corpus, output=prefix, vocab_size=800, model_type="bpe",
                            digits="ascii", skip_size_check=True, num_threads=1))
    return corpus, prefix + ".model"


def _pack(corpus, vocab, out, *extra):
    args = ["pack", "--corpus", corpus, "--vocab", vocab, "--output", str(out),
            "--seq-len", str(SEQ_LEN), "--num-shards", "3", "--seed", "7", *extra]
    assert cli(args) == 0
    return Manifest.read(str(out), stage="pack")


def _bytes(folder):
    """Every file's bytes; the manifest's without its run timings (pipelines/timings.py)."""
    return {os.path.basename(p): strip_timings(open(p, "rb").read())
            if p.endswith("manifest.json") else open(p, "rb").read()
            for p in sorted(glob.glob(f"{folder}/*"))}


def test_pack_writes_exact_rows_and_a_manifest_that_matches(corpus_and_vocab, tmp_path):
    corpus, vocab = corpus_and_vocab
    m = _pack(corpus, vocab, tmp_path / "a")
    m.verify_files(str(tmp_path / "a"))
    vocab_obj = tokenizer.load(vocab)
    assert m.extra["seq_len"] == SEQ_LEN and m.extra["eod_id"] == vocab_obj.eod_id
    assert m.extra["vocab_sha256"] == vocab_obj.sha256
    assert m.extra["vocab_size"] == vocab_obj.vocab_size
    rows = 0
    for i, n in enumerate(m.extra["examples_per_shard"]):
        table = pq.read_table(tmp_path / "a" / f"shard-{i:05d}-of-00003.parquet")
        tokens = np.array(table["tokens"].to_pylist(), dtype=np.int32)
        assert tokens.shape == (n, SEQ_LEN)  # exactly seq_len, no padding rows
        assert vocab_obj.pad_id not in tokens  # no padding anywhere
        rows += n
    assert m.counts["tokens_packed"] == rows * SEQ_LEN
    # Default budget repeats nothing; the limiting component is taken whole.
    comps = m.counts["components"]
    assert m.extra["repeats"] == []
    assert max(info["rate"] for info in comps.values()) == pytest.approx(1.0, abs=1e-3)
    for c, info in comps.items():
        assert abs(info["actual_share"] - info["target_share"]) < 0.005, (c, info)


def test_shards_decode_back_to_the_sampled_documents_in_order(corpus_and_vocab, tmp_path):
    corpus, vocab = corpus_and_vocab
    m = _pack(corpus, vocab, tmp_path / "a")
    vocab_obj = tokenizer.load(vocab)
    plan = m.extra["sampling_plan"]
    texts = {}
    for path in sorted(glob.glob(f"{corpus}/clean/*/*.parquet")):
        t = pq.read_table(path)
        for c, i, x in zip(t["component"].to_pylist(), t["id"].to_pylist(), t["text"].to_pylist()):
            texts[i] = (c, x)
    # Expected order and contents, from the pure functions alone.
    shards = {s: [] for s in range(3)}
    for doc_id, (c, text) in texts.items():
        p = plan[c]
        tokens = vocab_obj.encode(text)
        bucket = packing.bucket_of(packing.selection_key(7, doc_id))
        whole = p["epochs"] + (bucket < p["cut_bucket"])
        prefix = int(p["cut_fraction"] * len(tokens)) if bucket == p["cut_bucket"] else 0
        copies = [tokens] * whole + ([tokens[:prefix]] if prefix else [])
        for epoch, toks in enumerate(copies):
            k = packing.order_key(7, doc_id, epoch)
            shards[k % 3].append(((k, c, doc_id, epoch), toks, len(toks) == len(tokens), text))
    dropped = 0
    for s in range(3):
        expected = [e for e in sorted(shards[s], key=lambda e: e[0])]
        table = pq.read_table(tmp_path / "a" / f"shard-{s:05d}-of-00003.parquet")
        ex = np.array(table["tokens"].to_pylist(), dtype=np.int32).reshape(-1, SEQ_LEN)
        docs = packing.split_at_eod(ex, vocab_obj.eod_id)
        whole = max(0, int((ex == vocab_obj.eod_id).sum()) - 1)  # less the leading [eod]
        assert [d.tolist() for d in docs[:whole]] == [e[1] for e in expected[:whole]]
        for d, e in zip(docs[:whole], expected[:whole]):  # decoding gives back the documents
            if e[2]:
                assert vocab_obj.decode(d.tolist()) == e[3]
        if len(docs) > whole:  # the row boundary cut the next document: a prefix of it
            assert expected[whole][1][: len(docs[whole])] == docs[whole].tolist()
        dropped += sum(len(e[1]) + 1 for e in expected) + bool(expected) - ex.size
    assert dropped == m.counts["dropped_tokens"]


def test_training_stream_never_joins_two_documents(corpus_and_vocab, tmp_path):
    """Every span between two [eod] of the whole stream (shards in training order, across shard
    boundaries) is one document or a prefix of one, by tokens and by decoded text."""
    corpus, vocab = corpus_and_vocab
    m = _pack(corpus, vocab, tmp_path / "a")
    vocab_obj = tokenizer.load(vocab)
    texts = []
    for path in sorted(glob.glob(f"{corpus}/clean/*/*.parquet")):
        texts += pq.read_table(path)["text"].to_pylist()
    encoded = {tuple(vocab_obj.encode(t)): t for t in texts}
    by_start: dict[tuple, list[tuple]] = {}  # first 4 tokens -> documents
    for k in encoded:
        by_start.setdefault(k[:4], []).append(k)

    def is_prefix(span: tuple) -> bool:
        if len(span) < 4:
            return any(k[: len(span)] == span for k in encoded)
        return any(k[: len(span)] == span for k in by_start.get(span[:4], ()))

    rows = [np.array(pq.read_table(tmp_path / "a" / f"shard-{i:05d}-of-00003.parquet")["tokens"]
                     .to_pylist(), dtype=np.int32).reshape(-1, SEQ_LEN) for i in range(3)]
    assert sum(r.shape[0] for r in rows[:-1]) and all(r.size for r in rows)
    spans = packing.split_at_eod(np.concatenate(rows), vocab_obj.eod_id)
    assert len(spans) == m.counts["documents_packed"] or len(spans) > 10
    cut = 0
    for span in spans:
        key = tuple(span.tolist())
        assert is_prefix(key), f"span of {len(key)} tokens is not one document or its prefix"
        if key not in encoded:
            cut += 1
            text = vocab_obj.decode(list(key)).rstrip("\ufffd")  # a cut UTF-8 byte sequence
            assert any(t.startswith(text) for t in texts)
    # Cut documents: one per shard boundary (dropped tails) plus the boundary-bucket prefixes.
    assert cut >= 2


@pytest.mark.slow
def test_two_runs_and_two_workers_give_identical_bytes(corpus_and_vocab, tmp_path):
    corpus, vocab = corpus_and_vocab
    _pack(corpus, vocab, tmp_path / "a")
    _pack(corpus, vocab, tmp_path / "b")
    _pack(corpus, vocab, tmp_path / "c", "--direct_num_workers=2",
          "--direct_running_mode=multi_processing")
    a = _bytes(tmp_path / "a")
    assert a == _bytes(tmp_path / "b")
    assert a == _bytes(tmp_path / "c")


def test_explicit_budget_repeats_epochs_and_warns(corpus_and_vocab, tmp_path, caplog):
    corpus, vocab = corpus_and_vocab
    base = _pack(corpus, vocab, tmp_path / "a")
    m = _pack(corpus, vocab, tmp_path / "b", "--total-tokens", str(3 * base.counts["budget"]))
    comps = m.counts["components"]
    limiting = max(comps, key=lambda c: comps[c]["rate"])
    # 3x the budget that exactly exhausts the limiting component: rate 3 up to the rounding of
    # floor(tokens / share), i.e. 3 whole epochs or 2 plus a remainder of all but a few tokens.
    assert comps[limiting]["rate"] == pytest.approx(3.0, abs=1e-3)
    assert comps[limiting]["epochs"] in (2, 3) and set(m.extra["repeats"]) == set(comps)
    for c, info in comps.items():
        assert abs(info["actual_share"] - info["target_share"]) < 0.005


def test_pack_refuses_a_folder_that_is_not_a_corpus(corpus_and_vocab, tmp_path, capsys):
    _, vocab = corpus_and_vocab
    args = ["pack", "--corpus", str(tmp_path), "--vocab", vocab, "--output", str(tmp_path / "o")]
    assert cli(args) == 2
    err = capsys.readouterr().err.strip()
    assert "not a finished palmkit stage output" in err and len(err.splitlines()) == 1
    with pytest.raises(ManifestError, match="not a finished palmkit stage output"):
        cli(args + ["--debug"])


def test_stats_on_pack_and_corpus_outputs(corpus_and_vocab, tmp_path, capsys):
    import json

    corpus, vocab = corpus_and_vocab
    m = _pack(corpus, vocab, tmp_path / "a")
    capsys.readouterr()
    html = tmp_path / "report.html"
    assert cli(["stats", str(tmp_path / "a"), "--json", "--html", str(html)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["kind"] == "pack" and stats["examples"] == sum(m.extra["examples_per_shard"])
    web = stats["components"]["web"]
    assert web["documents"] == 1200 and web["bytes"] > 0 and web["bytes_per_token"] > 1.0
    assert web["languages"] == {"en": 1200}
    assert web["length_percentiles"]["p5"] <= web["length_percentiles"]["p95"]
    page = html.read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "target vs actual" in page
    assert "<script" not in page and "http" not in page.split("<pre>")[0].replace(
        'xmlns="http://www.w3.org/2000/svg"', "")  # self-contained: no external resources
    assert cli(["stats", corpus]) == 0
    table = capsys.readouterr().out
    assert "corpus output" in table and "web" in table and "code" in table


def _expected_shards(corpus, vocab_obj, plan, *, seed=7, num_shards=3):
    """Per shard, its copies ``(order key, component, tokens)`` in packing order, from the
    corpus and the pure functions alone (as test_shards_decode_back_... computes them)."""
    shards = {s: [] for s in range(num_shards)}
    for path in sorted(glob.glob(f"{corpus}/clean/*/*.parquet")):
        t = pq.read_table(path)
        for c, doc_id, text in zip(t["component"].to_pylist(), t["id"].to_pylist(),
                                   t["text"].to_pylist()):
            p, tokens = plan[c], vocab_obj.encode(text)
            bucket = packing.bucket_of(packing.selection_key(seed, doc_id))
            whole = p["epochs"] + (bucket < p["cut_bucket"])
            prefix = int(p["cut_fraction"] * len(tokens)) if bucket == p["cut_bucket"] else 0
            for epoch, toks in enumerate([tokens] * whole + ([tokens[:prefix]] if prefix else [])):
                k = packing.order_key(seed, doc_id, epoch)
                shards[k % num_shards].append((k, doc_id, epoch, c, toks))
    return {s: sorted(v) for s, v in shards.items()}


def test_component_sidecars_name_each_segments_component(corpus_and_vocab, tmp_path):
    """Every shard has a sidecar listed (rows, SHA-256) in the manifest; per row it holds, for
    each segment of the row's tokens (packing.segment_ids), the component of the document that
    segment belongs to. Same sidecars for --format array_record; the trainer reads the token
    shards only, with the same data fingerprint."""
    from palmkit.records import components_name
    from trainer.data import PackedExamples, SegmentComponents, read_spec
    from trainer.generate import _fingerprint
    from trainer.train import data_fingerprint

    corpus, vocab = corpus_and_vocab
    m = _pack(corpus, vocab, tmp_path / "a")
    vocab_obj, eod = tokenizer.load(vocab), tokenizer.load(vocab).eod_id
    names = m.extra["components"]
    assert names == ["books", "code", "web"]  # the mixture's components with a share, sorted
    expected = _expected_shards(corpus, vocab_obj, m.extra["sampling_plan"])
    seen = set()
    for s in range(3):
        shard = f"shard-{s:05d}-of-00003.parquet"
        side = components_name(shard)
        assert m.outputs[side].rows == m.outputs[shard].rows > 0
        ex = np.array(pq.read_table(tmp_path / "a" / shard)["tokens"].to_pylist(), np.int32)
        got = pq.read_table(tmp_path / "a" / side)["components"].to_pylist()
        # each token's component: the document it is part of ([eod]: the one it ends)
        owner = [-1] + [names.index(c) for _, _, _, c, toks in expected[s]
                        for _ in range(len(toks) + 1)]
        owner = np.array(owner[: ex.size]).reshape(ex.shape)
        seg = packing.segment_ids(ex, eod)
        assert len(got) == len(ex)
        for r in range(len(ex)):
            first = np.flatnonzero(np.diff(seg[r], prepend=0))  # first token of each segment
            assert got[r] == owner[r, first].tolist(), (s, r)
            seen.update(got[r])
    assert seen == {-1, 0, 1, 2}
    spec = read_spec(str(tmp_path / "a"))
    assert len(spec.shards) == 3 and all(n.startswith("shard-") for n in spec.shards)
    assert spec.components == tuple(names)
    assert PackedExamples(spec).read(0, 1).shape == (1, SEQ_LEN)
    assert SegmentComponents(spec).row(0).tolist()[0] == -1  # the leading [eod]
    assert _fingerprint(str(tmp_path / "a")) == data_fingerprint(spec)
    ar = _pack(corpus, vocab, tmp_path / "b", "--format", "array_record")
    for s in range(3):
        side = f"components-{s:05d}-of-00003.parquet"
        assert ar.outputs[side] == m.outputs[side]  # same documents, same sidecar bytes
    assert sorted(os.listdir(tmp_path / "b")) == sorted([*ar.outputs, "manifest.json"])
