"""Kernel launcher: confine this process (limits, cgroup, uid, Landlock, seccomp), then exec.

Run as `python -I launch.py [OPTION VALUE]... -- CMD ARGS...`, with these options, each optional:
`--memory-mb`, `--cpu-seconds`, `--file-mb`, `--open-files` (resource limits, 0 = none),
`--cgroup DIR` (join that cgroup: its `pids.max` caps the kernel's processes), `--nproc N`
(RLIMIT_NPROC: what this uid may have running, counted by the server), `--user UID:GID` with
`--chown FILE` (give FILE, the connection file, to that user and drop root for good),
`--die-with PID` (SIGKILL when the server dies), `--landlock JSON` (folders to read, to write,
devices: see `confine.restrict`) and `--no-network 1` (the seccomp socket filter). Everything set
here is inherited by the kernel and whatever it starts, and cannot be undone from inside (soft and
hard limits are both set). Doing this in a process of its own, before any thread exists, avoids
`preexec_fn`, which is not thread-safe. It uses only the standard library (and `confine.py`, next
to it, loaded by path when a Landlock or seccomp option asks for it), inside bubblewrap or not.
A layer that was asked for and cannot be applied stops the launch (exit status 70): never a
kernel that is less confined than the server reports.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
from types import ModuleType

MIB = 1 << 20
PR_SET_PDEATHSIG = 1
CPU_GRACE_S = 5  # SIGXCPU at the soft limit, SIGKILL this much later
NPROC = 256  # processes and threads of a kernel that runs as a uid of its own
EX_SOFTWARE = 70


def _limit(which: int, value: int) -> None:
    if value > 0:
        resource.setrlimit(which, (value, value))


def _die_with(parent: int) -> None:
    """Ask Linux to SIGKILL us when the server dies (also without a chance to clean up)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the server died before the request took effect
        os._exit(1)


def _confine_module() -> ModuleType:
    """`confine.py` from this folder (`-I` keeps the folder off sys.path, and should)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "confine.py")
    spec = importlib.util.spec_from_file_location("codegen_ui_confine", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _limits(opts: dict[str, str]) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _limit(resource.RLIMIT_AS, int(opts.get("--memory-mb", "0")) * MIB)
    _limit(resource.RLIMIT_FSIZE, int(opts.get("--file-mb", "0")) * MIB)
    _limit(resource.RLIMIT_NOFILE, int(opts.get("--open-files", "0")))
    cpu = int(opts.get("--cpu-seconds", "0"))
    if cpu > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + CPU_GRACE_S))


def _join_cgroup(folder: str) -> None:
    with open(os.path.join(folder, "cgroup.procs"), "w") as procs:
        procs.write(str(os.getpid()))


def _drop_root(opts: dict[str, str]) -> None:
    uid, gid = (int(n) for n in opts["--user"].split(":"))
    if "--chown" in opts:
        os.chown(opts["--chown"], uid, gid)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def main(argv: list[str]) -> None:
    split = argv.index("--")
    opts = dict(zip(argv[:split:2], argv[1:split:2], strict=True))
    command = argv[split + 1 :]
    _limits(opts)
    if "--cgroup" in opts:
        _join_cgroup(opts["--cgroup"])
    if "--nproc" in opts or "--user" in opts:
        # RLIMIT_NPROC counts the processes of the real uid: a fork bomb stops here.
        cap = int(opts.get("--nproc", NPROC))
        resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))
    # Loaded while still root: a uid of its own may not be able to read this Python's files.
    confine = _confine_module() if "--no-network" in opts or "--landlock" in opts else None
    if "--user" in opts:
        _drop_root(opts)
    if "--die-with" in opts:
        _die_with(int(opts["--die-with"]))  # after the user change, which would clear it
    if confine is not None:
        if "--no-network" in opts:
            confine.no_network()
        if "--landlock" in opts:
            rules = json.loads(opts["--landlock"])
            confine.restrict(rules["read"], rules["write"], rules["devices"], rules["shared"])
    # ipykernel exits when its "parent" is pid 1, which is what the server looks like from inside
    # a PID namespace; the parent-death signal above (or bubblewrap's) does that job instead.
    os.environ.pop("JPY_PARENT_PID", None)
    os.execv(command[0], command)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except OSError as exc:
        print(f"codegen-ui launcher: cannot confine the kernel: {exc}", file=sys.stderr)
        sys.exit(EX_SOFTWARE)
