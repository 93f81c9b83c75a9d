"""Command-line flags generated from a job's config dataclass.

A field's name, type, default and help are written once, on the field; every subcommand gets
its flags from here, so the CLI cannot drift from the config and help shows each default once::

    @dataclasses.dataclass(frozen=True)
    class LangIdOptions:
        threshold: float = flags.option(0.5, help="confidence below which the language is 'und'")

    @dataclasses.dataclass(frozen=True)
    class CorpusConfig:
        sources: str = flags.option(help="sources YAML file")        # no default: required
        langid: LangIdOptions = flags.nested(LangIdOptions)           # --langid-threshold

    flags.add_flags(parser, CorpusConfig)          # in the subcommand's configure(parser)
    config = flags.from_args(CorpusConfig, args)   # in its run(args, extra)

Rules (from the type annotation and the default):

* ``int``, ``float``, ``str`` (optionally ``| None``): ``--name VALUE``;
* ``bool``: default False -> ``--name`` sets True; default True -> ``--no-name`` sets False
  (the ``negate=`` spelling may be given);
* ``tuple[str, ...]``: one comma-separated value (``--stages a,b``); ``none`` gives ``()``;
* ``Literal["a", "b"]`` or ``choices=``: the value must be one of them;
* ``parse=``: a function ``str -> value`` (its ``ValueError``/``TypeError`` becomes a one-line
  usage error naming the flag), for values such as a mesh or a batch schedule;
* a nested options dataclass (``nested(Cls, prefix=...)``): its fields become
  ``--PREFIX-FIELD`` (prefix defaults to the field name; ``""`` for none);
* ``cli=False``: the field has no flag (set from Python only).

Pure standard library: importable by light CLI modules without Beam or JAX.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from typing import Any, Callable

MISSING = dataclasses.MISSING
_SEP = "__"  # argparse dest of a nested field: "langid__threshold"


def option(default: Any = MISSING, *, help: str, default_factory: Any = MISSING,
           flag: str | None = None, negate: str | None = None, choices: tuple | None = None,
           parse: Callable[[str], Any] | None = None, metavar: str | None = None,
           cli: bool = True, show_default: bool = True) -> Any:
    """A dataclass field carrying its command-line spelling and help (see the module docs)."""
    meta = {"help": help, "flag": flag, "negate": negate, "choices": choices, "parse": parse,
            "metavar": metavar, "cli": cli, "show_default": show_default}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


def nested(cls: type, *, prefix: str | None = None, help: str = "") -> Any:
    """A field holding an options dataclass, whose fields get flags ``--PREFIX-NAME``."""
    return dataclasses.field(default_factory=cls,
                             metadata={"nested": cls, "prefix": prefix, "help": help})


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(s for s in (p.strip() for p in text.split(",")) if s and s != "none")


def _flag(prefix: str, name: str) -> str:
    return "--" + "-".join(p for p in (prefix, name.replace("_", "-")) if p)


def _default_text(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return str(value)


def _typed(parse: Callable[[str], Any], flag: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except (ValueError, TypeError) as e:
            raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None
    convert.__name__ = flag  # argparse names the type in "invalid X value"
    return convert


def _fields(cls: type):
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        yield f, hints[f.name]


def add_flags(parser: argparse.ArgumentParser | Any, cls: type, *, prefix: str = "",
              dest: str = "", exclude: tuple[str, ...] = ()) -> None:
    """Add one flag per field of ``cls`` (recursing into nested options) to ``parser``."""
    for f, tp in _fields(cls):
        meta = f.metadata
        if f.name in exclude or not meta.get("cli", True):
            continue
        if "nested" in meta:
            sub_prefix = f.name.replace("_", "-") if meta["prefix"] is None else meta["prefix"]
            group = parser if isinstance(parser, argparse._ArgumentGroup) else \
                parser.add_argument_group(meta["help"] or f"{f.name.replace('_', ' ')} options")
            add_flags(group, meta["nested"], prefix="-".join(p for p in (prefix, sub_prefix) if p),
                      dest=dest + f.name + _SEP)
            continue
        if "help" not in meta:
            raise TypeError(f"{cls.__name__}.{f.name}: declare it with flags.option(help=...)")
        flag = meta["flag"] or _flag(prefix, f.name)
        kwargs: dict[str, Any] = {"dest": dest + f.name, "help": meta["help"]}
        default = f.default if f.default is not MISSING else (
            f.default_factory() if f.default_factory is not MISSING else MISSING)
        tp = _strip_optional(tp)
        if tp is bool:
            if default is True:
                flag = meta["negate"] or "--no-" + flag[2:]
                kwargs.update(action="store_false", default=True)
            else:
                kwargs.update(action="store_true", default=False)
            parser.add_argument(flag, **kwargs)
            continue
        parse = meta["parse"]
        choices = meta["choices"]
        if typing.get_origin(tp) is typing.Literal:
            choices = typing.get_args(tp)
        elif parse is None and typing.get_origin(tp) is tuple:
            parse = _comma_list
        elif parse is None and tp in (int, float, str):
            parse = tp
        elif parse is None:
            raise TypeError(f"{cls.__name__}.{f.name}: no flag for type {tp}; give parse=")
        if parse is not None and parse is not str:
            kwargs["type"] = _typed(parse, flag)
        if choices:
            kwargs["choices"] = list(choices)
        if meta["metavar"]:
            kwargs["metavar"] = meta["metavar"]
        if default is MISSING:
            kwargs["required"] = True
        else:
            kwargs["default"] = default
            if meta["show_default"] and default is not None:
                kwargs["help"] += f" (default: {_default_text(default)})"
        parser.add_argument(flag, **kwargs)


def from_args(cls: type, args: argparse.Namespace, *, dest: str = "", **overrides: Any) -> Any:
    """The ``cls`` instance of parsed flags; fields without a flag keep their default unless
    given in ``overrides``."""
    values: dict[str, Any] = {}
    for f, _ in _fields(cls):
        if f.name in overrides:
            values[f.name] = overrides[f.name]
        elif "nested" in f.metadata:
            values[f.name] = from_args(f.metadata["nested"], args, dest=dest + f.name + _SEP)
        elif hasattr(args, dest + f.name):
            values[f.name] = getattr(args, dest + f.name)
    return cls(**values)
