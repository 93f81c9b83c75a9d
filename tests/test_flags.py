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


def _schedule(text: str) -> tuple[tuple[int, int], ...]:
    pairs = tuple(_pair(p) for p in text.split(","))
    if any(b < 1 for _, b in pairs):
        raise ValueError("sizes must be >= 1")
    return pairs


@dataclasses.dataclass(frozen=True)
class Job:
    path: str = flags.option(help="input folder", positional=True)
    extra: tuple[str, ...] = flags.option((), help="more files", positional=True)
    schedule: tuple = flags.option(((0, 8),), help="STEP:SIZE,...", parse=_schedule, late=True,
                                   show_default=lambda s: ",".join(f"{a}:{b}" for a, b in s),
                                   group="schedule")
    quiet: bool = flags.option(False, help="say less", aliases=("--no-progress",))
    vocab: str = flags.option("v.model", help="vocabulary", aliases=("--model",))
    debug_hook: int = flags.option(0, help="test hook", hidden=True)
    threads: int = flags.option(4, help="threads (default: the machine's cores)",
                                show_default=False)


def _job(argv):
    p = argparse.ArgumentParser()
    flags.add_flags(p, Job)
    return p, flags.from_args(Job, p.parse_args(argv))


def test_positional_late_aliased_and_hidden_flags():
    p, c = _job(["in"])
    assert c == Job(path="in")
    _, c = _job(["in", "a", "b", "--schedule", "0:4,10:8", "--no-progress", "--model", "m",
                 "--debug-hook", "3"])
    assert (c.extra, c.schedule, c.quiet, c.vocab, c.debug_hook) == (("a", "b"), ((0, 4), (10, 8)),
                                                                     True, "m", 3)
    text = " ".join(p.format_help().split())
    assert "STEP:SIZE,... (default: 0:8)" in text and "schedule: --schedule" in text
    assert "--model" not in text and "--no-progress" not in text and "--debug-hook" not in text
    assert "threads (default: the machine's cores)" in text and "(default: 4)" not in text
    assert list(flags.flag_names(Job)) == ["path", "extra", "--schedule", "--quiet", "--vocab",
                                           "--threads"]
    assert list(flags.flag_names(Outer))[:4] == ["--source", "--count", "--names", "--no-verify"]


def test_a_late_value_that_does_not_parse_is_a_user_error_naming_the_flag():
    from palmkit.errors import UserError

    p = argparse.ArgumentParser()
    flags.add_flags(p, Job)
    args = p.parse_args(["in", "--schedule", "0:0"])  # argparse takes the text as it is
    with pytest.raises(UserError, match=r"^--schedule '0:0': sizes must be >= 1$"):
        flags.from_args(Job, args)
    with pytest.raises(SystemExit):  # a positional without a default is required
        p.parse_args([])
