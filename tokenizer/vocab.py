"""The lossless wrapper around a trained SentencePiece model: ``load(path) -> Vocabulary``.

What plain SentencePiece 0.2.3 already gets right with our training settings (identity
normalisation, byte fallback, no dummy prefix, no whitespace removal), checked one case at a time
in ``tests/test_tokenizer.py``: runs of spaces/tabs/newlines, ``\\r\\n``, leading and trailing
whitespace, NUL and other C0/C1 controls, combining marks, unassigned and private-use code points,
emoji ZWJ sequences, BOM, NBSP, U+2028/U+2029; ``[eod]`` typed in raw text stays five ordinary
pieces (it is a *control* symbol); every Unicode decimal digit is its own piece (ASCII digits via
``split_digits``, the 650 other ``Nd`` digits via ``user_defined_symbols``, see ``train.py``).

The one place it is not lossless, and the one place this wrapper differs from plain
SentencePiece: a literal U+2581 (``▁``) in the text. SentencePiece uses that character for the
space, so ``"a▁b"`` decodes as ``"a b"``. The wrapper encodes each literal U+2581 as its three
UTF-8 byte tokens ``<0xE2> <0x96> <0x81>``, which plain SentencePiece already decodes back to
``▁`` (bytes are decoded after the ``▁`` -> space replacement), so ``decode`` is plain
SentencePiece's and the ``.model`` file stays usable without this wrapper (only texts that contain
U+2581 encode differently).

Cost: one ``"\\u2581" in text`` scan (C speed, ~1% of encode time) per text; only texts that
contain U+2581 take the slow path (split on it, encode the parts, interleave byte ids).

This module imports only sentencepiece and the standard library: the Beam pack job and the JAX
trainer both import it.
"""

from __future__ import annotations

from palmkit.errors import UserError

import hashlib
import os
import stat
from typing import Iterable, Sequence

import sentencepiece as spm

EOD = "[eod]"
LOWER_BLOCK = "\u2581"  # SentencePiece's whitespace meta symbol
_LOWER_BLOCK_BYTES = tuple(f"<0x{b:02X}>" for b in LOWER_BLOCK.encode("utf-8"))


class VocabularyError(UserError):
    """A model file that cannot serve as a lossless palmkit vocabulary."""


class Vocabulary:
    """A SentencePiece model plus the U+2581 fix; see the module docstring.

    ``num_threads`` is what ``encode_batch`` passes to SentencePiece (-1: all cores).
    """

    def __init__(self, model_proto: bytes, *, path: str = "<bytes>", num_threads: int = -1):
        self.path = path
        self.sha256 = hashlib.sha256(model_proto).hexdigest()
        self.num_threads = num_threads
        self._sp = spm.SentencePieceProcessor(model_proto=model_proto)
        self.vocab_size = self._sp.get_piece_size()
        self.eod_id = self._sp.piece_to_id(EOD)
        if self.id_to_piece(self.eod_id) != EOD or not self._sp.is_control(self.eod_id):
            raise VocabularyError(f"{path}: no {EOD} control symbol; train it with palmkit vocab")
        ids = [self._sp.piece_to_id(p) for p in _LOWER_BLOCK_BYTES]
        if not all(self._sp.is_byte(i) for i in ids):
            raise VocabularyError(f"{path}: no byte-fallback pieces; train with byte_fallback")
        self._lower_block_ids = ids
        # Bound methods: attribute look-ups cost ~5% of encode time on short texts.
        self._encode = self._sp.encode
        self.decode_pieces = self._sp.decode_pieces

    # -- encode / decode ------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        if LOWER_BLOCK in text:
            return self._encode_lower_block(text)
        return self._encode(text)

    def encode_batch(self, texts: Sequence[str], *, num_threads: int | None = None) -> list[list[int]]:
        """Encode many texts with SentencePiece's own threads (the GIL is released)."""
        texts = list(texts)
        threads = self.num_threads if num_threads is None else num_threads
        out = self._encode(texts, num_threads=threads)
        for i, text in enumerate(texts):
            if LOWER_BLOCK in text:
                out[i] = self._encode_lower_block(text)
        return out

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; control ids (``[eod]``, padding) decode to nothing."""
        if not isinstance(ids, list):
            ids = [int(i) for i in ids]  # numpy arrays, tuples
        return self._sp.decode(ids)

    def _encode_lower_block(self, text: str) -> list[int]:
        parts = text.split(LOWER_BLOCK)
        out: list[int] = []
        for k, ids in enumerate(self._encode(parts)):
            if k:
                out.extend(self._lower_block_ids)
            out.extend(ids)
        return out

    # -- pieces ---------------------------------------------------------------------------
    def id_to_piece(self, i: int) -> str:
        return self._sp.id_to_piece(int(i))

    def piece_to_id(self, piece: str) -> int:
        return self._sp.piece_to_id(piece)

    def is_byte(self, i: int) -> bool:
        return self._sp.is_byte(int(i))

    def is_control(self, i: int) -> bool:
        return self._sp.is_control(int(i))

    @property
    def pad_id(self) -> int:
        return self._sp.pad_id()

    @property
    def processor(self) -> spm.SentencePieceProcessor:
        """The plain SentencePiece processor (not lossless for U+2581)."""
        return self._sp

    def __repr__(self) -> str:
        return f"Vocabulary({self.path!r}, vocab_size={self.vocab_size}, sha256={self.sha256[:12]})"


def load(path: str, *, num_threads: int = -1) -> Vocabulary:
    """Load ``PREFIX.model`` (or ``PREFIX``) written by ``palmkit vocab train``.

    Every way the file can be wrong raises ``VocabularyError`` with one line naming it (the
    CLI's ``--vocab`` ends with exit 2): missing, a directory or FIFO (never opened: reading a
    FIFO blocks), empty (SentencePiece parses it as an empty model and fails later with an
    ``IndexError``), truncated or not a SentencePiece model at all (SentencePiece raises a
    ``RuntimeError`` with a C++ source location instead of a reason).
    """
    if not path.endswith(".model") and not os.path.exists(path) and os.path.exists(path + ".model"):
        path += ".model"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise VocabularyError(f"{path}: vocabulary not found") from None
    except OSError as e:
        raise VocabularyError(f"{path}: cannot read the vocabulary: {e.strerror}") from None
    if not stat.S_ISREG(mode):
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise VocabularyError(f"{path}: {what}, not a SentencePiece .model file")
    try:
        with open(path, "rb") as f:
            proto = f.read()
    except OSError as e:
        raise VocabularyError(f"{path}: cannot read the vocabulary: {e.strerror}") from None
    if not proto:
        raise VocabularyError(f"{path}: empty file, not a SentencePiece model")
    try:
        return Vocabulary(proto, path=path, num_threads=num_threads)
    except (RuntimeError, IndexError, OSError):  # SentencePiece's parse errors
        raise VocabularyError(f"{path}: not a SentencePiece model ({len(proto)} bytes that do not "
                              f"parse as one: truncated, or another kind of file)") from None
