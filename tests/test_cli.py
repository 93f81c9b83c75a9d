"""The `palmkit` CLI: every subcommand is real, and every option says what it does."""

import argparse

import pytest

from palmkit import cli


def _parsers(parser: argparse.ArgumentParser, name: str):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_option_of_every_subcommand_has_help(command):
    parser = cli.build_parser(command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, p in _parsers(sub.choices[command], command):
        for action in p._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not (action.help or "").strip():
                missing.append(f"palmkit {name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, f"options without help: {missing}"


def test_the_table_lists_exactly_the_capabilities_that_exist():
    assert set(cli.COMMANDS) == {"corpus", "vocab", "pack", "stats", "model", "train", "aot", "demo"}


def test_help_and_unknown_flags(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0 and "corpus" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # not a Beam job: unknown flags are an error
        cli.main(["model", "info", "--preset", "palm-tiny", "--runner=DataflowRunner"])
