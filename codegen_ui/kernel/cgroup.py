"""A pids cgroup per kernel, where the host lets the server make one; else nothing.

`parent()` finds the server's own cgroup in the pids hierarchy (cgroup v1 `pids`, or v2 with the
`pids` controller delegated to it) and checks once that the server may make child groups there
with a `pids.max` of their own. `create()` makes one for a kernel with its process cap (and, on
v2 with `memory` delegated, `memory.max`); the launcher moves itself in before it execs, so the
kernel and everything it starts count against that cap, whatever uid they run as (root
included, which RLIMIT_NPROC exempts). `remove()` deletes the group once the kernel is gone.
Where none of this is possible the kernel gets RLIMIT_NPROC instead (see `layers.py`).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import time
from pathlib import Path


@functools.cache
def parent() -> Path | None:
    """The folder under which kernel groups go, or None when the server may not make them."""
    for folder in _candidates():
        probe = folder / f"codegen-ui-probe-{os.getpid()}"
        try:
            probe.mkdir()
        except OSError:
            continue
        try:
            if (probe / "pids.max").exists() and os.access(probe / "cgroup.procs", os.W_OK):
                return folder
        finally:
            with contextlib.suppress(OSError):
                probe.rmdir()
    return None


def _candidates() -> list[Path]:
    """This process's cgroup folder in each mounted hierarchy that has the pids controller."""
    try:
        own = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in own:
        hierarchy, controllers, path = line.split(":", 2)
        v2 = hierarchy == "0"
        if not v2 and "pids" not in controllers.split(","):
            continue
        for mount in mounts:
            fields, _, rest = mount.partition(" - ")
            fstype, _, options = [*rest.split(" "), "", ""][:3]
            root, point = fields.split(" ")[3:5]
            if (v2 and fstype == "cgroup2") or (
                not v2 and fstype == "cgroup" and "pids" in options.split(",")
            ):
                inside = os.path.relpath(path, root) if path.startswith(root) else None
                if inside is not None:
                    found.append(Path(point) / inside)
    return [f.resolve() for f in found if f.is_dir()]


def create(name: str, processes: int, memory_bytes: int) -> Path | None:
    """A group for one kernel, capped; None where cgroups are not available to the server."""
    top = parent()
    if top is None or processes <= 0:
        return None
    _retry_pending()
    group = top / f"codegen-ui-{name}"
    try:
        group.mkdir(exist_ok=True)
        (group / "pids.max").write_text(str(processes))
        if memory_bytes > 0 and (group / "memory.max").exists():
            (group / "memory.max").write_text(str(memory_bytes))
    except OSError:
        remove(group)
        return None
    return group


def remove(group: Path | None, wait_s: float = 3.0) -> None:
    """Delete a kernel's group once it is empty: call this after its processes were killed.
    A killed process counts until it is reaped, so this waits a little; a group still busy then
    is tried again at the next `create` and at exit."""
    if group is None:
        return
    deadline = time.monotonic() + wait_s
    while not _rmdir(group):
        if time.monotonic() > deadline:
            if not _PENDING:
                atexit.register(_retry_pending)
            _PENDING.add(group)
            return
        time.sleep(0.05)


_PENDING: set[Path] = set()


def _rmdir(group: Path) -> bool:
    try:
        group.rmdir()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _retry_pending() -> None:
    for group in list(_PENDING):
        if _rmdir(group):
            _PENDING.discard(group)


def members(group: Path | None) -> list[int]:
    """The processes in a kernel's group: what it started, escaped or not."""
    if group is None:
        return []
    try:
        return [int(pid) for pid in (group / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []
