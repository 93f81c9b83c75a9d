"""`palmkit vocab train` end to end from a corpus folder, its report, determinism and its errors."""

from __future__ import annotations

import json

import pytest

import tokenizer
from palmkit.cli import main as palmkit
from palmkit.manifest import Manifest, ManifestError
from tests.corpus_fixture import write_corpus
from tests.tokenizer_data import INLINE, sample_code_docs, sample_web_docs

# A small vocabulary (1,500 pieces: 650 non-ASCII digits + 256 bytes + ~600 learned) on ~300 KB.
ARGS = ["--vocab-size", "1500", "--sample-bytes", "300000", "--heldout-bytes", "20000",
        "--num-threads", "2"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    docs = {
        "code": list(sample_code_docs(150_000)),
        "web": list(sample_web_docs(100_000)) + [("en", "Plain English web text. " * 40 + "\n")] * 40
        + INLINE * 4,
        "books": [("en", "It was the best of times, it was the worst of times.\n" * 30)] * 30,
    }
    return write_corpus(tmp_path_factory.mktemp("corpus"), docs, files_per_component=2)


def test_cli_trains_from_corpus_folder(corpus, tmp_path, capsys):
    prefix = str(tmp_path / "vocab" / "v")
    assert palmkit(["vocab", "train", "--corpus", corpus, "--output", prefix, *ARGS]) == 0
    printed = json.loads(capsys.readouterr().out)
    with open(prefix + ".json", encoding="utf-8") as f:
        result = json.load(f)
    vocab = tokenizer.load(prefix + ".model")
    assert printed["sha256"] == result["sha256"] == vocab.sha256
    assert vocab.vocab_size == result["vocab_size"] == 1500 and vocab.eod_id == result["eod_id"] == 2
    pieces = result["pieces"]
    assert pieces["byte"] == 256 and pieces["user_defined"] == 650 and pieces["multi_char_digit"] == 0
    assert pieces["newline_containing"] > 0 and pieces["whitespace_only"] > 0
    sample = result["sample"]
    assert set(sample["components"]) == {"code", "web", "books"}
    shares = {"web": 0.27, "books": 0.13, "code": 0.05}  # palm mixture, dialogue & co. absent
    for name, comp in sample["components"].items():
        available = sum(v["bytes"] for k, v in result["corpus_sizes"].items() if k.startswith(name))
        quota = 300_000 * shares[name] / 0.45
        assert comp["wanted_bytes"] == pytest.approx(min(quota, available), rel=0.01)
    assert sample["docs_split_into_sentences"] > 0  # stdlib modules are longer than 4 KB
    assert "ru" in sample["components"]["web"]["languages"]
    compression = result["compression"]
    assert set(compression["by_component"]) <= {"code", "web", "books"}
    assert all(c["bytes_per_token"] > 1 for c in compression["by_component"].values())
    assert result["sentencepiece"]["normalization_rule_name"] == "identity"


@pytest.mark.parametrize("model_type", ["bpe", "unigram"])
def test_same_seed_same_bytes(corpus, tmp_path, model_type):
    outputs = []
    for run in ("a", "b"):
        prefix = str(tmp_path / run / "v")
        assert palmkit(["vocab", "train", "--corpus", corpus, "--output", prefix,
                        "--model-type", model_type, *ARGS]) == 0
        outputs.append([open(prefix + ext, "rb").read() for ext in (".model", ".json")])
    assert outputs[0] == outputs[1]
    other = str(tmp_path / "c" / "v")
    palmkit(["vocab", "train", "--corpus", corpus, "--output", other, "--model-type", model_type,
             "--seed", "1", *ARGS])
    with open(other + ".json") as f:
        assert json.load(f)["sample"] != json.loads(outputs[0][1])["sample"]


def test_language_temperature_flattens_languages(corpus, tmp_path):
    def web_languages(temperature):
        prefix = str(tmp_path / f"t{temperature}")
        palmkit(["vocab", "train", "--corpus", corpus, "--output", prefix, "--model-type", "bpe",
                 "--language-temperature", str(temperature), *ARGS, "--sample-bytes", "150000"])
        with open(prefix + ".json") as f:
            result = json.load(f)
        web = result["sample"]["components"]["web"]
        sizes = {k[4:]: v["bytes"] for k, v in result["corpus_sizes"].items() if k[:4] == "web/"}
        return {lang: v["bytes"] / web["bytes"] for lang, v in web["languages"].items()}, sizes

    natural, sizes = web_languages(1.0)
    flat, _ = web_languages(4.0)
    largest = max(sizes, key=sizes.get)
    assert natural[largest] == pytest.approx(sizes[largest] / sum(sizes.values()), abs=0.15)
    assert flat[largest] < natural[largest] - 0.05
    assert sum(v > 0 for v in flat.values()) >= sum(v > 0 for v in natural.values())


def test_too_little_text_for_256k_is_refused_early(corpus, tmp_path, capsys):
    code = palmkit(["vocab", "train", "--corpus", corpus, "--output", str(tmp_path / "v"),
                    "--sample-bytes", "300000"])
    assert code == 2
    err = capsys.readouterr().err
    assert "256,000 pieces need about" in err and "MB" in err
    assert not (tmp_path / "v.model").exists()


def test_sentencepiece_refusal_is_explained(corpus, tmp_path, capsys):
    code = palmkit(["vocab", "train", "--corpus", corpus, "--output", str(tmp_path / "v"),
                    "--model-type", "unigram", "--vocab-size", "60000", "--sample-bytes", "300000",
                    "--skip-size-check"])
    assert code == 2
    assert "SentencePiece could build only" in capsys.readouterr().err


def test_corpus_manifest_is_checked(corpus, tmp_path, capsys):
    manifest = Manifest.read(corpus)
    manifest.stage = "pack"
    manifest.write(str(tmp_path))
    assert palmkit(["vocab", "train", "--corpus", str(tmp_path), "--output", str(tmp_path / "v")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'corpus' output is needed" in err[0]
    with pytest.raises(ManifestError, match="corpus"):
        palmkit(["--debug", "vocab", "train", "--corpus", str(tmp_path), "--output", str(tmp_path / "v")])


def test_check_encode_decode_commands(corpus, tmp_path, capsys):
    prefix = str(tmp_path / "v")
    palmkit(["vocab", "train", "--corpus", corpus, "--output", prefix, "--model-type", "bpe", *ARGS])
    capsys.readouterr()
    assert palmkit(["vocab", "check", "--vocab", prefix + ".model", "--corpus", corpus]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["docs"] > 100 and report["roundtrip_failures"] == 0
    text = "x\u2581y  \r\n\tdef f():\n١٢٣ 45\n"
    (tmp_path / "in.txt").write_bytes(text.encode())
    palmkit(["vocab", "encode", "--vocab", prefix + ".model", str(tmp_path / "in.txt")])
    (tmp_path / "ids.txt").write_text(capsys.readouterr().out)
    palmkit(["vocab", "decode", "--vocab", prefix + ".model", str(tmp_path / "ids.txt")])
    assert capsys.readouterr().out == text


def test_bpe_pieces_do_not_depend_on_thread_count(corpus, tmp_path):
    pieces = []
    for threads in ("1", "2"):
        prefix = str(tmp_path / threads)
        palmkit(["vocab", "train", "--corpus", corpus, "--output", prefix, "--model-type", "bpe",
                 *ARGS, "--num-threads", threads])
        vocab = tokenizer.load(prefix + ".model")
        pieces.append([vocab.id_to_piece(i) for i in range(vocab.vocab_size)])
    assert pieces[0] == pieces[1]
