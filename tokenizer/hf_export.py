"""`palmkit vocab export --hf OUT/tokenizer.json`: the vocabulary for Hugging Face `tokenizers`.

The ``tokenizer.json`` gives the ids of plain SentencePiece for every text (checked on the
adversarial strings of ``tests/test_tokenizer.py`` in ``tests/test_hf_export.py``) by rebuilding
each part of palmkit's SentencePiece settings (``tokenizer.train.spm_settings``):

* identity normalisation, no dummy prefix, whitespace kept: the only normaliser is
  ``" " -> "▁"`` (SentencePiece's space symbol); tabs and newlines stay characters;
* BPE: SentencePiece merges the adjacent pair whose merged piece scores highest, within "words"
  that start at a run of ``▁`` (``allow_whitespace_only_pieces``): the merges list every pair of
  pieces whose concatenation is a piece, ranked by that piece's score, and a ``Split`` pre-
  tokenizer cuts the same words. Unigram: the pieces and their log-probabilities, no pre-tokenizer
  (SentencePiece runs one lattice over the whole text);
* byte fallback: the 256 ``<0xXX>`` pieces at their ids, ``byte_fallback=True``;
* split digits: no piece holds a digit with anything else, so nothing extra is needed for ASCII
  digits; the 650 other Unicode digits (``--digits all``) are SentencePiece user-defined symbols,
  matched in raw text first: here added tokens (not special) at their ids;
* ``[eod]`` and the other control pieces (``<s>``, ``</s>``, ``<pad>``) keep their ids
  (``token_to_id("[eod]")``) and are never produced from text: as in SentencePiece, a typed
  ``[eod]`` is five ordinary pieces. They are *not* added special tokens: tokenizers 0.23 matches
  those in raw text, and its ``encode_special_tokens`` switch is not saved in tokenizer.json. The
  decoder drops them, as SentencePiece's decode does; append ``[eod]`` ids yourself.

The one known difference is palmkit's own fix (``tokenizer.vocab``): a literal U+2581 in the text
is three byte tokens for ``Vocabulary.encode`` but, as in plain SentencePiece, the space piece
here (a normaliser cannot emit byte tokens, and ``▁`` is what spaces become before the model).

Needs the ``hf`` extra (``pip install -e '.[hf]'``: tokenizers); reading the ``.model`` needs
only the standard library (a protobuf wire reader: the ``sentencepiece_model_pb2`` shipped with
sentencepiece 0.2.3 needs protobuf >= 7, and palmkit pins 6 for Beam).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import struct

from palmkit import flags
from palmkit.errors import UserError
from tokenizer.vocab import EOD, LOWER_BLOCK, load

# SentencePiece's ModelProto: piece types and model types (sentencepiece_model.proto).
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
UNIGRAM, BPE = 1, 2


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    vocab: str = flags.option(help="PREFIX.model written by `palmkit vocab train`",
                              aliases=("--model",))
    hf: str = flags.option(help="write a Hugging Face tokenizers file here (OUT/tokenizer.json)")


@dataclasses.dataclass(frozen=True)
class Piece:
    piece: str
    score: float
    type: int


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(data: bytes):
    """``(field number, wire type, value)`` of a protobuf message: ints or bytes."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 2:
            n, i = _varint(data, i)
            value, i = data[i:i + n], i + n
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"protobuf wire type {wire}")
        yield number, wire, value


def read_model(proto: bytes) -> tuple[int, list[Piece]]:
    """``(model type, pieces in id order)`` of a serialized SentencePiece ModelProto."""
    pieces, model_type = [], UNIGRAM
    for number, _, value in _fields(proto):
        if number == 1:  # repeated SentencePiece {piece = 1, score = 2, type = 3}
            piece, score, kind = "", 0.0, NORMAL
            for n, _, v in _fields(value):
                if n == 1:
                    piece = v.decode("utf-8")
                elif n == 2:
                    score = struct.unpack("<f", v)[0]
                elif n == 3:
                    kind = v
            pieces.append(Piece(piece, score, kind))
        elif number == 2:  # TrainerSpec {model_type = 3}
            model_type = next((v for n, _, v in _fields(value) if n == 3), UNIGRAM)
    return model_type, pieces


def _bpe_merges(pieces: list[Piece]) -> list[tuple[str, str]]:
    """Every ``(a, b)`` of mergeable pieces whose concatenation is a piece, ranked by the merged
    piece's score (ties: lower id first), as SentencePiece's BPE picks merges."""
    ids = {p.piece: i for i, p in enumerate(pieces) if p.type in (NORMAL, USER_DEFINED)}
    ranked = []
    for merged, i in ids.items():
        for k in range(1, len(merged)):
            a, b = merged[:k], merged[k:]
            if a in ids and b in ids:
                ranked.append((-pieces[i].score, i, ids[a], ids[b], a, b))
    ranked.sort()
    return [(a, b) for *_, a, b in ranked]


def build(proto: bytes):
    """A ``tokenizers.Tokenizer`` equivalent to the SentencePiece model ``proto``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers

    model_type, pieces = read_model(proto)
    unk = next(i for i, p in enumerate(pieces) if p.type == UNKNOWN)
    never = {CONTROL, UNUSED}
    if model_type == BPE:
        vocab = {p.piece: i for i, p in enumerate(pieces)}
        model = models.BPE(vocab=vocab, merges=_bpe_merges(pieces), unk_token=pieces[unk].piece,
                           byte_fallback=True, fuse_unk=True)
        # SentencePiece's SplitIntoWords: a word starts at the first ▁ of a run of ▁.
        pre = pre_tokenizers.Split(Regex(f"{LOWER_BLOCK}*[^{LOWER_BLOCK}]+|{LOWER_BLOCK}+"),
                                   behavior="isolated")
    elif model_type == UNIGRAM:
        # Only normal and user-defined pieces are in SentencePiece's lattice: the others (control,
        # unknown, bytes: a typed "<0x41>" is text) get a score that keeps them off the best path.
        low = min(p.score for p in pieces) - 1e6
        vocab = [(p.piece, p.score if p.type in (NORMAL, USER_DEFINED) else low) for p in pieces]
        model, pre = models.Unigram(vocab, unk_id=unk, byte_fallback=True), None
    else:
        raise UserError(f"SentencePiece model type {model_type} (word/char) has no export")
    tok = Tokenizer(model)
    tok.normalizer = normalizers.Replace(" ", LOWER_BLOCK)
    if pre is not None:
        tok.pre_tokenizer = pre
    controls = "|".join(re.escape(p.piece) for p in pieces if p.type in never)
    tok.decoder = decoders.Sequence(
        ([decoders.Replace(Regex(f"^(?:{controls})$"), "")] if controls else [])
        + [decoders.Replace(LOWER_BLOCK, " "), decoders.ByteFallback(), decoders.Fuse()])
    tok.add_tokens([AddedToken(p.piece, normalized=False, special=False)
                    for p in pieces if p.type == USER_DEFINED])
    for i, p in enumerate(pieces):
        if tok.token_to_id(p.piece) != i:
            raise UserError(f"piece {i} {p.piece!r} maps to id {tok.token_to_id(p.piece)} in the "
                            f"export; not exportable")
    return tok


def export(config: ExportConfig) -> dict:
    """Write ``config.hf``; returns what was written (path, model type, size, [eod] id)."""
    try:
        import tokenizers
    except ImportError:
        raise UserError("`palmkit vocab export --hf` needs the tokenizers package: "
                        "pip install -e '.[hf]'") from None
    vocab = load(config.vocab)  # the same checks as every other action (file, [eod], bytes)
    with open(vocab.path, "rb") as f:
        proto = f.read()
    tok = build(proto)
    out = config.hf
    if os.path.isdir(out):
        out = os.path.join(out, "tokenizer.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tok.save(out)
    model_type = "bpe" if read_model(proto)[0] == BPE else "unigram"
    return {"tokenizer_json": out, "model_type": model_type, "vocab_size": tok.get_vocab_size(),
            "eod_id": tok.token_to_id(EOD), "sha256_of_model": vocab.sha256,
            "tokenizers": tokenizers.__version__}


def main_json(config: ExportConfig) -> str:
    return json.dumps(export(config), indent=2)
