"""Per-browser-session state for the web app: one kernel and one `Session` each, and the registry.

A `Workspace` is what one browser tab works on: its session (turns), its kernel, the example
turns still pending, and where it autosaves. Actions on a workspace run one at a time (its lock);
Stop is the exception and only sets flags. `Workspaces` creates them on demand under a cap on live
kernels, closes one when its tab goes away, and sweeps the ones idle past a TTL (Gradio's own
state eviction skips callbacks, so it cannot be the only cleanup). Nothing here knows Gradio.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from codegen_ui.kernel import Kernel, Output, RunResult
from codegen_ui.model import CodeModel
from codegen_ui.session import Session, close_thread_event_loop
from codegen_ui.web import FairGate, ModelHolder, SharedModel

KERNELS_ROOT = Path(tempfile.gettempdir()) / "codegen-ui-kernels"


class ServerBusy(RuntimeError):
    """No kernel can be started for a new browser session right now."""


class WorkspaceBusy(RuntimeError):
    """This browser session is already running something."""


def release_thread_loop() -> None:
    """Close the event loop jupyter-client's blocking calls left on this worker thread."""
    if threading.current_thread() is not threading.main_thread():
        close_thread_event_loop()


class TrackedKernel:
    """A kernel that remembers its state for the status bar: starting, idle, busy, restarted."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.state = "starting"
        self.started = threading.Event()

    def start(self) -> None:
        try:
            self.kernel.start()
            self.state = "idle"
        except Exception:
            self.state = "failed to start"
            raise
        finally:
            self.started.set()
            release_thread_loop()

    def run(
        self, code: str, timeout: float = 30.0, on_output: Callable[[Output], None] | None = None
    ) -> RunResult:
        self.started.wait()
        self.state = "busy"
        try:
            result = self.kernel.run(code, timeout, on_output)
        finally:
            self.state = "idle"
        if result.state_lost:
            self.state = "restarted"
        return result

    def restart(self) -> None:
        self.started.wait()
        self.state = "restarting"
        try:
            self.kernel.restart()
        finally:
            release_thread_loop()
        self.state = "restarted"

    def interrupt(self) -> None:
        if self.state == "busy":
            self.kernel.interrupt()

    def describe(self) -> str:
        if self.state in ("idle", "busy", "restarted"):
            try:
                alive = self.kernel.is_alive
            finally:
                release_thread_loop()
            if not alive:
                return "dead"
        return self.state

    def shutdown(self) -> None:
        self.started.wait(timeout=60)
        try:
            self.kernel.shutdown()
        finally:
            release_thread_loop()
        self.state = "stopped"
        cwd = getattr(self.kernel, "cwd", None)
        if cwd and Path(cwd).parent == KERNELS_ROOT:
            shutil.rmtree(cwd, ignore_errors=True)  # the working folder dies with the kernel


def default_kernel_factory() -> Kernel:
    # Each kernel works in its own private folder, outside the app and anything Gradio serves.
    KERNELS_ROOT.mkdir(mode=0o700, exist_ok=True)
    return Kernel(cwd=tempfile.mkdtemp(prefix="k-", dir=KERNELS_ROOT))


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
        self.closed = False
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

    def close(self) -> None:
        self.closed = True
        self.stop()
        self.kernel.shutdown()


class Workspaces:
    """The live workspaces by browser-session key, under a cap on live kernels."""

    def __init__(
        self,
        holder: ModelHolder,
        gate: FairGate | None = None,
        max_kernels: int = 32,
        idle_ttl_s: float = 3600.0,
        run_timeout: float = 30.0,
        kernel_factory: Callable[[], Any] = default_kernel_factory,
        on_change: Callable[[Workspace], None] | None = None,
    ) -> None:
        self.model = SharedModel(holder, gate or FairGate(1))
        self.max_kernels = max_kernels
        self.idle_ttl_s = idle_ttl_s
        self.run_timeout = run_timeout
        self.kernel_factory = kernel_factory
        self.on_change = on_change
        self._items: dict[str, Workspace] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Workspace:
        """This browser session's workspace, created (kernel starting) on first use."""
        with self._lock:
            ws = self._items.get(key)
            if ws is not None:
                ws.touch()
                return ws
            if len(self._items) >= self.max_kernels:
                raise ServerBusy(
                    f"the server is busy: all {self.max_kernels} kernels are in use. "
                    "Try again in a few minutes."
                )
            kernel = TrackedKernel(self.kernel_factory())
            ws = Workspace(key, kernel, self.model, self.run_timeout, self.on_change)
            self._items[key] = ws
        threading.Thread(target=self._start, args=(ws,), daemon=True, name="kernel-start").start()
        return ws

    def _start(self, ws: Workspace) -> None:
        try:
            ws.kernel.start()
        except Exception:
            self.close(ws.key)  # the next action gets a fresh try

    def peek(self, key: str) -> Workspace | None:
        return self._items.get(key)

    def close(self, key: str) -> bool:
        """Shut down this browser session's kernel (the tab closed); False if there was none."""
        with self._lock:
            ws = self._items.pop(key, None)
        if ws is None:
            return False
        ws.close()
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
