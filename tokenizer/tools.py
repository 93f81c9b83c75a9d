"""`palmkit vocab encode|decode|inspect|check`: small jobs over a trained vocabulary.

``check_texts`` is the property check shared by ``palmkit vocab check`` and the tests: for every
text, ``decode(encode(text)) == text``, ``[eod]`` is never produced, and no token holds a decimal
digit together with anything else (byte tokens are fine: a rare digit may fall back to bytes only
with ``--digits ascii``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import unicodedata
from typing import Iterable, Iterator

from tokenizer.vocab import Vocabulary, load


@dataclasses.dataclass
class CheckResult:
    docs: int = 0
    bytes: int = 0
    tokens: int = 0
    roundtrip_failures: int = 0
    eod_produced: int = 0
    digit_violations: int = 0  # tokens holding a digit and something else
    whitespace_pieces_used: int = 0  # tokens whose piece is whitespace only (informational)
    examples: list = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.roundtrip_failures or self.eod_produced or self.digit_violations)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["bytes_per_token"] = round(self.bytes / self.tokens, 4) if self.tokens else 0.0
        out["ok"] = self.ok
        return out


def _digit_bad_ids(vocab: Vocabulary) -> frozenset[int]:
    bad = set()
    for i in range(vocab.vocab_size):
        piece = vocab.id_to_piece(i)
        if len(piece) > 1 and not vocab.is_byte(i) and any(unicodedata.category(c) == "Nd" for c in piece):
            bad.add(i)
    return frozenset(bad)


def _whitespace_ids(vocab: Vocabulary) -> frozenset[int]:
    return frozenset(
        i for i in range(vocab.vocab_size)
        if not vocab.is_byte(i) and (p := vocab.id_to_piece(i)) and set(p) <= set("\u2581\n\t\r")
    )


def check_texts(vocab: Vocabulary, texts: Iterable[str], *, show: int = 5) -> CheckResult:
    result = CheckResult()
    bad_ids, ws_ids = _digit_bad_ids(vocab), _whitespace_ids(vocab)
    for text in texts:
        ids = vocab.encode(text)
        result.docs += 1
        result.bytes += len(text.encode("utf-8"))
        result.tokens += len(ids)
        result.eod_produced += ids.count(vocab.eod_id)
        result.digit_violations += sum(i in bad_ids for i in ids)
        result.whitespace_pieces_used += sum(i in ws_ids for i in ids)
        decoded = vocab.decode(ids)
        if decoded != text:
            result.roundtrip_failures += 1
            if len(result.examples) < show:
                at = next((k for k, (a, b) in enumerate(zip(text, decoded)) if a != b),
                          min(len(text), len(decoded)))
                result.examples.append({"at": at, "text": text[max(0, at - 20): at + 20],
                                        "decoded": decoded[max(0, at - 20): at + 20]})
    return result


def _corpus_texts(corpus: str) -> Iterator[str]:
    from palmkit.manifest import Manifest
    from tokenizer import sample

    files = sample.component_files(Manifest.read(corpus, stage="corpus"), corpus)
    for paths in files.values():
        for path in paths:
            for batch in sample.batches(path, ["text"]):
                yield from batch.column("text").to_pylist()


def _limited(texts: Iterator[str], limit: int) -> Iterator[str]:
    for n, text in enumerate(texts):
        if limit and n >= limit:
            return
        yield text


def _show(piece: str) -> str:
    return piece.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def _read_input(path: str | None) -> str:
    if path is None:
        return sys.stdin.buffer.read().decode("utf-8")
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def run(action: str, args: argparse.Namespace) -> int:
    vocab = load(args.model)
    if action == "encode":
        text = _read_input(args.input)
        docs = [text] if args.whole_file else text.splitlines(keepends=True)
        for ids in vocab.encode_batch(docs):
            items = [_show(vocab.id_to_piece(i)) for i in ids] if args.pieces else ids
            print(" ".join(map(str, items)))
        return 0
    if action == "decode":
        for line in _read_input(args.input).splitlines():
            sys.stdout.write(vocab.decode([int(x) for x in line.split()]))
        return 0
    if action == "inspect":
        from tokenizer import report

        info = {"model": vocab.path, "sha256": vocab.sha256, "vocab_size": vocab.vocab_size,
                "eod_id": vocab.eod_id, "pad_id": vocab.pad_id, "pieces": report.piece_counts(vocab)}
        if args.show:
            info["first_pieces"] = [vocab.id_to_piece(i) for i in range(min(args.show, vocab.vocab_size))]
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    if action == "check":
        texts: Iterator[str] = (_read_input(p) for p in args.paths)
        if args.corpus:
            texts = _corpus_texts(args.corpus)
        result = check_texts(vocab, _limited(texts, args.max_docs), show=args.show)
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return 0 if result.ok else 1
    raise ValueError(action)
