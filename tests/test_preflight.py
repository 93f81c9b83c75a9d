"""Mistakes caught before any pipeline starts, each as one line (a ``UserError``): component
names that are not identifiers (mixtures, sources files), model files that are missing,
truncated or not models (``--langid-model``, ``--quality-model``, ``--vocab``).

Model files are real: the bundled lid.176.ftz and copies of it cut short, a quality classifier
and a SentencePiece vocabulary trained here in a second or two, text files renamed, an empty
file, a directory, a FIFO.
"""

from __future__ import annotations

import io
import os

import pytest
import sentencepiece as spm

import mixtures
import tokenizer
from mixtures import MixtureError
from palmkit.errors import UserError
from pipelines.clean import langid, quality
from pipelines.sources import SourceError, load_sources
from tests.clean_stage_helpers import job_config

PALM = mixtures.get("palm")
LID = langid.DEFAULT_MODEL
LID_SIZE = os.path.getsize(LID)

# -- component names --------------------------------------------------------------------------

BAD_NAMES = ["../../x", "..", ".", ".hidden", "a/b", "a\\\\b", "with space", "-x", "tab\\tx",
             "é"]
GOOD_NAMES = ["web", "arxiv_math", "a.b-c", "Web2", "1st"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_mixture_component_names_are_identifiers(tmp_path, name):
    path = tmp_path / "mix.yaml"
    path.write_text(f'components:\n  "{name}": {{share: 1.0}}\n')
    with pytest.raises(MixtureError) as e:
        mixtures.get(str(path))
    message = str(e.value)
    assert "mix.yaml" in message and "not an identifier" in message and "\n" not in message


@pytest.mark.parametrize("name", BAD_NAMES)
def test_sources_component_names_are_identifiers(tmp_path, name):
    (tmp_path / "a.jsonl").write_text("{}\n")
    path = tmp_path / "sources.yaml"
    path.write_text(f'components:\n  "{name}": [{{format: jsonl, path: a.jsonl}}]\n')
    with pytest.raises(SourceError) as e:
        load_sources(str(path))
    assert "sources.yaml" in str(e.value) and "not an identifier" in str(e.value)


def test_identifier_names_are_accepted(tmp_path):
    share = 1.0 / len(GOOD_NAMES)
    m = mixtures.from_dict({"components": {n: {"share": share} for n in GOOD_NAMES}})
    assert list(m.components) == GOOD_NAMES
    (tmp_path / "a.jsonl").write_text("{}\n")
    path = tmp_path / "sources.yaml"
    path.write_text("components:\n" + "".join(f"  {n}: [{{format: jsonl, path: a.jsonl}}]\n"
                                              for n in GOOD_NAMES))
    assert [s.component for s in load_sources(str(path))] == GOOD_NAMES
    for builtin in mixtures.BUILTIN:
        mixtures.get(builtin)


# -- fastText models --------------------------------------------------------------------------


def _bad_models(tmp_path) -> dict[str, tuple[str, str]]:
    """name -> (path, words the one-line error must contain)."""
    with open(LID, "rb") as f:
        lid = f.read()
    out = {}
    for cut in (100, 4096, 100_000, 469_000, 900_000, LID_SIZE - 13):  # dictionary, matrices
        path = tmp_path / f"cut{cut}.ftz"
        path.write_bytes(lid[:cut])
        out[f"cut{cut}"] = (str(path), "truncated")
    (tmp_path / "readme.ftz").write_bytes(open(__file__, "rb").read())
    out["text"] = (str(tmp_path / "readme.ftz"), "magic")
    (tmp_path / "short.ftz").write_text("hello\n")
    out["short_text"] = (str(tmp_path / "short.ftz"), "not a fastText model")
    (tmp_path / "empty.ftz").write_bytes(b"")
    out["empty"] = (str(tmp_path / "empty.ftz"), "0 bytes")
    (tmp_path / "dir.ftz").mkdir()
    out["directory"] = (str(tmp_path / "dir.ftz"), "directory")
    os.mkfifo(tmp_path / "fifo.ftz")
    out["fifo"] = (str(tmp_path / "fifo.ftz"), "not a regular file")
    out["missing"] = (str(tmp_path / "missing.ftz"), "not found")
    (tmp_path / "trailing.ftz").write_bytes(lid + b"\0" * 8)
    out["trailing"] = (str(tmp_path / "trailing.ftz"), "after the end")
    return out


def test_langid_model_problems_fail_before_the_pipeline(tmp_path):
    for name, (path, words) in _bad_models(tmp_path).items():
        stage = langid.LanguageId(job_config(langid=langid.LangIdOptions(model=path)), PALM)
        with pytest.raises(langid.ModelError) as e:
            stage.check_sources({"web"})
        message = str(e.value)
        assert isinstance(e.value, UserError) and "\n" not in message, name
        assert message.startswith(f"--langid-model {path}: ") and words in message, (name, message)
    langid.LanguageId(job_config(), PALM).check_sources({"web"})  # the bundled model is fine


def test_load_model_refuses_a_model_fasttext_would_load_from_garbage(tmp_path):
    """Cut 13 bytes short, fastText 0.10.4 loads lid.176.ftz and predicts from garbage."""
    models = _bad_models(tmp_path)
    for name in ("cut{}".format(LID_SIZE - 13), "text", "empty", "directory", "missing"):
        with pytest.raises(langid.ModelError, match=str(tmp_path)):
            langid.load_model(models[name][0])


def _quality_model(tmp_path) -> str:
    rows = [("curated" if i % 2 else "web", f"word{i % 17} other{i % 5} text") for i in range(200)]
    data = quality._train_in_fresh_process(rows, dict(quality.TRAIN_ARGS, seed=1, epoch=5))
    path = tmp_path / "quality.bin"
    path.write_bytes(data)
    return str(path)


def test_quality_model_problems_fail_before_the_pipeline(tmp_path):
    good = _quality_model(tmp_path)
    quality.QualitySampling(job_config(quality=quality.QualityOptions(model=good)),
                            PALM).check_sources({"web"})
    with open(good, "rb") as f:
        data = f.read()
    (tmp_path / "cut.bin").write_bytes(data[: len(data) // 2])
    bad = {**_bad_models(tmp_path), "half": (str(tmp_path / "cut.bin"), "truncated"),
           "lid_labels": (LID, "no label(s) ['curated', 'web']")}
    for name, (path, words) in bad.items():
        config = job_config(quality=quality.QualityOptions(model=path))
        stage = quality.QualitySampling(config, PALM)
        with pytest.raises(langid.ModelError) as e:
            stage.check_sources({"web", "books"})
        assert str(e.value).startswith(f"--quality-model {path}: ") and words in str(e.value), name
    with pytest.raises(langid.ModelError, match="truncated"):
        quality.model_from_path(str(tmp_path / "cut.bin"))


def test_fasttext_is_loaded_under_a_time_and_memory_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(langid, "_LOAD_TIMEOUT_S", 1)
    monkeypatch.setattr(langid, "_LOAD_SCRIPT", "import time; time.sleep(30)")
    assert "did not load it within 1 s" in langid._load_in_child(LID, 0)
    grab = langid._LIMIT_PRELUDE + "bytearray(limit)\n"  # one byte past the limit with Python
    monkeypatch.setattr(langid, "_LOAD_SCRIPT", grab)
    assert "MemoryError" in langid._load_in_child(LID, LID_SIZE)
    monkeypatch.setattr(langid, "_LOAD_SCRIPT", "import os; os.abort()")
    assert "crashed" in langid._load_in_child(LID, LID_SIZE)


# -- SentencePiece vocabularies ---------------------------------------------------------------


@pytest.fixture(scope="module")
def vocab_bytes() -> bytes:
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(["a small vocabulary for the pre-flight checks", "of palmkit"] * 50),
        model_writer=model, vocab_size=300, model_type="bpe", byte_fallback=True,
        control_symbols=["[eod]"], minloglevel=2)
    return model.getvalue()


def test_vocab_problems_are_one_line_vocabulary_errors(tmp_path, vocab_bytes):
    good = tmp_path / "v.model"
    good.write_bytes(vocab_bytes)
    assert tokenizer.load(str(tmp_path / "v")).vocab_size == 300  # PREFIX works too
    cases = {
        "half.model": (vocab_bytes[: len(vocab_bytes) // 2], "not a SentencePiece model"),
        "minus1.model": (vocab_bytes[:-1], "not a SentencePiece model"),
        "random.model": (os.urandom(5000), "not a SentencePiece model"),
        "text.model": (open(__file__, "rb").read(), "not a SentencePiece model"),
        "empty.model": (b"", "empty"),
    }
    for name, (data, words) in cases.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "dir.model").mkdir()
    cases["dir.model"] = (None, "directory")
    cases["missing.model"] = (None, "not found")
    for name, (_, words) in cases.items():
        path = str(tmp_path / name)
        with pytest.raises(tokenizer.VocabularyError) as e:
            tokenizer.load(path)
        message = str(e.value)
        assert message.startswith(f"{path}: ") and words in message and "\n" not in message, name
        assert isinstance(e.value, UserError)
