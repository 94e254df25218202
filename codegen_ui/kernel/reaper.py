"""Find and kill what a kernel left running: its descendants, the processes of its cgroup (where
it has one), and (without a PID namespace) processes that still carry its environment marker
after escaping with `setsid` or a double fork.

Bubblewrap's PID namespace already kills everything inside when the kernel goes; this is the
layer that also works without it. Without a cgroup it cannot find a process that both left the
kernel's tree and scrubbed its environment; the security model (docs) says so.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from typing import Any

MARKER_VAR = "CODEGEN_UI_KERNEL"  # set in every kernel's environment to its folder's name


def leftovers(pid: int | None, marker: str | None, members: Sequence[int] = ()) -> list[Any]:
    """Processes to kill once the kernel `pid` is gone (collected before, while the tree exists):
    its descendants, those carrying `marker`, and `members` (its cgroup's processes)."""
    import psutil

    found: dict[int, Any] = {}
    for member in members:
        try:
            found[member] = psutil.Process(member)
        except psutil.Error:
            continue
    if pid is not None:
        try:
            for child in psutil.Process(pid).children(recursive=True):
                found[child.pid] = child
        except psutil.Error:
            pass
    if marker is not None:
        for proc in psutil.process_iter():
            try:
                if proc.pid not in found and proc.environ().get(MARKER_VAR) == marker:
                    found[proc.pid] = proc
            except psutil.Error:
                continue  # gone, a zombie, or not ours to read
    found.pop(os.getpid(), None)
    return list(found.values())


def kill_leftovers(procs: list[Any], wait_s: float = 3.0) -> None:
    import psutil

    for proc in procs:
        # psutil checks that the process is still the same one (pid reuse) before signalling.
        with contextlib.suppress(psutil.Error):
            proc.kill()
    # Wait until each is gone or a zombie (a dead process whose new parent has not reaped it yet).
    deadline = time.monotonic() + wait_s
    while procs and time.monotonic() < deadline:
        procs = [p for p in procs if _running(p)]
        if procs:
            time.sleep(0.05)


def _running(proc: Any) -> bool:
    import psutil

    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False
