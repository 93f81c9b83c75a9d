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
  (the ``negate=`` spelling may be given; the help then says what that flag does);
* ``tuple[str, ...]``: one comma-separated value (``--stages a,b``); ``none`` gives ``()``;
* ``Literal["a", "b"]`` or ``choices=``: the value must be one of them;
* ``parse=``: a function ``str -> value`` (its ``ValueError``/``TypeError`` becomes a one-line
  usage error naming the flag), for values such as a mesh or a batch schedule; with
  ``late=True`` the text is converted by ``from_args`` instead, so a bad value is a one-line
  ``UserError`` naming the flag (``palmkit`` exits 2 without argparse's usage block) and the
  checks run the same for a config built from Python;
* ``positional=True``: an argument without a flag (``palmkit stats DIR``); with a default it
  may be left out, a ``tuple[str, ...]`` takes any number of values;
* a nested options dataclass (``nested(Cls, prefix=...)``): its fields become
  ``--PREFIX-FIELD`` (prefix defaults to the field name; ``""`` for none);
* ``cli=False``: the field has no flag (set from Python only); ``hidden=True``: a flag left out
  of ``--help`` (test hooks); ``aliases=``: old spellings that still work, not shown in help;
* ``group=``: the help section the flag is listed under;
* ``show_default``: False leaves the default out of the help (say it in words there), a
  function ``value -> str`` writes it (``((0, 8),)`` -> ``0:8``).

Pure standard library: importable by light CLI modules without Beam or JAX.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from typing import Any, Callable, Iterator

from palmkit.errors import UserError

MISSING = dataclasses.MISSING
_SEP = "__"  # argparse dest of a nested field: "langid__threshold"
_UNSET = "==UNSET=="  # argparse default of a late flag: not given, the field's default applies


def option(default: Any = MISSING, *, help: str, default_factory: Any = MISSING,
           flag: str | None = None, negate: str | None = None, aliases: tuple[str, ...] = (),
           choices: tuple | None = None, parse: Callable[[str], Any] | None = None,
           late: bool = False, metavar: str | None = None, positional: bool = False,
           group: str | None = None, hidden: bool = False, cli: bool = True,
           show_default: bool | Callable[[Any], str] = True) -> Any:
    """A dataclass field carrying its command-line spelling and help (see the module docs)."""
    meta = {"help": help, "flag": flag, "negate": negate, "aliases": tuple(aliases),
            "choices": choices, "parse": parse, "late": late, "metavar": metavar,
            "positional": positional, "group": group, "hidden": hidden, "cli": cli,
            "show_default": show_default}
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


def _default(f: dataclasses.Field) -> Any:
    if f.default is not MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not MISSING else MISSING


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


def _spelling(f: dataclasses.Field, tp: Any, prefix: str) -> str:
    """The flag of a field as a person types it (a bool defaulting to True: its negation)."""
    meta = f.metadata
    if meta.get("positional"):
        return meta.get("metavar") or f.name
    flag = meta.get("flag") or _flag(prefix, f.name)
    if _strip_optional(tp) is bool and _default(f) is True:
        return meta.get("negate") or "--no-" + flag[2:]
    return flag


def _sub_prefix(f: dataclasses.Field, prefix: str) -> str:
    """The flag prefix of a nested field's options: ``--PREFIX-SUB-NAME``."""
    sub = f.name.replace("_", "-") if f.metadata["prefix"] is None else f.metadata["prefix"]
    return "-".join(p for p in (prefix, sub) if p)


def _container(parser: Any, title: str | None) -> Any:
    """The help section ``title`` of ``parser`` (made on first use); nested groups stay flat."""
    if not title or isinstance(parser, argparse._ArgumentGroup):
        return parser
    found = next((g for g in parser._action_groups if g.title == title), None)
    return found or parser.add_argument_group(title)


def add_flags(parser: argparse.ArgumentParser | Any, cls: type, *, prefix: str = "",
              dest: str = "", exclude: tuple[str, ...] = ()) -> None:
    """Add one flag per field of ``cls`` (recursing into nested options) to ``parser``."""
    for f, tp in _fields(cls):
        meta = f.metadata
        if f.name in exclude or not meta.get("cli", True):
            continue
        if "nested" in meta:
            group = _container(parser, meta["help"] or f"{f.name.replace('_', ' ')} options")
            add_flags(group, meta["nested"], prefix=_sub_prefix(f, prefix), dest=dest + f.name + _SEP)
            continue
        if "help" not in meta:
            raise TypeError(f"{cls.__name__}.{f.name}: declare it with flags.option(help=...)")
        _add_one(_container(parser, meta["group"]), cls, f, tp, prefix=prefix, dest=dest)


def _add_one(parser: Any, cls: type, f: dataclasses.Field, tp: Any, *, prefix: str,
             dest: str) -> None:
    meta, default, tp = f.metadata, _default(f), _strip_optional(tp)
    spelling = _spelling(f, tp, prefix)
    kwargs: dict[str, Any] = {"help": meta["help"]}
    if tp is bool:
        kwargs.update(action="store_false" if default is True else "store_true",
                      default=default is True)
    else:
        kwargs.update(_value_kwargs(cls, f, tp, spelling, default))
    if meta["hidden"]:
        kwargs["help"] = argparse.SUPPRESS
    if meta["positional"]:
        if default is not MISSING or typing.get_origin(tp) is tuple:
            kwargs["nargs"] = "*" if typing.get_origin(tp) is tuple else "?"
        kwargs.pop("required", None)
        kwargs.setdefault("metavar", spelling)
        parser.add_argument(dest + f.name, **kwargs)
        return
    action = parser.add_argument(spelling, *meta["aliases"], dest=dest + f.name, **kwargs)
    action.option_strings = [spelling]  # aliases still parse, and stay out of the help


def _value_kwargs(cls: type, f: dataclasses.Field, tp: Any, spelling: str,
                  default: Any) -> dict[str, Any]:
    """argparse's ``type``/``choices``/``default`` of a field holding a value (not a bool)."""
    meta, kwargs = f.metadata, {}
    parse, choices = meta["parse"], meta["choices"]
    if typing.get_origin(tp) is typing.Literal:
        choices = typing.get_args(tp)
    elif parse is None and typing.get_origin(tp) is tuple:
        parse = str if meta["positional"] else _comma_list
    elif parse is None and tp in (int, float, str):
        parse = tp
    elif parse is None:
        raise TypeError(f"{cls.__name__}.{f.name}: no flag for type {tp}; give parse=")
    if parse is not None and parse is not str and not meta["late"]:
        kwargs["type"] = _typed(parse, spelling)
    if choices:
        kwargs["choices"] = list(choices)
    if meta["metavar"]:
        kwargs["metavar"] = meta["metavar"]
    elif not choices and not meta["positional"]:  # not the nested dest (LANGID__MODEL)
        kwargs["metavar"] = f.name.upper()
    if default is MISSING:
        kwargs["required"] = True
        return kwargs
    kwargs["default"] = _UNSET if meta["late"] else default
    show = meta["show_default"]
    if show and default is not None and not (meta["positional"] and default == ()):
        text = show(default) if callable(show) else _default_text(default)
        kwargs["help"] = meta["help"] + f" (default: {text})".replace("%", "%%")
    return kwargs


def from_args(cls: type, args: argparse.Namespace, *, _dest: str = "", _prefix: str = "",
              **overrides: Any) -> Any:
    """The ``cls`` instance of parsed flags; fields without a flag keep their default unless
    given in ``overrides``. A ``late`` flag's text is converted here (``UserError`` if bad)."""
    values: dict[str, Any] = {}
    for f, tp in _fields(cls):
        meta = f.metadata
        if f.name in overrides:
            values[f.name] = overrides[f.name]
        elif "nested" in meta:
            values[f.name] = from_args(meta["nested"], args, _dest=_dest + f.name + _SEP,
                                       _prefix=_sub_prefix(f, _prefix))
        elif hasattr(args, _dest + f.name):
            value = getattr(args, _dest + f.name)
            if isinstance(value, str) and value == _UNSET:
                continue  # a late flag not given: the field's default
            if meta.get("late") and isinstance(value, str):
                value = _late(meta["parse"], value, _spelling(f, tp, _prefix))
            values[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


def _late(parse: Callable[[str], Any], text: str, flag: str) -> Any:
    try:
        return parse(text)
    except (ValueError, TypeError) as e:
        raise UserError(f"{flag} {text!r}: {e}") from None


def flag_names(cls: type, *, prefix: str = "") -> Iterator[str]:
    """Each flag of ``cls`` as a person types it, a positional argument by its name (nested
    options included; hidden flags and fields not declared with ``option`` left out)."""
    for f, tp in _fields(cls):
        meta = f.metadata
        if not ("help" in meta or "nested" in meta) or not meta.get("cli", True) or meta.get("hidden"):
            continue  # not declared with option()/nested(), or no flag shown
        if "nested" in meta:
            yield from flag_names(meta["nested"], prefix=_sub_prefix(f, prefix))
        else:
            yield _spelling(f, tp, prefix)
