"""Command-line flags of the settings, shared by `sc2-lsp` and its benches.

Below both ``cli.py`` and ``bench/`` (which ``cli.py`` builds its parser from), so the
imports go one way: cli → bench → flags → config.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from . import config
from .config import ModelSpec, Settings, choices, kinds

DEFAULTS = Settings()


def add_model_options(parser: argparse.ArgumentParser, quant_list: bool = False) -> None:
    """The model flags every subcommand shares (`quant_list`: --quant takes a list)."""
    names = [f.name for f in fields(ModelSpec)]
    if quant_list:
        names.remove("quant")
    group = parser.add_argument_group("model")
    add_setting_flags(group, names)
    if quant_list:
        group.add_argument("--quant", dest="quants", type=_choice_list(choices("quant")),
                           default=["none"], metavar="LIST",
                           help=f"comma-separated: {','.join(choices('quant'))}")


def add_pipeline_options(parser: argparse.ArgumentParser, base: Settings = DEFAULTS) -> None:
    """A flag for every other setting (the log level is the top-level --log-level)."""
    model = {f.name for f in fields(ModelSpec)}
    names = [f.name for f in fields(Settings) if f.name not in model and f.metadata["flag"]]
    add_setting_flags(parser.add_argument_group("completion"), names, base)


def add_setting_flags(group, names: list[str], base: Settings = DEFAULTS) -> None:
    """A flag per setting, typed, bounded and described by `Settings`. An unset flag
    stays None, so the layer below it (`base`) shows through."""
    docs = {f.name: f.metadata for f in fields(Settings)}
    for name in names:
        kind, meta = kinds()[name], docs[name]
        facts = [str(kind.range)] if kind.range else []
        facts.append(f"default: {meta['shown'] or config.show(getattr(base, name))}")
        text = f"{meta['doc']} ({', '.join(facts)})".replace("%", "%%")
        options = {"default": None, "help": text}
        if kind.type is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif kind.choices:
            options["choices"] = kind.choices
        else:
            options["type"], options["metavar"] = kind.type, METAVARS[kind.type]
        group.add_argument(flag(name), **options)


METAVARS = {int: "N", float: "X", str: "TEXT"}


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _choice_list(allowed: tuple[str, ...]):
    def parse(text: str) -> list[str]:
        values = [v.strip() for v in text.split(",") if v.strip()]
        if not values or any(v not in allowed for v in values):
            raise argparse.ArgumentTypeError(f"choose from {','.join(allowed)}, comma-separated")
        return values
    return parse


def given_options(args: argparse.Namespace) -> dict:
    """The settings given as flags on this command line, camelCase as editors send them."""
    return {config.camel(f.name): getattr(args, f.name) for f in fields(Settings)
            if getattr(args, f.name, None) is not None}


def settings_from_args(args: argparse.Namespace, base: Settings = DEFAULTS) -> Settings:
    """`base` with this command line's flags on top; a bad value is a usage error."""
    settings, problems = base.layered(given_options(args))
    if problems:
        raise UsageError("; ".join(f"{flag(config.snake(p.key))}: {p.text}" for p in problems))
    return settings


class UsageError(Exception):
    pass
