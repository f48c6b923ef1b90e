"""The pass@1 sandbox: model-written code runs, confined, in a process of its own.

Every escape test runs under each backend this machine has (bubblewrap, which
``scripts/system-deps.sh`` installs, and the Landlock fallback) and first shows that the
thing it tries is possible from outside, so a denial inside is the sandbox's doing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sc2_lsp.bench import sandbox
from sc2_lsp.bench.quality import PassAtOne
from sc2_lsp.bench.sandbox import Outcome, run_program
from sc2_lsp.bench.tasks import humaneval_problems, humaneval_single_line

# A program that tries each of ATTEMPTS (expressions) and exits 0 only if all were refused.
DENIED_ALL = """\
import os, socket
escaped = []
for attempt in ATTEMPTS:
    try:
        eval(attempt)
    except OSError:
        continue
    escaped.append(attempt)
if escaped:
    raise SystemExit("escaped: " + repr(escaped))
"""


def _interpreter(backend: str) -> str | None:
    """An interpreter this backend can confine here, None if it confines none.

    As root, Landlock runs the program as nobody, who cannot reach an interpreter under
    /root (this machine's pyenv); the system's python3 then stands in."""
    if backend == "bwrap" and shutil.which("bwrap") is None:
        return None
    for python in (sandbox.PYTHON, "/usr/bin/python3"):
        if os.path.exists(python) and run_program("pass\n", using=backend, python=python).passed:
            return python
    return None


@pytest.fixture(scope="module", params=sandbox.BACKENDS)
def confined(request):
    """run(program) under one backend."""
    python = _interpreter(request.param)
    if python is None:
        pytest.skip(f"{request.param} cannot confine here")
    return lambda program, **kw: run_program(program, using=request.param, python=python, **kw)


def denied_all(*attempts: str) -> str:
    return f"ATTEMPTS = {list(attempts)!r}\n" + DENIED_ALL


def test_a_pure_computation_passes_and_a_wrong_one_fails(confined):
    program = ("import json, math\n"
               "assert json.dumps(sum(math.comb(10, k) for k in range(11))) == '1024'\n")
    assert confined(program) == Outcome(True, "passed")
    failed = confined("assert 1 == 2\n")
    assert (failed.passed, failed.status) == (False, "failed")
    assert failed.detail.rstrip().endswith("AssertionError")


def test_cannot_read_outside_its_directory(confined, tmp_path):
    secrets = [tmp_path / "secret.txt", Path.home() / f".sc2-sandbox-{uuid.uuid4().hex}"]
    try:
        for secret in secrets:
            secret.write_text("secret")
            os.chmod(secret, 0o644)  # readable by anyone outside the sandbox
            assert secret.read_text() == "secret"
        program = denied_all(*(f"open({str(s)!r}).read()" for s in secrets),
                             f"os.listdir({str(tmp_path)!r})", "open('/etc/hostname').read()")
        assert confined(program) == Outcome(True, "passed")
    finally:
        secrets[1].unlink(missing_ok=True)


def test_cannot_write_outside_its_directory(confined, tmp_path):
    target, victim = tmp_path / "escaped.txt", tmp_path / "victim.txt"
    victim.write_text("keep")
    os.chmod(tmp_path, 0o777)  # writable by anyone outside the sandbox
    os.chmod(victim, 0o666)
    program = (
        "import os\n"
        "open('inside.txt', 'w').write('ok')\n"  # its own directory is fine
        "open(os.path.join(os.environ['TMPDIR'], 'also.txt'), 'w').write('ok')\n"
        + denied_all(f"open({str(target)!r}, 'w').write('x')",
                     f"open({str(victim)!r}, 'a').write('x')",
                     f"os.remove({str(victim)!r})", f"os.chmod({str(victim)!r}, 0o600)",
                     f"os.mkdir({str(tmp_path / 'dir')!r})"))
    assert confined(program) == Outcome(True, "passed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["victim.txt"]
    assert victim.read_text() == "keep" and victim.stat().st_mode & 0o777 == 0o666


def test_cannot_connect_to_a_local_listener(confined):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):  # reachable from outside
            listener.accept()[0].close()
        program = denied_all(f"socket.create_connection(('127.0.0.1', {port}), timeout=2)")
        assert confined(program) == Outcome(True, "passed")
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):  # nothing knocked
            listener.accept()


def test_cannot_signal_a_process_outside(confined):
    program = denied_all(f"os.kill({os.getpid()}, 0)")
    assert confined(program) == Outcome(True, "passed")


def test_memory_and_time_are_limited(confined):
    hog = confined("block = bytearray(4 << 30)\n")
    assert (hog.status, hog.detail.rstrip().endswith("MemoryError")) == ("failed", True)
    assert confined("while True:\n    pass\n", timeout_s=1) == Outcome(False, "timeout")


def test_the_environment_is_stripped(confined, monkeypatch):
    monkeypatch.setenv("SC2_SECRET", "1")
    program = ("import os\nassert 'SC2_SECRET' not in os.environ\n"
               "assert os.getcwd() == os.environ['HOME'] == os.environ['TMPDIR']\n")
    assert confined(program) == Outcome(True, "passed")


def test_the_bench_refuses_pass_at_1_where_nothing_confines():
    """Without bubblewrap on PATH only Landlock is left: it confines or the refusal names
    both backends in one message."""
    probe = ("from sc2_lsp.bench.sandbox import backend, SandboxUnavailable\n"
             "try:\n    print(backend())\nexcept SandboxUnavailable as exc:\n    print(exc)\n")
    env = {**os.environ, "PATH": "/nonexistent"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    if run_program("pass\n", using="landlock").passed:
        assert out == "landlock"
    else:
        assert out.startswith("pass@1 refused: no sandbox can confine model-written code here "
                              "(bwrap: not installed (Debian/Ubuntu: apt-get install bubblewrap)"
                              "; landlock: jail: ")
        assert out.count("\n") == 0


def test_humaneval_gold_passes_and_a_wrong_line_fails():
    task = next(t for t in humaneval_single_line(humaneval_problems()[:1])
                if t.task_id == "HumanEval/0/L3")
    judge = PassAtOne(timeout_s=10)
    assert judge.passed(task, task.middle) is True
    assert judge.passed(task, "distance = 0") is False
