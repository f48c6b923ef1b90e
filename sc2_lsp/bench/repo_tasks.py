"""Task files from real repositories: FIM tasks cut from installed packages' source trees.

``python -m sc2_lsp.bench.repo_tasks --packages click,jinja2,cattrs --out DIR`` copies each
package's installed source into ``DIR/<package>/`` laid out as its repository is
(``src/<package>/`` plus a ``pyproject.toml`` naming that package dir, or flat) and writes
``DIR/tasks.jsonl``: single-line tasks on a fixed sample of the statement lines inside
functions, each with ``workspace`` pointing at the copy, so imports resolve as in the real
repository. It works offline on any machine that has the packages installed; the same
packages at the same versions give the same tasks.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import shutil
import sys
from pathlib import Path

from .metrics import SINGLE_LINE
from .tasks import Task, mask_lines, statement_lines, write_jsonl

LAYOUTS = ("src", "flat")
SEED = 20261202
PYPROJECT = """[project]
name = "{name}"

[tool.setuptools.packages.find]
where = ["src"]
"""


def package_source(name: str) -> Path:
    """The installed source directory of package ``name``."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"{name!r} is not an installed package")
    return Path(next(iter(spec.submodule_search_locations)))


def copy_workspace(name: str, out: Path, layout: str) -> tuple[Path, Path]:
    """(workspace, package dir) of a fresh copy of the package's ``.py`` files."""
    workspace = out / name
    package = workspace / "src" / name if layout == "src" else workspace / name
    shutil.rmtree(workspace, ignore_errors=True)
    shutil.copytree(package_source(name), package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so"))
    if layout == "src":
        (workspace / "pyproject.toml").write_text(PYPROJECT.format(name=name))
    return workspace, package


def package_tasks(name: str, out: Path, layout: str, count: int, seed: int = SEED
                  ) -> list[Task]:
    """``count`` single-line tasks sampled (fixed seed) from the package's functions."""
    workspace, package = copy_workspace(name, out, layout)
    sources, candidates = {}, []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(workspace).as_posix()
        text = path.read_text(encoding="utf-8")
        try:
            lines = statement_lines(text)
        except SyntaxError:
            continue
        sources[rel] = text
        candidates += [(rel, line) for line in lines]
    chosen = sorted(random.Random(f"{seed}/{name}").sample(candidates,
                                                           min(count, len(candidates))))
    tasks = []
    for rel, line in chosen:
        prefix, middle, suffix = mask_lines(sources[rel], line, line)
        tasks.append(Task(task_id=f"{name}/{rel}/L{line}", language="python", path=rel,
                          prefix=prefix, suffix=suffix, middle=middle, kind=SINGLE_LINE,
                          workspace=name))
    return tasks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sc2_lsp.bench.repo_tasks",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", required=True, help="comma-separated import names")
    parser.add_argument("--layout", choices=LAYOUTS, default="src",
                        help="repository layout of the copies (default: src/<package>/)")
    parser.add_argument("--per-package", type=int, default=100, help="tasks per package")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tasks = [task for name in args.packages.split(",") if name.strip()
             for task in package_tasks(name.strip(), args.out, args.layout, args.per_package,
                                       args.seed)]
    write_jsonl(tasks, args.out / "tasks.jsonl")
    print(f"wrote {len(tasks)} tasks to {args.out / 'tasks.jsonl'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

