"""Settings of a bench run: the model flags, plus `--settings JSON` for any sc2 setting.

Both benches run every variant with the same settings, so a run with, say,
``--settings '{"suffixFraction": 0.1}'`` measures that setting against its baselines.
No deadline cuts a generation short: results must not depend on the machine's speed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from ..config import Settings, message
from ..flags import settings_from_args

BENCH_DEADLINE_MS = 600_000


def add_settings_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--settings", type=json.loads, default={},
                        help='sc2 settings for every variant, e.g. \'{"suffixFraction": 0.1}\'')


def bench_settings(args: argparse.Namespace) -> Settings:
    settings, problems = settings_from_args(args).layered(args.settings)
    if problems:
        raise ValueError(message(problems))
    return dataclasses.replace(settings, deadline_ms=BENCH_DEADLINE_MS)
