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
    assert set(cli.COMMANDS) == {"corpus", "vocab", "pack", "stats", "model", "train", "aot", "demo",
                                 "contamination", "generate", "memorization"}


def test_help_and_unknown_flags(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0 and "corpus" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # not a Beam job: unknown flags are an error
        cli.main(["model", "info", "--preset", "palm-tiny", "--runner=DataflowRunner"])


# Each (sub)command's config classes, whose flagged fields must all show in its --help.
CONFIGS = {
    "corpus": ["pipelines.corpus:CorpusConfig"],
    "pack": ["pipelines.pack:PackConfig"],
    "vocab train": ["tokenizer.train:TrainConfig"],
    "vocab encode": ["tokenizer.tools:EncodeConfig"],
    "vocab decode": ["tokenizer.tools:DecodeConfig"],
    "vocab inspect": ["tokenizer.tools:InspectConfig"],
    "vocab check": ["tokenizer.tools:CheckConfig"],
    "vocab export": ["tokenizer.hf_export:ExportConfig"],
    "train": ["trainer.train:TrainConfig", "trainer.cli:ModelFlags"],
    "aot": ["trainer.aot:AotConfig"],
    "model info": ["model_stub.info:InfoConfig"],
    "stats": ["palmkit.stats_cli:StatsConfig"],
    "demo": ["palmkit.demo:DemoConfig"],
}


def _leaf_parsers(command):
    parser = cli.build_parser(command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in _parsers(sub.choices[command], command):
        if not any(isinstance(a, argparse._SubParsersAction) for a in p._actions):
            yield name, p


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_help_shows_each_default_once_and_every_flag_of_the_config(command):
    import importlib

    from palmkit import flags

    for name, p in _leaf_parsers(command):
        formatter = p._get_formatter()
        for action in p._actions:
            text = formatter._expand_help(action) if action.help else ""
            assert text.count("(default") <= 1, f"palmkit {name} {action.option_strings}: {text}"
        text = p.format_help()
        assert "--quiet" in text, name
        for spec in CONFIGS.get(name, []):
            module, cls = spec.split(":")
            for flag in flags.flag_names(getattr(importlib.import_module(module), cls)):
                assert flag in text, f"palmkit {name} --help lacks {flag} ({spec})"


def test_python_m_pipelines_pack_is_palmkit_pack():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "pipelines.pack", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("usage: palmkit pack") and "--num-shards" in out


def test_logging_is_configured_once_for_every_command(capsys):
    import logging

    root = logging.getLogger()
    logging.basicConfig()  # what importing Beam does; its handler is replaced, pytest's kept
    kept = [h for h in root.handlers  # pytest's; not Beam's nor one an earlier command left
            if type(h) not in (logging.StreamHandler, cli._StderrHandler)]
    cli.configure_logging()
    cli.configure_logging()  # again: still one handler of ours
    assert [type(h) for h in root.handlers if h not in kept] == [cli._StderrHandler]
    assert all(h in root.handlers for h in kept)
    assert logging.getLogger("pipelines.pack").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("apache_beam.runners").getEffectiveLevel() == logging.WARNING
    logging.getLogger("tokenizer.train").info("one line")
    assert capsys.readouterr().err.endswith("INFO tokenizer.train: one line\n")
    cli.configure_logging(quiet=True)
    assert logging.getLogger("trainer").getEffectiveLevel() == logging.WARNING
    cli.configure_logging()


# -- --verbose and Beam's noise (issue 17) -----------------------------------------------------

def _corpus_stderr(tmp_path, *flags):
    import pathlib
    import subprocess
    import sys

    out = tmp_path / f"out{len(flags)}"
    proc = subprocess.run(
        [sys.executable, "-m", "palmkit.cli", "corpus", "--sources", "data/sample/sources.yaml",
         "--output", str(out), "--stages", "none", "--quality-alpha", "1", *flags],
        capture_output=True, text=True, timeout=300,
        cwd=pathlib.Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stderr


def test_beams_import_warning_is_hidden_unless_verbose(tmp_path):
    quiet = _corpus_stderr(tmp_path)
    assert "apitools" not in quiet and "INFO apache_beam" not in quiet
    assert "INFO pipelines.corpus: corpus: read" in quiet  # palmkit's own progress stays
    verbose = _corpus_stderr(tmp_path, "--verbose")
    assert "apitools not found" in verbose and "INFO apache_beam" in verbose


def test_noise_filter_and_harness_log_level():
    import logging

    def record(name, msg):
        return logging.LogRecord(name, logging.WARNING, __file__, 1, msg, None, None)

    noise = cli._NoiseFilter()
    assert not noise.filter(record("root", "apitools not found, and bigquery client ..."))
    assert noise.filter(record("root", "something else"))
    assert noise.filter(record("pipelines.corpus", "apitools not found"))  # only Beam's own
    assert cli.harness_log_args(["--runner=DirectRunner"], verbose=False, quiet=True) == [
        "--runner=DirectRunner", "--default_sdk_harness_log_level=WARNING"]
    args = cli.harness_log_args([], verbose=False)  # palmkit's progress lines stay on workers
    assert args[0] == "--default_sdk_harness_log_level=WARNING"
    assert args[1].startswith('--sdk_harness_log_level_overrides={"palmkit": "INFO"')
    assert cli.harness_log_args(["--x=1"], verbose=True) == ["--x=1"]
    given = ["--default_sdk_harness_log_level=DEBUG"]
    assert cli.harness_log_args(given, verbose=False) == given


@pytest.mark.parametrize("argv", [["corpus", "--sources", "s", "--output", "o"],
                                  ["stats", "DIR"], ["model", "info", "--preset", "palm-tiny"]])
def test_verbose_is_on_every_subcommand(argv):
    args, _ = cli.build_parser(argv[0]).parse_known_args([*argv, "--verbose"])
    assert args.verbose is True


def test_a_missing_extra_is_one_line_naming_it(tmp_path):
    """`pip install palmkit` without the train extra: `palmkit train` says which extra, in one line."""
    import subprocess
    import sys

    blocker = tmp_path / "sitecustomize.py"  # makes `import jax` fail as if not installed
    blocker.write_text("import sys\nsys.modules['jax'] = None\n")
    env = {**__import__("os").environ, "PYTHONPATH": f"{tmp_path}"}
    run = subprocess.run([sys.executable, "-m", "palmkit.cli", "train", "--help"],
                         capture_output=True, text=True, env=env, cwd=str(tmp_path.parent))
    err = run.stderr.strip().splitlines()
    assert run.returncode == 2 and err[-1:] == [
        "palmkit train: error: `palmkit train` needs the train extra (jax is not installed): "
        "pip install 'palmkit[train]'"], run.stderr
