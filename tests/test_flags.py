"""palmkit.flags: flags generated from config dataclasses (one place per default and help)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Literal

import pytest

from palmkit import flags


def _pair(text: str) -> tuple[int, int]:
    a, b = text.split(":")
    return int(a), int(b)


@dataclasses.dataclass(frozen=True)
class Inner:
    threshold: float = flags.option(0.5, help="a threshold")
    mode: Literal["a", "b"] = flags.option("a", help="a mode")


@dataclasses.dataclass(frozen=True)
class Outer:
    source: str = flags.option(help="required input")
    count: int | None = flags.option(None, help="how many")
    names: tuple[str, ...] = flags.option(("x", "y"), help="names")
    verify: bool = flags.option(True, help="check things")
    overwrite: bool = flags.option(False, help="replace")
    pair: tuple[int, int] = flags.option((1, 2), help="a:b", parse=_pair)
    hidden: int = flags.option(7, help="set from Python", cli=False)
    inner: Inner = flags.nested(Inner)
    plain: Inner = flags.nested(Inner, prefix="")


def parse(argv):
    p = argparse.ArgumentParser(exit_on_error=False)
    flags.add_flags(p, Outer)
    return p, flags.from_args(Outer, p.parse_args(argv))


def test_defaults_and_types_come_from_the_fields():
    _, c = parse(["--source", "s"])
    assert c == Outer(source="s")
    _, c = parse(["--source", "s", "--count", "3", "--names", "a,b,c", "--no-verify", "--overwrite",
                  "--pair", "4:5", "--inner-threshold", "0.25", "--inner-mode", "b",
                  "--threshold", "0.75"])
    assert (c.count, c.names, c.verify, c.overwrite, c.pair) == (3, ("a", "b", "c"), False, True, (4, 5))
    assert c.inner == Inner(0.25, "b") and c.plain == Inner(0.75, "a") and c.hidden == 7
    _, c = parse(["--source", "s", "--names", "none"])
    assert c.names == ()


def test_help_shows_each_default_once():
    p, _ = parse(["--source", "s"])
    text = " ".join(p.format_help().split())
    assert "a threshold (default: 0.5)" in text and text.count("(default: 0.5)") == 2
    assert "names (default: x,y)" in text and "--hidden" not in text
    assert "how many (default" not in text  # None is not a default worth printing


@pytest.mark.parametrize("argv", [[], ["--source", "s", "--count", "x"],
                                  ["--source", "s", "--inner-mode", "c"],
                                  ["--source", "s", "--pair", "4"]])
def test_bad_values_are_usage_errors(argv):
    p = argparse.ArgumentParser()
    flags.add_flags(p, Outer)
    with pytest.raises(SystemExit) as e:
        p.parse_args(argv)
    assert e.value.code == 2


def test_a_field_without_help_is_refused():
    @dataclasses.dataclass
    class Bad:
        x: int = 1

    with pytest.raises(TypeError, match="help"):
        flags.add_flags(argparse.ArgumentParser(), Bad)
