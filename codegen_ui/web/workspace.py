"""Per-browser-session state for the web app: one kernel and one `Session` each, and the registry.

A `Workspace` is what one browser tab works on: its session (turns), its kernel, the example
turns still pending, and which stored session it autosaves to. Actions on a workspace run one at
a time (its lock); Stop is the exception and only sets flags. `Workspaces` creates them on demand
with a kernel from the kernel pool (which holds the cap on live kernels and says "server busy"),
gives the kernel back when the tab closes, and sweeps workspaces idle past a TTL (Gradio's own
state eviction skips callbacks, so it cannot be the only cleanup). Nothing here knows Gradio.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import cast

from codegen_ui.core import Session
from codegen_ui.engine import CodeModel
from codegen_ui.errors import UserError
from codegen_ui.kernel import (
    KernelError,
    KernelSource,
    LiveKernel,
    Output,
    RunResult,
    ServerBusy,
    error_output,
)
from codegen_ui.settings import DEFAULTS
from codegen_ui.web.shared import FairGate, ModelHolder, SharedModel

CLOSE_WAIT_S = 15.0  # how long closing a tab waits for its running action to stop

__all__ = [
    "ServerBusy",
    "TrackedKernel",
    "Workspace",
    "WorkspaceBusy",
    "Workspaces",
]


class WorkspaceBusy(UserError, RuntimeError):
    """This browser session is already running something."""


class TrackedKernel:
    """A session's kernel that remembers its state for the status bar (idle, busy, restarted),
    and turns a kernel that cannot be reached into an error output instead of an exception."""

    def __init__(self, kernel: LiveKernel) -> None:
        self.kernel = kernel
        self.state = "idle"

    def run(
        self,
        code: str,
        timeout: float = DEFAULTS.run_timeout,
        on_output: Callable[[Output], None] | None = None,
    ) -> RunResult:
        self.state = "busy"
        try:
            result = self.kernel.run(code, timeout, on_output)
        except Exception as exc:  # e.g. a parked kernel that cannot start again (server busy)
            # An exception here would leave the session waiting for a result forever.
            self.state = "dead"
            message = str(exc) if isinstance(exc, KernelError) else f"{type(exc).__name__}: {exc}"
            return RunResult("died", (error_output("KernelError", message),), state_lost=True)
        self.state = "restarted" if result.state_lost else "idle"
        return result

    def restart(self) -> None:
        self.state = "restarting"
        try:
            if self.kernel.parked:
                self.kernel.start()  # stopped by the idle sweep: a fresh start is a restart
            else:
                self.kernel.restart()
        except KernelError:
            self.state = "dead"
            raise
        self.state = "restarted"

    def interrupt(self) -> None:
        if self.state == "busy":
            self.kernel.interrupt()

    def describe(self) -> str:
        if self.kernel.parked:
            return "stopped while idle (the next run starts a fresh one)"
        if self.state in ("idle", "busy", "restarted") and not self.kernel.is_alive:
            return "dead"
        return self.state

    def sandbox(self) -> str:
        return self.kernel.sandbox_layers or "not started"


class Workspace:
    """One browser session: a `Session` over the shared model and this tab's own kernel."""

    def __init__(
        self,
        key: str,
        kernel: TrackedKernel,
        model: SharedModel,
        run_timeout: float,
        on_change: Callable[[Workspace], None] | None = None,
    ) -> None:
        self.key = key
        self.kernel = kernel
        # SharedModel exposes name and context_size read-only; Session only reads them.
        shared = cast(CodeModel, model)
        self.session = Session(shared, kernel, run_timeout=run_timeout, on_change=self._changed)
        self.pending: list[str] = []  # example instructions still to run, in order
        self.notebook_id: str | None = None  # the store's id; set by the first save
        self.owned: set[str] = set()  # store ids this tab created, imported or copied
        self.title = "Untitled"
        self.save_error = ""  # why the last autosave failed, shown until one succeeds
        self.last_used = time.monotonic()
        self.lock = threading.Lock()
        self._on_change = on_change

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def _changed(self, _session: Session) -> None:
        if self._on_change is not None:
            self._on_change(self)

    def acquire(self) -> None:
        """Take this workspace for one action, or raise WorkspaceBusy."""
        if not self.lock.acquire(blocking=False):
            raise WorkspaceBusy("still working on the previous action: wait for it, or press Stop")
        self.touch()

    def release(self) -> None:
        self.touch()
        self.lock.release()

    def stop(self) -> None:
        """Stop generation and interrupt a running cell; safe to call at any time."""
        self.session.cancel.set()
        self.kernel.interrupt()


class Workspaces:
    """The live workspaces by browser-session key, each with a kernel from `kernels`."""

    def __init__(
        self,
        holder: ModelHolder,
        kernels: KernelSource,
        gate: FairGate | None = None,
        idle_ttl_s: float = 3600.0,
        run_timeout: float = DEFAULTS.run_timeout,
        on_change: Callable[[Workspace], None] | None = None,
    ) -> None:
        self.model = SharedModel(holder, gate or FairGate(1))
        self.kernels = kernels
        self.idle_ttl_s = idle_ttl_s
        self.run_timeout = run_timeout
        self.on_change = on_change
        self._items: dict[str, Workspace] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Workspace:
        """This browser session's workspace, created with a kernel on first use.

        Raises ServerBusy when no kernel can be had (the pool's cap on live kernels)."""
        ws = self._items.get(key)
        if ws is not None:
            ws.touch()
            return ws
        kernel = self.kernels.acquire()  # may start a kernel: not under the registry lock
        spare: LiveKernel | None = None
        with self._lock:
            ws = self._items.get(key)
            if ws is None:
                ws = Workspace(
                    key, TrackedKernel(kernel), self.model, self.run_timeout, self.on_change
                )
                self._items[key] = ws
            else:  # the same tab asked twice at once: keep one kernel
                spare = kernel
        if spare is not None:
            self.kernels.release(spare)
        return ws

    def peek(self, key: str) -> Workspace | None:
        return self._items.get(key)

    def close(self, key: str) -> bool:
        """Give this browser session's kernel back (the tab closed); False if there was none."""
        with self._lock:
            ws = self._items.pop(key, None)
        if ws is None:
            return False
        ws.stop()
        # Let a running action end (Stop interrupts it) before its kernel goes away under it.
        if ws.lock.acquire(timeout=CLOSE_WAIT_S):
            ws.lock.release()
        self.kernels.release(ws.kernel.kernel)
        return True

    def sweep(self, now: float | None = None) -> list[str]:
        """Close workspaces idle for longer than the TTL (not while they are working)."""
        now = time.monotonic() if now is None else now
        stale = [
            k
            for k, ws in list(self._items.items())
            if now - ws.last_used > self.idle_ttl_s and not ws.lock.locked()
        ]
        for key in stale:
            self.close(key)
        return stale

    def start_sweeper(self, interval_s: float = 60.0) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(interval_s):
                self.sweep()

        thread = threading.Thread(target=loop, daemon=True, name="workspace-sweeper")
        thread.start()
        return thread

    def shutdown(self) -> None:
        self._stop.set()
        for key in list(self._items):
            self.close(key)
        self.kernels.close()
