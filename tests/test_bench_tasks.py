"""Task sets: the built-in HumanEval/stdlib constructions and the JSONL task file."""

from __future__ import annotations

import ast
import subprocess
import sys

from sc2_lsp.bench.holdout import STDLIB_HOLDOUT
from sc2_lsp.bench.tasks import (
    Task,
    block_spans,
    humaneval_multi_line,
    humaneval_problems,
    humaneval_single_line,
    load_tasks,
    read_jsonl,
    stdlib_single_line,
    write_jsonl,
)


def _problem(number: int) -> list[dict]:
    """One HumanEval problem (building every task to pick one costs the whole set)."""
    (problem,) = [p for p in humaneval_problems() if p["task_id"] == f"HumanEval/{number}"]
    return [problem]


def test_humaneval_single_line_masks_every_non_blank_line():
    tasks = humaneval_single_line(_problem(0))
    # the solution has 8 lines, line 6 blank
    assert [t.task_id for t in tasks] == [f"HumanEval/0/L{i}" for i in (0, 1, 2, 3, 4, 5, 7)]
    third = tasks[2]
    assert third.middle == "if idx != idx2:"
    assert third.prefix.endswith("enumerate(numbers):\n            ")
    assert third.suffix.startswith("\n                distance = abs(elem - elem2)\n")
    assert third.kind == "single-line" and third.language == "python"
    assert third.path == "humaneval_0.py" and third.workspace is None
    assert third.test.rstrip().endswith("check(has_close_elements)")
    for task in tasks:  # putting the gold back gives the original program
        assert ast.parse(task.prefix + task.middle + task.suffix)


def test_humaneval_multi_line_spans_are_blocks_of_two_or_more_lines():
    tasks = humaneval_multi_line(_problem(0))
    assert [t.task_id for t in tasks] == ["HumanEval/0/L0-7", "HumanEval/0/L1-5",
                                         "HumanEval/0/L2-5", "HumanEval/0/L3-5"]
    assert tasks[-1].middle == ("distance = abs(elem - elem2)\n"
                                "                if distance < threshold:\n"
                                "                    return True")
    assert tasks[-1].suffix == "\n\n    return False\n"
    assert all(t.kind == "multi-line" for t in tasks)
    assert humaneval_multi_line(_problem(2)) == []  # a one-line solution


def test_block_spans():
    code = "a = 1\nif a:\n    b = 2\n    c = 3\n\nfor x in y:\n    pass\n"
    assert block_spans(code) == [(0, 6), (2, 3)]


def test_builtin_sets_are_deterministic():
    assert len(humaneval_single_line()) == 1033
    assert len(humaneval_multi_line()) == 268
    first, second = stdlib_single_line(), stdlib_single_line()
    assert len(first) == 400
    assert [t.task_id for t in first] == [t.task_id for t in second]
    assert {t.path for t in first} <= set(STDLIB_HOLDOUT)
    assert all(t.test is None and t.workspace for t in first)


def test_jsonl_round_trip_and_relative_workspace(tmp_path):
    (tmp_path / "repo").mkdir()
    task = Task("t1", "python", "pkg/mod.py", "def f():\n    ", "\n", "return 1",
                "single-line", workspace="repo", test="assert f() == 1")
    path = tmp_path / "tasks.jsonl"
    write_jsonl([task], path)
    loaded = read_jsonl(path)
    assert loaded[0].workspace == str((tmp_path / "repo").resolve())
    assert loaded[0].file == tmp_path.resolve() / "repo" / "pkg" / "mod.py"
    assert load_tasks(str(path), limit=1)[0].middle == "return 1"


def test_the_bench_cli_names_the_extra_when_its_libraries_are_missing():
    """Without the bench extra (rapidfuzz hidden here) the CLI still builds its whole parser
    (serve, complete, every bench) and `sc2-lsp bench NAME` says what to install, in one
    line, exit code 2."""
    hide = "import sys; sys.modules['rapidfuzz'] = None; from sc2_lsp.cli import main; "
    done = subprocess.run([sys.executable, "-c", hide + "sys.exit(main(sys.argv[1:]))",
                           "bench", "quality", "--tasks", "humaneval-sl", "--out", "x"],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("sc2-lsp: error: `sc2-lsp bench quality` needs the bench extra "
                           "(rapidfuzz is not installed): pip install 'sc2-lsp[bench]'\n")
