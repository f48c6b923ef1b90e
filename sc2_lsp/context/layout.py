"""Where a workspace's absolute imports start: its import roots.

A repository's packages are not always at its top: ``src/`` layouts, a package dir named in
``pyproject.toml`` (setuptools ``package-dir``/``packages.find.where``, Poetry ``from``,
Hatch wheel ``packages``) or ``setup.cfg`` (``package_dir``, ``packages.find where``), and
the conventional ``src``/``lib``/``python`` folders holding a package, which is where
``sys.path`` points when the code runs.
"""

from __future__ import annotations

import configparser
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: no pyproject.toml reading, the other roots still count
    tomllib = None

CONVENTIONAL = ("src", "lib", "python")


def import_roots(workspace: Path) -> list[Path]:
    """The workspace itself, then the package dirs its build files name, then conventional
    folders that hold a Python package; each once, existing directories only."""
    found = [workspace, *_pyproject_roots(workspace), *_setup_cfg_roots(workspace),
             *(workspace / name for name in CONVENTIONAL if _holds_package(workspace / name))]
    roots: list[Path] = []
    for path in found:
        if path.is_dir() and path not in roots:
            roots.append(path)
    return roots


def _holds_package(folder: Path) -> bool:
    try:
        return folder.is_dir() and any(
            (child / "__init__.py").is_file() or child.suffix == ".py"
            for child in folder.iterdir())
    except OSError:
        return False


def _pyproject_roots(workspace: Path) -> list[Path]:
    if tomllib is None:
        return []
    try:
        data = tomllib.loads((workspace / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    roots = [_get(data, "tool", "setuptools", "package-dir", "")]
    roots += _list(_get(data, "tool", "setuptools", "packages", "find", "where"))
    roots += [_get(p, "from") for p in _list(_get(data, "tool", "poetry", "packages"))]
    roots += [str(Path(p).parent) for p in _list(_get(
        data, "tool", "hatch", "build", "targets", "wheel", "packages")) if isinstance(p, str)]
    return [workspace / root for root in roots if isinstance(root, str) and root]


def _get(data, *keys):
    """``data[k1][k2]...``, or None where a level is missing or not a table."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _setup_cfg_roots(workspace: Path) -> list[Path]:
    parser = configparser.ConfigParser()
    try:
        parser.read(workspace / "setup.cfg", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return []
    roots = []
    for line in parser.get("options", "package_dir", fallback="").splitlines():
        name, _, folder = line.partition("=")
        if not name.strip() and folder.strip():
            roots.append(folder.strip())
    where = parser.get("options.packages.find", "where", fallback="").strip()
    if where:
        roots.append(where)
    return [workspace / root for root in roots]
