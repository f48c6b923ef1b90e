"""Runs untrusted test code confined to one directory: ``python -I -B jail.py DIR SCRIPT``.

Started by ``sandbox.run_program`` as a fresh interpreter (no ``preexec_fn`` in a
multi-threaded parent), this script confines *itself* and then runs SCRIPT in-process:

1. resource limits: address space, CPU seconds, file size, process count;
2. as root, it becomes ``nobody`` (so RLIMIT_NPROC counts and root's files, modes and
   owners are out of reach) keeping one capability, CAP_DAC_READ_SEARCH, because the
   interpreter may live in root's home; an exec'd program loses even that;
3. Landlock (Linux ≥ 5.13, no privileges needed): writing, creating, removing or renaming
   anything outside DIR is denied, as are TCP bind/connect and signals to other processes
   where the kernel's Landlock ABI has them. Landlock missing is an error, not a silent
   downgrade: the bench refuses to run model-written code unconfined.

Only the standard library is imported: this file runs outside the package.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import resource
import runpy
import sys

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # same on all arches
PR_SET_KEEPCAPS, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 8, 24, 38
CAP_VERSION_3, CAP_LAST, CAP_DAC_READ_SEARCH = 0x20080522, 63, 2
RULE_PATH_BENEATH = 1
# LANDLOCK_ACCESS_FS_*: every right that changes the file system (ABI 1..3)
WRITE_FILE, REMOVE_DIR, REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
MAKE_ANY = sum(1 << bit for bit in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
REFER, TRUNCATE = 1 << 13, 1 << 14
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def main(argv: list[str]) -> None:
    root, script, limits = argv[1], argv[2], [int(v) for v in argv[3:6]]
    set_limits(*limits)
    libc = ctypes.CDLL(None, use_errno=True)
    if os.getuid() == 0:
        become_nobody(libc)
    confine_writes(libc, root)
    sys.argv = [script]
    runpy.run_path(script, run_name="__main__")


def set_limits(memory_mb: int, cpu_s: int, file_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb << 20, file_mb << 20))
    resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def become_nobody(libc) -> None:
    for cap in range(CAP_LAST + 1):
        if cap != CAP_DAC_READ_SEARCH:
            libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the kernel's last cap
    nobody = pwd.getpwnam("nobody")
    _check(libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), "keepcaps")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
    keep = 1 << CAP_DAC_READ_SEARCH
    caps = (CapData * 2)(CapData(keep, keep, 0))
    _check(libc.capset(ctypes.byref(CapHeader(CAP_VERSION_3, 0)), caps), "capset")


def confine_writes(libc, root: str) -> None:
    abi = libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        raise SystemExit("jail: Landlock is not available; refusing to run untrusted code")
    fs = WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_ANY
    fs |= (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0)
    attr = RulesetAttr(fs, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                       SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = _check(libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr),
                                        ctypes.c_size_t(size), ctypes.c_uint32(0)))
    for path, access in ((root, fs), ("/dev/null", WRITE_FILE | (TRUNCATE if abi >= 3 else 0))):
        fd = os.open(path, os.O_PATH)
        rule = PathBeneathAttr(access, fd)
        _check(libc.syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule),
                                  ctypes.c_uint32(0)))
        os.close(fd)
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
    _check(libc.syscall(SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)))
    os.close(ruleset)


def _check(result: int, what: str = "Landlock setup") -> int:
    if result < 0:
        raise SystemExit(f"jail: {what} failed: {os.strerror(ctypes.get_errno())}")
    return result


if __name__ == "__main__":
    main(sys.argv)
