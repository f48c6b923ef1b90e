"""Settings: typed fields structured by cattrs, per-key fallback with one message,
layers, the CLI flags built from them, and the generated tables that must not drift."""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from typing import Annotated

import pytest

from sc2_lsp.cli import COMPLETE_BASE, UsageError, build_parser, settings_from_args
from sc2_lsp.config import CONVERTER, ModelSpec, Range, Settings, from_editor, message
from tests.conftest import REPO


def test_typed_values_apply_from_camel_or_snake_case_keys():
    settings, problems = Settings().layered({
        "quant": "nf4", "middleLines": 3, "suffix_fraction": 0.5, "maxNewTokens": 16.0,
        "model": "random:tiny", "kvReuse": False, "enable": True, "serverCommand": ["x"]})
    assert problems == []
    assert settings == Settings(quant="nf4", middle_lines=3, suffix_fraction=0.5,
                                max_new_tokens=16, model="random:tiny", kv_reuse=False)
    assert type(settings.max_new_tokens) is int
    assert Settings(middle_lines=3).layered({"middleLines": None, "model": ""}) == (Settings(), [])


def test_every_invalid_key_keeps_its_value_and_is_named_in_one_message():
    base = Settings(model="random:tiny", context_tokens=1024)
    settings, problems = base.layered({
        "multiline": "sometimes", "maxNewTokens": 8, "contextTokens": "big",
        "middleLines": 9, "kvReuse": "false", "threads": 2.5, "bogus": 1, "model": 7})
    assert settings == dataclasses.replace(base, max_new_tokens=8)
    assert message(problems) == (
        "Invalid sc2 settings: 'multiline': \"sometimes\" is not one of auto, always, never "
        "(keeping \"auto\"); 'contextTokens': expected a whole number, got \"big\" (keeping 1024); "
        "'middleLines': 9 is outside 0..7 (keeping null); 'kvReuse': expected true or false, "
        "got \"false\" (keeping true); 'threads': expected a whole number, got 2.5 (keeping 0); "
        "'bogus': unknown setting; 'model': expected a string, got 7 (keeping \"random:tiny\")")


def test_bounds_are_inclusive_and_a_bool_is_not_a_number():
    settings, problems = Settings().layered({"suffixFraction": 0.9, "contextTokens": 64,
                                             "temperature": True})
    assert (settings.suffix_fraction, settings.context_tokens) == (0.9, 64)
    assert [p.key for p in problems] == ["temperature"]
    assert Settings().layered({"suffixFraction": 0.91})[1][0].text == "0.91 is outside 0..0.9"


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    """Optional numbers of both kinds, structured by the same converter."""

    connect_s: Annotated[float, Range(0.1, 60.0)] | None = None
    retries: int | None = None


def test_optional_floats_and_ints_take_null_or_a_checked_number():
    assert CONVERTER.structure({"connect_s": 2, "retries": None}, Timeouts) == Timeouts(
        connect_s=2.0)
    assert CONVERTER.structure({"connect_s": None, "retries": 3}, Timeouts) == Timeouts(retries=3)
    for bad in ({"connect_s": 99.0}, {"connect_s": "soon"}, {"retries": 1.5}):
        with pytest.raises(Exception) as error:
            CONVERTER.structure(bad, Timeouts)
        assert [note.name for _, note in error.value.group_exceptions()[0]] == list(bad)


def test_an_editor_payload_is_nested_or_flat_and_anything_else_changes_nothing():
    cli = Settings(model="random:tiny")
    base = dataclasses.replace(cli, context_tokens=1024)
    expected = dataclasses.replace(base, max_new_tokens=5)
    assert from_editor(base, {"sc2": {"maxNewTokens": 5}}, cli) == (expected, None)
    assert from_editor(base, {"maxNewTokens": 5}, cli) == (expected, None)
    assert from_editor(base, {}, cli) == (base, None)
    assert from_editor(base, None, cli) == (None, None)
    assert from_editor(base, [1, 2], cli) == (
        None, "sc2 settings must be an object, got [1, 2]; settings unchanged")
    assert from_editor(base, {"sc2": "x"}, cli) == (
        None, "sc2 settings must be an object, got \"x\"; settings unchanged")


def test_a_null_unsets_a_key_back_to_the_command_line_or_the_default():
    cli = Settings(model="random:tiny")
    base = dataclasses.replace(cli, context_tokens=1024, max_new_tokens=8)
    assert from_editor(base, {"model": None, "contextTokens": None, "bogus": None}, cli) == (
        dataclasses.replace(cli, max_new_tokens=8),
        "Invalid sc2 settings: 'bogus': unknown setting")


def test_the_model_spec_is_the_model_part_of_the_settings():
    settings = Settings(model="m", quant="int8", threads=2, context_tokens=512)
    assert settings.model_spec() == ModelSpec("m", quant="int8", threads=2)
    assert isinstance(settings, ModelSpec)
    assert [f.name for f in dataclasses.fields(ModelSpec)] == [
        "model", "quant", "dtype", "device", "allow_download", "threads", "engine", "endpoint",
        "tokenizer", "endpoint_timeout_ms"]


def test_config_is_a_leaf():
    code = ("import sys, sc2_lsp.config; "
            "print(sorted(m for m in sys.modules if m.startswith('sc2_lsp')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO)
    assert out.stdout.split() == ["['sc2_lsp',", "'sc2_lsp.config']"]


# ----------------------------------------------------------------------------- CLI
def parse(*argv: str) -> Settings:
    args = build_parser().parse_args(list(argv))
    return settings_from_args(args, COMPLETE_BASE if args.command == "complete" else Settings())


def test_serve_has_a_flag_for_every_setting_typed_like_it():
    assert parse("--log-level", "debug", "serve", "--model", "M", "--no-kv-reuse",
                 "--context-tokens", "1000", "--middle-lines", "2", "--quant", "int8",
                 "--suffix-fraction", "0.5", "--allow-download") == Settings(
        log_level="debug", model="M", kv_reuse=False, context_tokens=1000, middle_lines=2,
        quant="int8", suffix_fraction=0.5, allow_download=True)
    assert parse("serve") == Settings()
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]
    flags = {option for action in serve._actions for option in action.option_strings}
    for field in dataclasses.fields(Settings):
        dashed = field.name.replace("_", "-")
        assert (f"--{dashed}" in flags) == (field.name != "log_level"), field.name


def test_complete_waits_for_its_answer_unless_told_otherwise():
    assert parse("complete", "f.py", "--line", "0", "--character", "0").deadline_ms == 600_000
    assert parse("complete", "f.py", "--line", "0", "--character", "0",
                 "--deadline-ms", "900").deadline_ms == 900


def test_a_value_out_of_range_is_a_usage_error_naming_the_flag():
    with pytest.raises(UsageError, match=r"^--context-tokens: 9 is outside 64\.\.4096; "
                                         r"--temperature: 3\.0 is outside 0\.\.2$"):
        parse("serve", "--context-tokens", "9", "--temperature", "3")
    with pytest.raises(SystemExit):
        parse("serve", "--quant", "int5")


# ----------------------------------------------------------------- generated tables
def generator():
    spec = importlib.util.spec_from_file_location("gen_settings", REPO / "scripts" /
                                                  "gen_settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_match_the_settings():
    """Fails when README.md, package.json or settings.ts drift from `Settings`:
    run `python scripts/gen_settings.py`."""
    for path, text in generator().generated().items():
        assert (REPO / path).read_text() == text, f"{path} is out of date"


def test_the_drift_check_notices_a_changed_row(tmp_path):
    gen = generator()
    for path in (gen.README, gen.PACKAGE, gen.SETTINGS_TS):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text((REPO / path).read_text())
    readme = tmp_path / gen.README
    readme.write_text(readme.read_text().replace("| `2048` |", "| `1024` |"))
    package = tmp_path / gen.PACKAGE
    package.write_text(package.read_text().replace('"maximum": 4096', '"maximum": 8192'))
    ts = tmp_path / gen.SETTINGS_TS
    ts.write_text(ts.read_text().replace("  'threads',\n", ""))
    expected = gen.generated(tmp_path)
    assert [path for path, text in expected.items() if (tmp_path / path).read_text() != text
            ] == [gen.README, gen.PACKAGE, gen.SETTINGS_TS]
    assert expected == gen.generated(REPO)
