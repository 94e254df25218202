"""The kernel seam: one sandboxed IPython kernel that runs code and returns notebook outputs.

`Kernel.run` sends code with `allow_stdin=False` (so `input()` fails at once), collects the
kernel's IOPub messages into capped nbformat outputs and ends on `status: idle`. Errors in the
user's code are data (an error output). A run past its deadline is interrupted, and the kernel
restarted if it will not stop; a kernel that dies is detected within a poll and restarted; both
end the run with an error output that says what happened and whether state was lost. A run whose
kernel's folder passes the session's quota is interrupted the same way (`watch.FolderWatch`), and
a kernel whose folder grows by a quota between cells is killed (`watch.FolderGuard`). Restart and
shutdown also kill what the kernel left running. How the process is confined lives in
`sandbox.py`; how many kernels may live, in `pool.py`; the types it returns, in the
domain's port (`codegen_ui.core`).
Nothing above this seam sees ZMQ messages.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from codegen_ui.core import KernelError, Output, RunResult
from codegen_ui.files import SHARED_TMP, FolderFiles, remove_owned
from codegen_ui.kernel import cgroup
from codegen_ui.kernel.folders import KernelDirs
from codegen_ui.kernel.layers import SandboxInfo, hide_server
from codegen_ui.kernel.layers import sandbox_info as resolve_sandbox
from codegen_ui.kernel.outputs import (
    Collector,
    asked_exit,
    died,
    execute_reply,
    over_quota,
    ran,
    restart_note,
    timed_out,
    wait_idle,
)
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


class Kernel:
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

    def _alive(self) -> bool:
        return self.is_alive

    @closes_thread_loop
    def run(
        self,
        code: str,
        timeout: float = DEFAULTS.run_timeout,
        on_output: Callable[[Output], None] | None = None,
    ) -> RunResult:
        """Run code and wait until the kernel is idle, the deadline passes, or it dies."""
        guard = None
        try:
            revived = self._revive(on_output)
            guard = self._guarded()
            return self._run(code, timeout, on_output, revived)
        finally:
            if guard is not None:
                guard.resume()

    def _run(
        self,
        code: str,
        timeout: float,
        on_output: Callable[[Output], None] | None,
        revived: list[Output],
    ) -> RunResult:
        if self._kc is None:
            raise KernelError("the kernel is not started")
        start = time.monotonic()
        collect = Collector(self.config.caps, on_output)
        watch = self._watch()
        msg_id = self._kc.execute(code, allow_stdin=False, store_history=True)
        status = wait_idle(self._kc, msg_id, start + timeout, collect, self._alive, watch)
        if watch is not None:
            watch.close()
        seconds = time.monotonic() - start
        self.last_used = time.monotonic()
        outputs = revived + collect.finish()
        if status == "timeout":
            return self._after_timeout(msg_id, outputs, timeout, seconds)
        if status == "quota" and watch is not None:
            return over_quota(outputs, watch.reason, self._stop(msg_id), seconds)
        if status == "died":
            self.restart()
            return died(outputs, seconds)
        reply = execute_reply(self._kc, msg_id)
        lost = bool(revived)
        if asked_exit(reply):
            # The kernel leaves just after replying. Replace it now so the next cell does not
            # race a kernel on its way out.
            self.restart()
            outputs.append(restart_note("exited as the cell asked", on_output))
            lost = True
        return ran(outputs, reply, seconds, lost)

    def _revive(self, on_output: Callable[[Output], None] | None) -> list[Output]:
        """Start a kernel that was parked or died between runs; say so in one output."""
        if self._km is None and not self.parked:
            return []
        if self._km is not None and self.is_alive:
            return []
        why = "was stopped after being idle" if self.parked else "had stopped since the last run"
        if self._stopped_why and not self.parked:
            why, self._stopped_why = self._stopped_why, ""
        if self.parked:
            self.start()
        else:
            self.restart()
        return [restart_note(why, on_output)]

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

    def _after_timeout(
        self, msg_id: str, outputs: list[Output], timeout: float, seconds: float
    ) -> RunResult:
        return timed_out(outputs, timeout, self._stop(msg_id), seconds)

    def _stop(self, msg_id: str) -> bool:
        """Interrupt the run; restart the kernel if it does not stop. True: it stopped."""
        self.interrupt()
        # Only this run's idle counts: the interrupt request has busy/idle messages of its own.
        grace = time.monotonic() + self.config.interrupt_grace
        stopped = wait_idle(self._kc, msg_id, grace, None, self._alive) == "idle"
        if not stopped:
            self.restart()
        return stopped

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
