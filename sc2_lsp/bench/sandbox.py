"""pass@1 by execution: model-written code runs confined (see ``jail.py``), never in-process.

Each program gets a fresh temporary directory as cwd, HOME and TMPDIR, an environment with
nothing of ours in it, a wall-clock timeout (the whole process group is killed) on top of
the CPU limit, and cannot write outside that directory.
"""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

JAIL = Path(__file__).with_name("jail.py")
TIMEOUT_S = 10.0
MEMORY_MB, FILE_MB = 1024, 16


@dataclass
class Outcome:
    passed: bool
    status: str  # passed | failed | timeout
    detail: str = ""  # the tail of stderr, for a failed run


def run_program(program: str, timeout_s: float = TIMEOUT_S) -> Outcome:
    """Run `program` (Python source) confined; passed when it exits 0 within the timeout."""
    with tempfile.TemporaryDirectory(prefix="sc2-pass1-") as tmp:
        script = Path(tmp) / "program.py"
        script.write_text(program, encoding="utf-8")
        if os.getuid() == 0:  # the jail runs the program as nobody
            nobody = pwd.getpwnam("nobody")
            for path in (tmp, script):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8"}
        cmd = [sys.executable, "-I", "-B", str(JAIL), tmp, str(script),
               str(MEMORY_MB), str(int(timeout_s) + 1), str(FILE_MB)]
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return Outcome(False, "timeout")
        finally:
            _kill_group(proc)  # children it left behind
    if proc.returncode == 0:
        return Outcome(True, "passed")
    return Outcome(False, "failed", err.decode("utf-8", "replace")[-500:])


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
