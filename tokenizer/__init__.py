"""palmkit's vocabulary: PaLM's lossless SentencePiece model (256k pieces, byte fallback,
single digits, whitespace kept, ``[eod]`` between documents).

* ``tokenizer.load(path)`` -> ``Vocabulary`` with ``encode``/``encode_batch``/``decode``
  (``tokenizer.vocab``; imports only sentencepiece, safe for Beam and JAX code).
* ``palmkit vocab train|encode|decode|inspect|check`` (``tokenizer.cli``; the trainer is
  ``tokenizer.train``, reading a ``palmkit corpus`` folder through ``tokenizer.sample``).
"""

from tokenizer.vocab import EOD, Vocabulary, VocabularyError, load

__all__ = ["EOD", "Vocabulary", "VocabularyError", "load"]
