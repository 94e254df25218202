"""Kernel launcher: set this process's resource limits, then exec the kernel command.

Run as `python -I _launch.py [--user UID:GID --chown FILE] [--die-with PID] --memory-mb N
--cpu-seconds N --file-mb N --open-files N -- CMD ARGS...`. Limits set here are inherited by the
kernel and everything it starts, and cannot be raised again (soft and hard limits are both set).
With `--user` it gives FILE (the connection file) to that user and drops root for good. Doing
this in a process of its own, before any thread exists, avoids `preexec_fn`, which is not
thread-safe. It uses only the standard library and works the same inside bubblewrap or not.
"""

from __future__ import annotations

import os
import resource
import signal
import sys

MIB = 1 << 20
PR_SET_PDEATHSIG = 1
CPU_GRACE_S = 5  # SIGXCPU at the soft limit, SIGKILL this much later
NPROC = 256  # processes and threads of a kernel that runs as a uid of its own


def _limit(which: int, value: int) -> None:
    if value > 0:
        resource.setrlimit(which, (value, value))


def _die_with(parent: int) -> None:
    """Ask Linux to SIGKILL us when the server dies (also without a chance to clean up)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the server died before the request took effect
        os._exit(1)


def main(argv: list[str]) -> None:
    split = argv.index("--")
    opts = dict(zip(argv[:split:2], argv[1:split:2], strict=True))
    command = argv[split + 1 :]
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _limit(resource.RLIMIT_AS, int(opts["--memory-mb"]) * MIB)
    _limit(resource.RLIMIT_FSIZE, int(opts["--file-mb"]) * MIB)
    _limit(resource.RLIMIT_NOFILE, int(opts["--open-files"]))
    cpu = int(opts["--cpu-seconds"])
    if cpu > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + CPU_GRACE_S))
    if "--user" in opts:
        uid, gid = (int(n) for n in opts["--user"].split(":"))
        if "--chown" in opts:
            os.chown(opts["--chown"], uid, gid)
        # A process limit counts this uid's processes only: a fork bomb stops here.
        resource.setrlimit(resource.RLIMIT_NPROC, (NPROC, NPROC))
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    if "--die-with" in opts:
        _die_with(int(opts["--die-with"]))  # after the user change, which would clear it
    # ipykernel exits when its "parent" is pid 1, which is what the server looks like from inside
    # a PID namespace; the parent-death signal above (or bubblewrap's) does that job instead.
    os.environ.pop("JPY_PARENT_PID", None)
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
