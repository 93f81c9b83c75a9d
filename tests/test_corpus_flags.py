"""`palmkit corpus` flags come from ``CorpusConfig`` and the stages' options dataclasses: adding a
stage option is adding one field, which then has a flag, its help with the default shown once,
a range check naming the flag, and a place in the manifest."""

from __future__ import annotations

import dataclasses
import re

import pytest

import mixtures
from palmkit import cli, flags
from palmkit.errors import UserError
from pipelines.clean.langid import LangIdOptions
from pipelines.clean.near_dedup import NearDedupOptions
from pipelines.clean.quality import QualityOptions
from pipelines.corpus import DEFAULT_STAGES, CorpusConfig, parse_stages
from pipelines.stage import stage_name

#: The spellings `palmkit corpus` has always had; scripts use them.
KEPT_FLAGS = ("--langid-model", "--langid-threshold", "--quality-model", "--quality-alpha",
              "--quality-train-docs", "--exact-dedup-normalisation", "--exact-dedup-scope",
              "--allow-unknown-license", "--near-dedup-threshold", "--seed", "--stages",
              "--max-doc-bytes", "--num-shards", "--overwrite", "--quiet", "--sources",
              "--output", "--mixture")


def options_fields() -> list[dataclasses.Field]:
    """The ``CorpusConfig`` fields holding a stage's options (``langid``, ``quality``, ...)."""
    return [f for f in dataclasses.fields(CorpusConfig) if "nested" in f.metadata]


def stage_options():
    """(flag prefix, options field) for every field of every stage options class."""
    for outer in options_fields():
        prefix = outer.metadata["prefix"]
        prefix = outer.name.replace("_", "-") if prefix is None else prefix
        for f in dataclasses.fields(outer.metadata["nested"]):
            yield prefix, f


@pytest.fixture(scope="module")
def help_entries():
    """``palmkit corpus --help`` as {flag: its help text on one line}."""
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out), pytest.raises(SystemExit):
        mp.setenv("COLUMNS", "1000")  # one line per flag: no wrapping inside the defaults
        cli.main(["corpus", "--help"])
    entries, flag = {}, None
    for line in out.getvalue().splitlines():
        start = re.match(r"^  (--[\w-]+)(?: \S+)?(?:\s{2,}(.*))?$", line)
        if start:  # "  --flag METAVAR   help...", the help perhaps on the next lines
            flag = start.group(1)
            entries[flag] = start.group(2) or ""
        elif flag and line.startswith("   "):
            entries[flag] = (entries[flag] + " " + line.strip()).strip()
        else:
            flag = None
    return entries


def test_every_stage_option_is_a_flag_with_its_default_shown_once(help_entries):
    checked = 0
    for prefix, f in stage_options():
        flag = "--" + "-".join(p for p in (prefix, f.name.replace("_", "-")) if p)
        if not f.metadata["cli"]:  # set from Python only, and says so
            assert flag not in help_entries and "Python" in f.metadata["help"], flag
            continue
        text = help_entries[flag]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if default is None or isinstance(default, bool):  # unset, or a switch that is off
            assert "default" not in text, (flag, text)  # the help says what "unset" does
        else:
            shown = (",".join(map(str, default)) or "none") if isinstance(default, tuple) else default
            assert text.count("default") == 1 and text.endswith(f"(default: {shown})"), (flag, text)
        checked += 1
    assert checked >= 17


def test_the_old_flag_spellings_stay(help_entries):
    assert set(KEPT_FLAGS) <= set(help_entries)
    assert f"(default: {','.join(map(stage_name, DEFAULT_STAGES))})" in help_entries["--stages"]


def test_defaults_of_the_flags_are_the_fields_defaults():
    parser = cli.build_parser("corpus")
    args, _ = parser.parse_known_args(["corpus", "--sources", "s.yaml", "--output", "out"])
    assert flags.from_args(CorpusConfig, args) == CorpusConfig(sources="s.yaml", output="out")
    args, _ = parser.parse_known_args(["corpus", "--sources", "s", "--output", "o",
                                       "--langid-threshold", "0.7", "--allow-unknown-license",
                                       "--near-dedup-threshold", "0.8", "--stages", "none"])
    config = flags.from_args(CorpusConfig, args)
    assert (config.langid.threshold, config.code_filter.allow_unknown_license,
            config.near_dedup.threshold, config.stages) == (0.7, True, 0.8, ())


@pytest.mark.parametrize("make, message", [
    (lambda: LangIdOptions(threshold=2.0), "--langid-threshold must be between 0.0 and 1.0, got 2.0"),
    (lambda: QualityOptions(alpha=0.0), "--quality-alpha must be a positive number, got 0.0"),
    (lambda: QualityOptions(train_docs=0), "--quality-train-docs must be >= 1, got 0"),
    (lambda: NearDedupOptions(threshold=float("nan")), "--near-dedup-threshold must be between"),
    (lambda: CorpusConfig(sources="s", output="o", num_shards=0), "--num-shards must be >= 1"),
    (lambda: parse_stages("pipelines.nosuch:Stage"), "no module named 'pipelines.nosuch'"),
])
def test_options_check_their_own_ranges_naming_the_flag(make, message):
    with pytest.raises(ValueError) as e:  # UserError for options; load_stage's ValueError
        make()
    assert str(e.value).startswith(message) or message in str(e.value), str(e.value)
    assert "\n" not in str(e.value)
    if "--" in message:
        assert isinstance(e.value, UserError)


def test_the_manifest_records_every_stage_option():
    config = CorpusConfig(sources="s", output="o", quality=QualityOptions(alpha=1.0),
                          langid=LangIdOptions(threshold=0.75))
    recorded = config.to_manifest(mixtures.get("palm"))
    assert recorded["stages"] == [stage_name(s) for s in DEFAULT_STAGES]
    assert recorded["stages"][0] == "pipelines.clean.langid:LanguageId"
    assert recorded["quality"]["alpha"] == 1.0 and recorded["langid"]["threshold"] == 0.75
    assert recorded["near_dedup"]["minhash"] == {"bands": 25, "rows": 4, "shingle_size": 3,
                                                 "seed": 1}
    for outer in options_fields():
        names = {f.name for f in dataclasses.fields(outer.metadata["nested"])}
        assert set(recorded[outer.name]) == names, outer.name
