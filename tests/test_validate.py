"""validate(): every reason, on multilingual text; the size cap counts UTF-8 bytes."""

from __future__ import annotations

import pytest

from palmkit.records import Document, Reason, Reject
from pipelines.validate import validate


def doc(text, record: int = 7) -> Document:
    return Document(id="d1", text=text, component="web", source="web/a.jsonl", record=record)


@pytest.mark.parametrize("text", [
    "Hello, world.",
    "Grüße aus München — schön!",
    "日本語の文章です。",
    "مرحبا بالعالم",
    "Привет, мир 👋",
    "  leading and trailing space are kept  \n",
])
def test_valid_multilingual_documents_pass_unchanged(text):
    d = doc(text)
    assert validate(d, max_bytes=1000) is d and d.text == text


@pytest.mark.parametrize("text,reason,keeps_text", [
    (None, Reason.MISSING_TEXT, False),
    (42, Reason.MISSING_TEXT, False),
    (["a", "list"], Reason.MISSING_TEXT, False),
    ("", Reason.EMPTY, True),
    (" \n\t\u3000 ", Reason.EMPTY, True),  # ideographic space is whitespace too
    ("bin\x00ary", Reason.BINARY, False),
    ("lone \ud800 surrogate", Reason.INVALID_UTF8, False),
])
def test_each_reason(text, reason, keeps_text):
    out = validate(doc(text), max_bytes=1000)
    assert isinstance(out, Reject) and out.reason == reason
    assert out.detail.startswith("web/a.jsonl:7: ")  # names the file and the record
    assert (out.id, out.component, out.record) == ("d1", "web", 7)
    assert out.text == (text if keeps_text else None)


def test_size_cap_counts_utf8_bytes_not_characters():
    text = "ü" * 50  # 50 characters, 100 bytes
    assert isinstance(validate(doc(text), max_bytes=100), Document)
    out = validate(doc(text), max_bytes=99)
    assert isinstance(out, Reject) and out.reason == Reason.TOO_LARGE
    assert "100 bytes > cap 99" in out.detail and out.text is None


def test_order_of_checks_first_failure_wins():
    assert validate(doc("\x00" * 500), max_bytes=10).reason == Reason.BINARY
    assert validate(doc(" " * 500), max_bytes=10).reason == Reason.EMPTY
