"""A tab's kernel as a workspace holds it: its state for the status bar, and no exceptions.

`TrackedKernel` wraps a `LiveKernel` so a door (the page's status bar) can say idle, busy,
restarted or dead. A kernel
that cannot be reached still raises its `KernelError`: the session catches it, once, and ends the
cell with it. It starts and stops nothing of its own; the pool does.
"""

from __future__ import annotations

from collections.abc import Callable

from codegen_ui.core import KernelError, Output, RunResult
from codegen_ui.kernel import LiveKernel
from codegen_ui.settings import DEFAULTS


class TrackedKernel:
    """A session's kernel that remembers its state for the status bar (idle, busy, restarted,
    dead)."""

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
        result: RunResult | None = None
        try:
            result = self.kernel.run(code, timeout, on_output)
        finally:
            # A kernel that could not be reached (a parked one that cannot start again, say) is
            # "dead" on the status bar; the session turns the exception into the cell's error.
            self.state = "dead" if result is None else "restarted" if result.state_lost else "idle"
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
