"""pass@1 by execution: model-written code runs in a separate, confined process.

Each program gets a fresh temporary directory as cwd, HOME and TMPDIR, an environment with
nothing of ours in it, CPU, memory, file-size and process limits (``jail.py``) and a
wall-clock timeout that kills its whole process group. Confinement, best first:

- ``bwrap`` (bubblewrap): new user, mount, network, PID, IPC and UTS namespaces, every
  capability dropped; the file system holds only the temporary directory (read-write), the
  interpreter's prefix and the system libraries (read-only), a minimal /dev and /proc;
- ``landlock``: ``jail.py`` confines itself (see there) where bubblewrap is missing.

The program runs on the interpreter the venv was made from, not the venv: it needs the
standard library only. Where neither backend can confine, ``backend()`` raises
``SandboxUnavailable`` with one message saying why and what to install; the bench then
refuses pass@1 rather than run model-written code unconfined.
"""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

JAIL = Path(__file__).with_name("jail.py")
JAIL_INSIDE = "/run/sc2-jail.py"  # where bubblewrap mounts jail.py
TIMEOUT_S = 10.0
MEMORY_MB, FILE_MB = 1024, 16
BACKENDS = ("bwrap", "landlock")
PYTHON = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
SYSTEM_LIBRARIES = ("/lib", "/lib64", "/usr/lib", "/usr/lib64")


class SandboxUnavailable(RuntimeError):
    """No backend can confine model-written code on this machine."""


@dataclass
class Outcome:
    passed: bool
    status: str  # passed | failed | timeout
    detail: str = ""  # the tail of stderr, for a failed run


@functools.cache
def backend() -> str:
    """The first backend that confines a trivial program here, else SandboxUnavailable."""
    reasons = []
    for name in BACKENDS:
        if name == "bwrap" and shutil.which("bwrap") is None:
            reasons.append("bwrap: not installed (Debian/Ubuntu: apt-get install bubblewrap)")
            continue
        probe = run_program("pass\n", using=name)
        if probe.passed:
            return name
        lines = probe.detail.strip().splitlines()
        reasons.append(f"{name}: {lines[-1] if lines else probe.status}")
    raise SandboxUnavailable("pass@1 refused: no sandbox can confine model-written code here ("
                             + "; ".join(reasons) + ")")


def run_program(program: str, timeout_s: float = TIMEOUT_S, using: str | None = None,
                python: str = PYTHON) -> Outcome:
    """Run `program` (Python source) on `python`, confined by backend `using` (default: the
    first that works here); passed when it exits 0 within the timeout."""
    mode = using or backend()
    with tempfile.TemporaryDirectory(prefix="sc2-pass1-") as tmp:
        tmp = os.path.realpath(tmp)
        script = Path(tmp) / "program.py"
        script.write_text(program, encoding="utf-8")
        if mode == "landlock" and os.getuid() == 0:  # the jail runs the program as nobody
            nobody = pwd.getpwnam("nobody")
            for path in (tmp, script):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8"}
        jail = JAIL_INSIDE if mode == "bwrap" else str(JAIL)
        cmd = [python, "-I", "-B", jail, mode, tmp, str(script),
               str(MEMORY_MB), str(int(timeout_s) + 1), str(FILE_MB), *readable(python)]
        if mode == "bwrap":
            cmd = bwrap_command(tmp, env, python) + cmd
        return _run(cmd, tmp, env, timeout_s)


def bwrap_command(tmp: str, env: dict[str, str], python: str) -> list[str]:
    """bubblewrap's arguments: a root holding only `tmp`, the interpreter and jail.py."""
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--clearenv", "--proc", "/proc", "--dev", "/dev"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    for path in SYSTEM_LIBRARIES:
        if os.path.islink(path):
            cmd += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            cmd += ["--ro-bind", path, path]
    prefix = readable(python)[0]
    cmd += ["--ro-bind", prefix, prefix, "--ro-bind", str(JAIL), JAIL_INSIDE,
            "--bind", tmp, tmp, "--chdir", tmp, "--"]
    return cmd


def readable(python: str) -> list[str]:
    """What a program may read besides its directory: the interpreter's own files, i.e. its
    prefix (PREFIX/bin/python3.x) and the system libraries it links."""
    return [os.path.dirname(os.path.dirname(os.path.realpath(python))), *SYSTEM_LIBRARIES]


def _run(cmd: list[str], cwd: str, env: dict[str, str], timeout_s: float) -> Outcome:
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return Outcome(False, "timeout")
    finally:
        _kill_group(proc)  # on a timeout, and children it left behind
    if proc.returncode == 0:
        return Outcome(True, "passed")
    return Outcome(False, "failed", err.decode("utf-8", "replace")[-500:])


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
