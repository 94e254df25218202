"""The kernel seam: one sandboxed IPython kernel that runs code and returns notebook outputs.

`Kernel.run` follows the policy every backend shares (`cellrun.py`): code goes with
`allow_stdin=False` (so `input()` fails at once), the kernel's IOPub messages become capped
nbformat outputs and the run ends on `status: idle`; errors in the user's code are data (an error
output); past its deadline a cell is interrupted, then the kernel restarted; a kernel that dies is
seen within a poll and restarted. This module holds the local mechanics: starting the confined
process through jupyter-client, restarting and interrupting it, and, on restart and shutdown,
killing what the kernel left running. It also watches the kernel's folder: a run whose folder
passes the session's quota is stopped like one past its deadline (`_watch`, a
`watch.FolderWatch`), and a kernel whose folder grows by a quota between cells is killed
(`watch.FolderGuard`, paused while a cell runs); the next run says why. How the process is
confined lives in `sandbox.py`; how many kernels may live, in `pool.py`; the types it returns,
in the domain's port (`codegen_ui.core`).
Nothing above this seam sees ZMQ messages.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from codegen_ui.core import KernelError, Output, RunResult
from codegen_ui.files import SHARED_TMP, FolderFiles, remove_owned
from codegen_ui.kernel import cgroup
from codegen_ui.kernel.cellrun import CellRunner
from codegen_ui.kernel.folders import KernelDirs
from codegen_ui.kernel.layers import SandboxInfo, hide_server
from codegen_ui.kernel.layers import sandbox_info as resolve_sandbox
from codegen_ui.kernel.reaper import kill_leftovers, leftovers
from codegen_ui.kernel.runtime import (
    closes_thread_loop,
    log_tail,
    manager_pid,
    new_manager,
    register,
    spawned,
    unregister,
)
from codegen_ui.kernel.sandbox import KernelConfig, kernel_argv, kernel_env, placement
from codegen_ui.kernel.watch import FolderGuard, FolderWatch
from codegen_ui.settings import DEFAULTS

LOG = "kernel.log"  # in the kernel's folder: its stdout and stderr


class Slots(Protocol):
    """A cap on live kernels (`pool.Capacity`): `take` raises KernelError when full."""

    def take(self) -> None: ...
    def give(self) -> None: ...


class Kernel(CellRunner):
    """One ipykernel process with a blocking client. Not thread-safe: one run at a time."""

    def __init__(
        self,
        cwd: str | Path | None = None,
        startup_timeout: float | None = None,
        config: KernelConfig | None = None,
        slots: Slots | None = None,
    ) -> None:
        self.cwd = str(cwd) if cwd is not None else None
        self.config = config or KernelConfig()
        self.startup_timeout = startup_timeout or self.config.startup_timeout
        self.slots = slots
        self.info: SandboxInfo | None = None
        self.dirs: KernelDirs | None = None
        self.last_used = time.monotonic()
        self.parked = False  # stopped by the idle sweep; the next run starts it again
        self._km: Any = None
        self._kc: Any = None
        self._log: IO[bytes] | None = None
        self._slot = False  # holds one of `slots`
        self._user: tuple[int, int] | None = None  # (uid, gid) it runs as, when not root
        self._cgroup: Path | None = None  # its pids cgroup, where the host offers one
        self._guard: FolderGuard | None = None  # its folder between cells
        self._stopped_why = ""  # why the guard stopped it, for the next run's note

    def __enter__(self) -> Kernel:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    @property
    def workdir(self) -> Path | None:
        """The kernel's working folder (its cwd), or None before start."""
        if self.cwd is not None:
            return Path(self.cwd)
        return self.dirs.work if self.dirs is not None else None

    @property
    def files(self) -> FolderFiles:
        """Its working folder's user files (the seam a remote kernel fills in its own way)."""
        if self.workdir is None:
            raise KernelError("the kernel is not started")
        return FolderFiles(self.workdir)

    @property
    def sandbox_mode(self) -> str:
        return self.info.mode if self.info is not None else "none"

    @property
    def sandbox_layers(self) -> str:
        """The layers it runs under ("bubblewrap + process cap + limits"); "" before start."""
        return self.info.active() if self.info is not None else ""

    def describe(self) -> str:
        """One line for the UI: the sandbox this kernel runs in."""
        return (self.info or resolve_sandbox(self.config.sandbox)).describe()

    @closes_thread_loop
    def start(self) -> None:
        """Start the kernel process (taking a slot) and wait until it answers."""
        if self._km is not None:
            return
        info = self.info = resolve_sandbox(self.config.sandbox)
        if self.config.sandbox in ("bwrap", "landlock") and info.mode != self.config.sandbox:
            raise KernelError(info.reason)
        hide_server()
        if self.slots is not None:
            self.slots.take()
            self._slot = True
        was_parked, self.parked = self.parked, False
        register(self)
        try:
            self._launch(info)
        except Exception as exc:
            detail = self._log_tail()
            self.shutdown(keep_folder=was_parked)  # a parked kernel's folder has the user's files
            raise KernelError(f"the Python kernel could not start: {exc}{detail}") from exc

    def _launch(self, info: SandboxInfo) -> None:
        if self.dirs is None:
            self.dirs = KernelDirs.create(self.config.kernels_dir)
        dirs = self.dirs
        cwd = Path(self.cwd) if self.cwd is not None else dirs.work
        place = placement(info, self.config, dirs, self._user, self._cgroup)
        self._user, self._cgroup = place.user, place.cgroup
        km = self._km = new_manager(kernel_argv(self.config, info, dirs, cwd, place), dirs.ipc)
        log = self._log = (dirs.base / LOG).open("ab")
        env = kernel_env(dirs, info.mode, place.python)
        spawned(lambda: km.start_kernel(cwd=str(cwd), env=env, stdout=log, stderr=log))
        self._kc = km.blocking_client()
        self._kc.start_channels()
        self._kc.wait_for_ready(timeout=self.startup_timeout)

    def _log_tail(self) -> str:
        return log_tail(self.dirs.base / LOG) if self.dirs is not None else ""

    @property
    @closes_thread_loop
    def is_alive(self) -> bool:
        return bool(self._km is not None and self._km.is_alive())

    def _started(self) -> bool:
        return self._km is not None

    def _client(self) -> Any:
        return self._kc

    def _alive(self) -> bool:
        return self.is_alive

    def _drop_link(self) -> None:
        """Nothing to drop: a local kernel declares no link errors, so no run calls this."""

    @closes_thread_loop
    def run(
        self,
        code: str,
        timeout: float = DEFAULTS.run_timeout,
        on_output: Callable[[Output], None] | None = None,
    ) -> RunResult:
        """Run code by the shared policy (`cellrun`), closing this thread's loop after it."""
        return super().run(code, timeout, on_output)

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        """While a cell runs, its own watch looks after the folder: the guard waits, and counts
        growth again from where the cell left the folder."""
        guard = self._guarded()
        try:
            yield
        finally:
            if guard is not None:
                guard.resume()

    def _stop_reason(self) -> str:
        why, self._stopped_why = self._stopped_why, ""
        return why

    def _watch(self) -> FolderWatch | None:
        """The folder watch of one run: the kernel's folder (and a cwd the caller chose)."""
        if not self.config.folder.bytes or self.dirs is None:
            return None
        uid = self._user[0] if self._user else None
        return FolderWatch(self.config.folder, self._roots(), uid, self._unwatched())

    def _unwatched(self) -> list[Path]:
        # Its log takes what the kernel prints to its own stdout and stderr. RLIMIT_FSIZE caps it
        # like any file, and counting it could stop every cell of a chatty kernel for good (no
        # one can delete it).
        return [self.dirs.base / LOG] if self.dirs is not None else []

    def _roots(self) -> list[Path]:
        assert self.dirs is not None
        roots = [self.dirs.base]
        if self.cwd is not None and not Path(self.cwd).is_relative_to(self.dirs.base):
            roots.append(Path(self.cwd))
        return roots

    def _guarded(self) -> FolderGuard | None:
        """The folder guard, started (again, after it stopped the kernel) and paused for a run."""
        quota = self.config.folder
        if not quota.bytes or self.dirs is None or self._km is None:
            return None
        if self._guard is None or not self._guard.alive:
            if self._guard is not None:
                self._guard.stop()
            uid = self._user[0] if self._user else None
            self._guard = FolderGuard(
                quota, self._roots(), uid, self._over_between, self._unwatched()
            )
            self._guard.start()
        self._guard.pause()
        return self._guard

    def _over_between(self, reason: str) -> None:
        """From the guard's thread: the folder grew by a quota between cells; kill the kernel
        and what it started (the next run restarts it and says why)."""
        km = self._km
        pid = manager_pid(km) if km is not None else None
        if pid is None:
            return
        import psutil

        self._stopped_why = (
            f"was stopped between cells ({reason}, written by something the code started)"
        )
        procs = self._leftovers()
        with contextlib.suppress(psutil.Error):
            procs.append(psutil.Process(pid))
        kill_leftovers(procs)

    @closes_thread_loop
    def interrupt(self) -> None:
        if self._km is not None and self.is_alive:
            self._km.interrupt_kernel()

    @closes_thread_loop
    def restart(self) -> None:
        """A fresh kernel process; every variable is gone, and so is what the old one started."""
        if self._km is None:
            raise KernelError("the kernel is not started")
        left = self._leftovers()
        try:
            spawned(lambda: self._km.restart_kernel(now=True))
            kill_leftovers(left)
            self._kc.wait_for_ready(timeout=self.startup_timeout)
        except Exception as exc:
            raise KernelError(
                f"the Python kernel could not restart: {exc}{self._log_tail()}"
            ) from exc

    def _leftovers(self) -> list[Any]:
        pid = manager_pid(self._km)
        # Without a PID namespace, also look for escaped processes by their environment marker.
        marker = (
            self.dirs.base.name if self.dirs and self.info and self.info.mode != "bwrap" else None
        )
        return leftovers(pid, marker, cgroup.members(self._cgroup))

    @closes_thread_loop
    def park(self) -> None:
        """Stop the process and free its slot but keep the folder; the next run restarts it."""
        if self._km is not None:
            self.shutdown(keep_folder=True)
            self.parked = True

    @closes_thread_loop
    def shutdown(self, keep_folder: bool = False) -> None:
        """Stop the kernel and everything it started; remove its folder unless asked to keep it."""
        if self._kc is not None:
            self._kc.stop_channels()
            self._kc = None
        if self._km is not None:
            left = self._leftovers()
            if self._km.has_kernel:
                self._km.shutdown_kernel(now=True)
            kill_leftovers(left)
            self._km = None
        if self._guard is not None:
            self._guard.stop()
            self._guard = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._slot and self.slots is not None:
            self.slots.give()
            self._slot = False
        cgroup.remove(self._cgroup)
        self._cgroup = None
        self.parked = False
        unregister(self)
        if self.dirs is not None and not keep_folder:
            self.dirs.remove()
            self.dirs = None
            if self._user is not None:  # what its uid left in /tmp and /dev/shm
                remove_owned(SHARED_TMP, self._user[0])
