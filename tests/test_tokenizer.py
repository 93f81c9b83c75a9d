"""The lossless vocabulary: special cases, hypothesis properties, plain-SentencePiece compatibility.

One small vocabulary (3,000 pieces) of each model type is trained once for this module on ~500 KB of real
real text shipped in data/sample (see tokenizer_data.sample_component_docs).
"""

from __future__ import annotations

import io
import unicodedata

import pytest
import sentencepiece as spm
from hypothesis import given, settings
from hypothesis import strategies as st

import tokenizer
from tests.corpus_fixture import write_corpus
from tokenizer import report, sample, train
from tokenizer.tools import check_texts
from tests.tokenizer_data import INLINE, sample_component_docs

ND_DIGITS = [c for c in map(chr, range(0x110000)) if unicodedata.category(c) == "Nd"]


@pytest.fixture(scope="module", params=["bpe", "unigram"])
def vocab(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("vocab")
    corpus = write_corpus(root / "corpus", sample_component_docs(150_000))
    config = train.TrainConfig(corpus=corpus, output=str(root / "v"), vocab_size=3000,
                               model_type=request.param, sample_bytes=500_000,
                               heldout_bytes=20_000, num_threads=2)
    train.main(config)
    return tokenizer.load(str(root / "v.model"))


SPECIAL_CASES = {
    "spaces": "a  b   c    d",
    "tabs": "\tx\t\ty\t",
    "newlines": "line\n\n\nnext\n",
    "crlf": "one\r\ntwo\r\n",
    "leading_trailing": "   both ends   ",
    "only_whitespace": " \t\n \r\n  ",
    "indented_code": "def f(x):\n    if x:\n        return 1\n\treturn 2\n",
    "nul_and_controls": "a\x00b\x01\x07\x1b[0m\x7f\x85\x9f",
    "combining": "e\u0301 a\u0308\u0304 \u0915\u094d\u0937",
    "unassigned_private": "\u0378\U000e0001\ue000\U000f0000\U0010fffd\uffff",
    "emoji_sequences": "👩‍👩‍👧 🇫🇷 👍🏽 ❤️",
    "lower_one_eighth_block": "▁a▁▁b ▁ ▁",
    "sentencepiece_meta_only": "\u2581",
    "bom_nbsp_zw": "\ufeffx\xa0y\u200bz\u200d\u3000",
    "line_separators": "a\u2028b\u2029c\x0b\x0c",
    "eod_in_text": "[eod] <pad> <unk> <s> </s>",
    "byte_lookalike": "<0x41> <0xE2>",
    "multilingual": "".join(text for _, text in INLINE),
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(SPECIAL_CASES))
def test_special_case_round_trips(vocab, name):
    text = SPECIAL_CASES[name]
    ids = vocab.encode(text)
    assert vocab.decode(ids) == text
    assert vocab.eod_id not in ids


def test_lower_block_is_byte_tokens_and_plain_sentencepiece_is_not_lossless(vocab):
    raw = vocab.processor
    assert raw.decode(raw.encode("a\u2581b")) == "a b"  # the one case SentencePiece loses
    ids = vocab.encode("a\u2581b")
    assert [vocab.id_to_piece(i) for i in ids[1:4]] == ["<0xE2>", "<0x96>", "<0x81>"]
    assert raw.decode(ids) == "a\u2581b"  # plain SentencePiece decodes the wrapper's ids


@pytest.mark.parametrize("name", sorted(set(SPECIAL_CASES) - {"lower_one_eighth_block", "sentencepiece_meta_only"}))
def test_wrapper_equals_plain_sentencepiece_without_lower_block(vocab, name):
    assert vocab.encode(SPECIAL_CASES[name]) == vocab.processor.encode(SPECIAL_CASES[name])


def test_every_unicode_digit_is_its_own_token(vocab):
    assert len(ND_DIGITS) == 660
    for digit in ND_DIGITS:
        ids = vocab.encode(digit * 3)
        assert [vocab.id_to_piece(i) for i in ids] == [digit] * 3, hex(ord(digit))
    ids = vocab.encode("123.5")
    assert [vocab.id_to_piece(i) for i in ids] == ["1", "2", "3", ".", "5"]
    assert report.piece_counts(vocab)["multi_char_digit"] == 0


def test_eod_is_control_and_separates_documents(vocab):
    assert vocab.is_control(vocab.eod_id) and vocab.id_to_piece(vocab.eod_id) == "[eod]"
    assert vocab.decode([vocab.eod_id]) == ""
    ids = vocab.encode("first doc") + [vocab.eod_id] + vocab.encode("second")
    assert vocab.decode(ids) == "first docsecond"


def test_whitespace_and_newline_pieces_are_learned(vocab):
    counts = report.piece_counts(vocab)
    assert counts["whitespace_only"] >= 2 and counts["newline_containing"] >= 5
    assert len(vocab.encode(" " * 8)) < 8  # runs of spaces are not one token per space


def test_encode_batch_matches_encode(vocab):
    texts = list(SPECIAL_CASES.values()) * 3
    assert vocab.encode_batch(texts) == [vocab.encode(t) for t in texts]
    assert vocab.encode_batch(texts, num_threads=1) == vocab.encode_batch(texts)


def test_load_records_sha256_and_rejects_models_without_eod(vocab, tmp_path):
    import hashlib

    with open(vocab.path, "rb") as f:
        assert vocab.sha256 == hashlib.sha256(f.read()).hexdigest()
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(["plain text here"] * 50),
                                   model_writer=model, vocab_size=15, minloglevel=2)
    with pytest.raises(tokenizer.VocabularyError, match=r"\[eod\]"):
        tokenizer.Vocabulary(model.getvalue())


# -- properties ---------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [" ", "  ", "\t", "\n", "\r\n", "\u2581", "\x00", "[eod]", "e\u0301", "👩‍👧", "１２", "١٢٣",
     "123.5", "    return x\n", "<0xE2>", "\ufeff", "\u3000"]
    + [text for _, text in INLINE]
)
TEXT = st.text(max_size=200) | st.lists(FRAGMENTS | st.text(max_size=5), max_size=20).map("".join)


@settings(max_examples=3000, deadline=None)
@given(TEXT)
def test_property_lossless_digits_and_no_eod(vocab, text):
    ids = vocab.encode(text)
    assert vocab.decode(ids) == text
    assert vocab.eod_id not in ids
    pieces = [vocab.id_to_piece(i) for i in ids if not vocab.is_byte(i)]
    digit_pieces = [p for p in pieces if any(unicodedata.category(c) == "Nd" for c in p)]
    assert all(len(p) == 1 for p in digit_pieces), digit_pieces
    assert len(digit_pieces) == sum(unicodedata.category(c) == "Nd" for c in text)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, max_size=5))
def test_property_documents_joined_by_eod(vocab, docs):
    ids = []
    for doc in docs:
        ids += vocab.encode(doc) + [vocab.eod_id]
    assert vocab.decode(ids) == "".join(docs)
    assert ids.count(vocab.eod_id) == len(docs)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=4, max_value=40))
def test_property_chunks_keep_every_byte_and_fit(text, max_bytes):
    chunks = sample.chunk_text(text, max_bytes)
    assert "".join(chunks) == text
    assert all(len(c.encode("utf-8")) <= max_bytes for c in chunks)


def test_check_texts_reports_real_text_clean(vocab):
    result = check_texts(vocab, list(SPECIAL_CASES.values()) + [t for _, t in INLINE])
    assert result.ok and result.docs == len(SPECIAL_CASES) + len(INLINE)
    assert result.tokens > 0


def test_plan_follows_shares_and_temperature():
    sizes = {("web", "en"): (10, 9_000_000), ("web", "fr"): (10, 1_000_000),
             ("code", "und"): (10, 10_000_000), ("books", "en"): (1, 100)}
    shares = {"web": 0.5, "code": 0.25, "books": 0.0, "dialogue": 0.25}
    natural = sample.plan(sizes, shares, sample_bytes=1_000_000)
    assert ("books", "en") not in natural  # share 0: not sampled
    web = natural[("web", "en")].wanted_bytes + natural[("web", "fr")].wanted_bytes
    assert web == pytest.approx(2 * natural[("code", "und")].wanted_bytes)  # 0.5 : 0.25
    assert natural[("web", "fr")].wanted_bytes == pytest.approx(0.1 * web)
    flat = sample.plan(sizes, shares, sample_bytes=1_000_000, language_temperature=3.0)
    assert flat[("web", "fr")].wanted_bytes > 2 * natural[("web", "fr")].wanted_bytes


def test_uniform_is_keyed_by_seed_and_id():
    assert sample.uniform(0, "doc-1") == sample.uniform(0, "doc-1")
    assert sample.uniform(0, "doc-1") != sample.uniform(1, "doc-1")
    values = [sample.uniform(7, f"d{i}") for i in range(2000)]
    assert 0 <= min(values) and max(values) < 1 and abs(sum(values) / 2000 - 0.5) < 0.03
