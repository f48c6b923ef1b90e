"""The plugin's pure Lua modules, checked inside headless Neovim."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PLUGIN_DIR = HERE.parents[1] / "clients" / "neovim"


NVIM = os.environ.get("SC2_NVIM", "nvim")


def test_lua_units(tmp_path):
    if not shutil.which(NVIM):
        pytest.skip(f"{NVIM} is not installed (apt-get install -y neovim)")
    proc = subprocess.run(
        [NVIM, "--headless", "--clean",
         "--cmd", f"set rtp^={PLUGIN_DIR}",
         "-c", f"luafile {HERE / 'unit_spec.lua'}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
