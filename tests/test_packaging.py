"""The embedded model is found from a checkout and from an installed wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from tests.conftest import REPO

FIND = ("from sc2_lsp.engine import embedded_model_path, load_model, ModelSpec;"
        "p = embedded_model_path(); m = load_model(ModelSpec()); print(p, m.name)")


def test_default_model_from_the_checkout():
    out = subprocess.run([sys.executable, "-c", FIND], capture_output=True, text=True,
                         check=True, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    path, name = out.stdout.split()
    assert path == name == str(REPO / "model" / "sc2-mini")


def test_default_model_from_an_installed_wheel(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "node_modules", "clients", "tests", "checkpoints", "work", "build"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "dist"), str(source)],
                   check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert (site / "sc2_lsp" / "_model" / "model.safetensors").exists()
    assert (site / "sc2_lsp" / "engine" / "cpu_kernels.cpp").exists()  # built at first use
    shutil.rmtree(source)  # nothing may come from the checkout any more
    out = subprocess.run([sys.executable, "-c", FIND], capture_output=True, text=True,
                         check=True, cwd=tmp_path,
                         env={"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(site),
                              "PATH": "/usr/bin:/bin"})
    path, _ = out.stdout.split()
    assert path == str(site / "sc2_lsp" / "_model")


def test_default_model_offline_completes_fibonacci_with_code_that_parses(tmp_path):
    import ast
    import json

    source = "def fibonacci(n):\n"
    (tmp_path / "fib.py").write_text(source)
    out = subprocess.run([sys.executable, "-m", "sc2_lsp", "complete", str(tmp_path / "fib.py"),
                          "--line", "0", "--character", "17", "--json"],
                         capture_output=True, text=True, check=True, cwd=REPO,
                         env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    answer = json.loads(out.stdout)
    assert answer["stats"]["source"] == "model" and answer["text"].strip()
    ast.parse(source[:17] + answer["text"] + source[17:])  # raises if it does not parse
