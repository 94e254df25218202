"""A tab's kernel as the web app holds it: its state for the status bar, and no exceptions.

`TrackedKernel` wraps a `LiveKernel` so the page can say idle, busy, restarted or dead, and so a
kernel that cannot be reached becomes an error output of the cell instead of an exception that
would leave the cell waiting. It starts and stops nothing of its own; the pool does.
"""

from __future__ import annotations

from collections.abc import Callable

from codegen_ui.core import KernelError, Output, RunResult, error_output
from codegen_ui.kernel import LiveKernel
from codegen_ui.settings import DEFAULTS


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
            # The run ends as a dead kernel's would, an error output, so the status bar says
            # "dead" and the turn shows why, instead of the session failing the whole action.
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
