"""Confine the calling process with Landlock and a seccomp socket filter (ctypes, no privilege).

`landlock_abi()` says which Landlock ABI the running kernel offers (0: none). `restrict()` allows
this process and everything it later execs or forks to read only the given folders and to write
only the given ones; from ABI 4 on it also forbids every TCP bind and connect, and from ABI 6 on
it keeps signals and abstract unix sockets inside the process's own domain. `no_network()` makes
`socket()` and `socketpair()` fail for every address family but AF_UNIX (UDP, raw and netlink
included) and turns io_uring off, which could make sockets without those calls. Neither can be
undone by the confined process.

The kernel launcher loads this file by path before it execs ipykernel, so it uses only the
standard library; the server imports it to probe what the host offers. It starts no process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from collections.abc import Sequence

# The three Landlock system calls have these numbers on every architecture.
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

# Filesystem rights (uapi/linux/landlock.h); each ABI handles the ones below its bound.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_FILE, MAKE_REG = 1 << 5, 1 << 8
TRUNCATE, IOCTL_DEV = 1 << 14, 1 << 15
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # allowed on a file
READ = EXECUTE | READ_FILE | READ_DIR
DEVICE = READ_FILE | WRITE_FILE  # /dev/null and friends
# /dev/shm (POSIX semaphores and shared memory, which multiprocessing needs): make, use and
# remove files there, but not list them.
SHARED = MAKE_REG | READ_FILE | WRITE_FILE | REMOVE_FILE | TRUNCATE
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_NE = 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("a", ctypes.c_uint64),
        ("b", ctypes.c_uint64),
    ]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def landlock_abi() -> int:
    """The Landlock ABI version of the running kernel; 0 when it has none or it is disabled."""
    version = _libc().syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), CREATE_RULESET_VERSION)
    return int(version) if version > 0 else 0


def handled_fs(abi: int) -> int:
    """Every filesystem right the given ABI knows: all of them are denied unless a rule allows."""
    top = 16 if abi >= 5 else 15 if abi >= 3 else 14 if abi >= 2 else 13
    return (1 << top) - 1


def restrict(
    read: list[str], write: list[str], devices: list[str], shared: Sequence[str] = ()
) -> int:
    """Apply Landlock to this process; returns the ABI used. Missing paths are skipped."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError(errno.ENOSYS, "Landlock is not available in this kernel")
    fs = handled_fs(abi)
    attr = _RulesetAttr(
        fs,
        NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
        SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if abi >= 6 else 0,
    )
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8  # the struct grew with the ABI
    libc = _libc()
    ruleset = libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for paths, rights in ((read, READ), (write, fs), (devices, DEVICE), (shared, SHARED)):
            for path in paths:
                _allow(libc, int(ruleset), path, rights & fs)
        _no_new_privs(libc)
        if libc.syscall(SYS_RESTRICT_SELF, int(ruleset), 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(int(ruleset))
    return abi


def _allow(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # not on this host (/lib32, an /etc file): nothing to allow
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS  # directory rights on a file are an error
        rule = _PathBeneath(rights, fd)
        if libc.syscall(SYS_ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)


def _no_new_privs(libc: ctypes.CDLL) -> None:
    """Required by both layers: no setuid program can give the process its privileges back."""
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def libseccomp() -> ctypes.CDLL | None:
    """The system's libseccomp, or None where it is not installed."""
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgCmp),
    ]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)  # SCMP_ACT_ERRNO(code)


def no_network() -> None:
    """Load the socket filter into this process (libseccomp checks the architecture too)."""
    lib = libseccomp()
    if lib is None:
        raise OSError(errno.ENOSYS, "libseccomp is not installed")
    _no_new_privs(_libc())
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError(errno.ENOMEM, "seccomp_init failed")
    try:
        not_unix = (_ArgCmp * 1)(_ArgCmp(0, SCMP_CMP_NE, 1, 0))  # argument 0 != AF_UNIX (1)
        for name in (b"socket", b"socketpair"):
            number = lib.seccomp_syscall_resolve_name(name)
            rc = lib.seccomp_rule_add_array(ctx, _errno_action(errno.EPERM), number, 1, not_unix)
            if rc != 0:
                raise OSError(-rc, f"seccomp rule for {name.decode()} failed")
        for name in (b"io_uring_setup", b"io_uring_enter", b"io_uring_register"):
            number = lib.seccomp_syscall_resolve_name(name)
            if number >= 0:
                lib.seccomp_rule_add_array(ctx, _errno_action(errno.ENOSYS), number, 0, None)
        rc = lib.seccomp_load(ctx)
        if rc != 0:
            raise OSError(-rc, "seccomp_load failed")
    finally:
        lib.seccomp_release(ctx)
