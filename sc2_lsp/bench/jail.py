"""Runs untrusted code confined:
``python -I -B jail.py MODE DIR SCRIPT MEM_MB CPU_S FILE_MB READABLE…``.

Started by ``sandbox.run_program`` as a fresh interpreter (no ``preexec_fn`` in a
multi-threaded parent), this script confines *itself* and then runs SCRIPT, so SCRIPT runs
in a process of its own with what is left:

- both modes: resource limits (address space, CPU seconds, file size, process count, no
  core files) and ``sys.path[0]`` = DIR, as if SCRIPT had been started directly;
- ``bwrap``: nothing more, bubblewrap has already confined the process (namespaces, no
  capabilities, only DIR and the interpreter's files mounted);
- ``landlock``: the fallback where bubblewrap is missing, Linux ≥ 5.13, no privileges
  needed. Every capability goes (as root it becomes ``nobody``, so root's files, modes and
  processes are out of reach; the interpreter must then be readable by nobody); Landlock
  allows reading only beneath DIR and the READABLE paths (the interpreter's prefix and the
  system libraries), and writing only beneath DIR; the network is cut by a fresh network
  namespace (as root) or by Landlock (ABI ≥ 4); signals to other processes by running as
  nobody or by Landlock
  (ABI ≥ 6). Whatever of that cannot be had is an error, never a silent downgrade: the
  bench refuses to run model-written code it cannot confine.

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
CAP_VERSION_3, CAP_LAST = 0x20080522, 63
CLONE_NEWNET = 0x40000000
RULE_PATH_BENEATH = 1
# LANDLOCK_ACCESS_FS_*
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR, REMOVE_DIR, REMOVE_FILE = (1 << b for b in range(6))
MAKE_ANY = sum(1 << bit for bit in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
REFER, TRUNCATE = 1 << 13, 1 << 14  # ABI 2, ABI 3
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE  # all a rule on a file may grant
READ = EXECUTE | READ_FILE | READ_DIR
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
    mode, root, script, limits = argv[1], argv[2], argv[3], [int(v) for v in argv[4:7]]
    set_limits(*limits)
    if mode == "landlock":
        confine(root, argv[7:])
    elif mode != "bwrap":
        raise SystemExit(f"jail: unknown mode {mode!r}")
    sys.argv, sys.path[0] = [script], root
    runpy.run_path(script, run_name="__main__")


def set_limits(memory_mb: int, cpu_s: int, file_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb << 20, file_mb << 20))
    resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def confine(root: str, readable: list[str]) -> None:
    """The Landlock mode: no network, no capabilities, then the file system rules."""
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        raise SystemExit("jail: Landlock is not available; refusing to run untrusted code")
    as_root = os.getuid() == 0
    if as_root:  # a namespace of its own: only a loopback device nobody listens on
        _check(libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
    elif abi < 4:
        raise SystemExit(f"jail: Landlock ABI {abi} cannot cut the network (needs 4)")
    if not as_root and abi < 6:
        raise SystemExit(f"jail: Landlock ABI {abi} cannot scope signals (needs 6)")
    drop_capabilities(libc, as_root)
    prefix = os.path.realpath(sys.base_prefix)
    if not os.access(prefix, os.R_OK | os.X_OK):
        raise SystemExit(f"jail: the interpreter's {prefix} is unreadable as nobody")
    restrict_files(libc, abi, root, readable)


def drop_capabilities(libc, as_root: bool) -> None:
    """Empty the bounding set (nothing to regain on exec) and every capability set; as root,
    become nobody first, so the owner bits of root's files and processes no longer apply."""
    for cap in range(CAP_LAST + 1):
        # EINVAL past the kernel's last, EPERM unprivileged.
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    if as_root:
        nobody = pwd.getpwnam("nobody")
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    caps = (CapData * 2)(CapData(0, 0, 0), CapData(0, 0, 0))
    _check(libc.capset(ctypes.byref(CapHeader(CAP_VERSION_3, 0)), caps), "capset")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def restrict_files(libc, abi: int, root: str, readable: list[str]) -> None:
    """Reads beneath DIR and `readable`, writes beneath DIR (and /dev/null), TCP and signals
    denied where the ABI has them; every other file system access is refused."""
    writes = WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_ANY
    writes |= (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0)
    attr = RulesetAttr(READ | writes, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                       SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = _check(libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr),
                                  ctypes.c_size_t(size), ctypes.c_uint32(0)))
    rules = [(root, READ | writes), ("/dev/null", READ_FILE | WRITE_FILE | TRUNCATE)]
    rules += [(path, READ) for path in readable if os.path.exists(path)]
    for path, access in rules:
        fd = os.open(path, os.O_PATH)
        allowed = access & attr.handled_access_fs
        if not os.path.isdir(path):
            allowed &= FILE_RIGHTS
        rule = PathBeneathAttr(allowed, fd)
        _check(libc.syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule),
                            ctypes.c_uint32(0)), f"Landlock rule for {path}")
        os.close(fd)
    _check(libc.syscall(SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)))
    os.close(ruleset)


def _check(result: int, what: str = "Landlock setup") -> int:
    if result < 0:
        raise SystemExit(f"jail: {what} failed: {os.strerror(ctypes.get_errno())}")
    return result


if __name__ == "__main__":
    main(sys.argv)
