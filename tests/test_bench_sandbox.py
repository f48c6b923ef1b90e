"""The pass@1 runner: model-written code is killed on time and stays in its directory."""

from __future__ import annotations

import time

from sc2_lsp.bench.quality import PassAtOne
from sc2_lsp.bench.sandbox import run_program
from sc2_lsp.bench.tasks import humaneval_single_line


def test_passing_and_failing_programs():
    assert run_program("assert sum([1, 2]) == 3\n").status == "passed"
    failed = run_program("assert 1 == 2\n")
    assert failed.status == "failed" and "AssertionError" in failed.detail


def test_an_endless_loop_is_killed_within_its_timeout():
    t0 = time.monotonic()
    outcome = run_program("while True:\n    pass\n", timeout_s=2)
    assert outcome.status == "timeout"
    assert time.monotonic() - t0 < 10  # killed, not waited for


def test_cannot_write_outside_its_temporary_directory(tmp_path):
    target = tmp_path / "escaped.txt"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    program = (
        "import os\n"
        "open('inside.txt', 'w').write('ok')\n"  # its own cwd is fine
        "open(os.path.join(os.environ['TMPDIR'], 'also.txt'), 'w').write('ok')\n"
        "for attempt in (\n"
        f"    lambda: open({str(target)!r}, 'w').write('x'),\n"
        f"    lambda: open({str(victim)!r}, 'a').write('x'),\n"
        f"    lambda: os.remove({str(victim)!r}),\n"
        f"    lambda: os.chmod({str(victim)!r}, 0o777),\n"
        "):\n"
        "    try:\n"
        "        attempt()\n"
        "    except OSError:\n"
        "        continue\n"
        "    raise SystemExit('escaped')\n"
    )
    outcome = run_program(program)
    assert outcome.status == "passed", outcome.detail
    assert not target.exists()
    assert victim.read_text() == "keep"


def test_the_environment_is_stripped(monkeypatch):
    monkeypatch.setenv("SC2_SECRET", "1")
    program = ("import os\nassert 'SC2_SECRET' not in os.environ\n"
               "assert os.getcwd() == os.environ['HOME'] == os.environ['TMPDIR']\n")
    assert run_program(program).status == "passed"


def test_humaneval_gold_passes_and_a_wrong_line_fails():
    task = next(t for t in humaneval_single_line() if t.task_id == "HumanEval/0/L3")
    judge = PassAtOne(timeout_s=10)
    assert judge.passed(task, task.middle) is True
    assert judge.passed(task, "distance = 0") is False
