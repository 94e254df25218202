"""How a cell runs on any kernel of this package, and what a kernel's failure does to the run.

`CellRunner.run` is the one policy both backends share (the local `client.Kernel` and the
gateway's `gateway.GatewayKernel`): a kernel that was parked or died between runs starts again
first, with a note; the code goes with `allow_stdin=False` and its messages become capped outputs
(`outputs.Collector`); past the deadline the cell is interrupted, and the kernel restarted if it
will not stop within the grace; a kernel that dies under the cell, or leaves because the cell
called `exit()`, is restarted. A backend that watches a running cell's writes (the local kernel's
folder quota, `watch.FolderWatch`) returns that watch from `_watch`: once it gives a reason, the
cell is stopped as at its deadline (interrupt, then restart) and ends `error` with the quota's
line (`over_quota`). What a backend holds around a run (the local kernel pauses its between-cells
folder guard) is its `_running`; why a kernel stopped between runs, when the backend saw it
happen, is its `_stop_reason`. A backend whose link to its kernel can fail (the gateway's) names
those errors in `link_errors`: one of them anywhere in a run ends it `error` with its one line
(`link_failed`), in one place. `ran`, `timed_out`, `over_quota`, `died`, `restart_note` and
`link_failed` build what a run returns. How a kernel starts, restarts, interrupts and is reached
is each backend's, in its own module; this one talks to no kernel but through them.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol

from codegen_ui.core import KernelError, Output, RunResult, error_output, stream_output
from codegen_ui.kernel.outputs import Collector, execute_reply, wait_idle
from codegen_ui.kernel.sandbox import KernelConfig
from codegen_ui.settings import DEFAULTS


class RunWatch(Protocol):
    """What watches one running cell besides its deadline (`watch.FolderWatch`): called while
    the run waits, it gives the reason to stop the cell, or ""; `close` once the wait ends."""

    reason: str

    def __call__(self) -> str: ...
    def close(self) -> None: ...


class CellRunner(ABC):
    """A kernel that runs cells by the shared policy; subclasses supply the mechanics."""

    config: KernelConfig
    parked: bool  # stopped by the idle sweep; the next run starts it again
    last_used: float
    # Failures of the link to the kernel that end a run as data instead of raising (the gateway's
    # GatewayError); a local kernel has none, and `except ()` catches nothing.
    link_errors: ClassVar[tuple[type[KernelError], ...]] = ()

    # -- what each backend does its own way ----------------------------------------------------

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def restart(self) -> None: ...

    @abstractmethod
    def interrupt(self) -> None: ...

    @property
    @abstractmethod
    def is_alive(self) -> bool: ...

    @abstractmethod
    def _started(self) -> bool:
        """Whether it has a kernel (not before start, nor after shutdown or park)."""

    @abstractmethod
    def _client(self) -> Any:
        """The connected client (`execute`, `get_iopub_msg`, `get_shell_msg`), or None."""

    @abstractmethod
    def _alive(self) -> bool:
        """The cheap check a waiting run polls."""

    @abstractmethod
    def _drop_link(self) -> None:
        """After a link error: forget the connection so the next run restarts or replaces it."""

    # -- what a backend may add (by default, nothing) -------------------------------------------

    def _watch(self) -> RunWatch | None:
        """A watch on the cell about to run (made just before it is sent), or None."""
        return None

    def _running(self) -> AbstractContextManager[None]:
        """What the backend holds while a cell runs, from just after any revive to the end."""
        return contextlib.nullcontext()

    def _stop_reason(self) -> str:
        """Why the kernel stopped since the last run, when the backend saw it happen (said
        once); "" when it does not know."""
        return ""

    # -- the policy -----------------------------------------------------------------------------

    def run(
        self,
        code: str,
        timeout: float = DEFAULTS.run_timeout,
        on_output: Callable[[Output], None] | None = None,
    ) -> RunResult:
        """Run code and wait until the kernel is idle, the deadline passes, or it dies."""
        outputs: list[Output] = []
        seconds = 0.0
        try:
            outputs = self._revive(on_output)
            lost = bool(outputs)
            with self._running():
                client = self._client()
                if client is None:
                    raise KernelError("the kernel is not started")
                start = time.monotonic()
                collect = Collector(self.config.caps, on_output)
                watch = self._watch()
                try:
                    msg_id = client.execute(code, allow_stdin=False, store_history=True)
                    status = wait_idle(client, msg_id, start + timeout, collect, self._alive, watch)
                finally:
                    if watch is not None:
                        watch.close()
                seconds = time.monotonic() - start
                self.last_used = time.monotonic()
                outputs += collect.finish()
                if status == "timeout":
                    return self._after_timeout(client, msg_id, outputs, timeout, seconds)
                if status == "quota" and watch is not None:
                    stopped = self._stop(client, msg_id)
                    return over_quota(outputs, watch.reason, stopped, seconds)
                if status == "died":
                    self.restart()
                    return died(outputs, seconds)
                reply = execute_reply(client, msg_id)
                if asked_exit(reply):
                    # The kernel leaves just after replying. Replace it now so the next cell
                    # does not race a kernel on its way out.
                    self.restart()
                    outputs.append(restart_note("exited as the cell asked", on_output))
                    lost = True
                return ran(outputs, reply, seconds, lost)
        except self.link_errors as exc:
            self._drop_link()
            kind = next(t for t in self.link_errors if isinstance(exc, t))  # its declared type
            return link_failed(kind.__name__, exc, outputs, seconds, on_output)

    def _revive(self, on_output: Callable[[Output], None] | None) -> list[Output]:
        """Start a kernel that was parked or died between runs; say so in one output."""
        if not self._started() and not self.parked:
            return []
        if self._started() and self.is_alive:
            return []
        if self.parked:
            why = "was stopped after being idle"
            self.start()
        else:
            why = self._stop_reason() or "had stopped since the last run"
            self.restart()
        return [restart_note(why, on_output)]

    def _after_timeout(
        self, client: Any, msg_id: str, outputs: list[Output], timeout: float, seconds: float
    ) -> RunResult:
        return timed_out(outputs, timeout, self._stop(client, msg_id), seconds)

    def _stop(self, client: Any, msg_id: str) -> bool:
        """Interrupt the run; restart the kernel if it does not stop. True: it stopped."""
        self.interrupt()
        # Only this run's idle counts: the interrupt request has busy/idle messages of its own.
        grace = time.monotonic() + self.config.interrupt_grace
        stopped = wait_idle(client, msg_id, grace, None, self._alive) == "idle"
        if not stopped:
            self.restart()
        return stopped


# -- what a run returns -----------------------------------------------------------------------


def restart_note(why: str, on_output: Callable[[Output], None] | None) -> Output:
    """One stderr line saying the kernel was started again and why (shown as it happens)."""
    note = stream_output("stderr", f"[the kernel {why}; it was restarted, variables reset]\n")
    if on_output is not None:
        on_output(note)
    return note


def asked_exit(reply: dict[str, Any]) -> bool:
    """Whether the cell called `exit()` / `quit()` (the kernel leaves just after replying)."""
    return any(p.get("source") == "ask_exit" for p in reply.get("payload") or [])


def ran(outputs: list[Output], reply: dict[str, Any], seconds: float, lost: bool) -> RunResult:
    """A run that reached its reply: ok, or error when an output is one."""
    count = reply.get("execution_count")
    failed = any(o["output_type"] == "error" for o in outputs)
    return RunResult(
        "error" if failed else "ok",
        tuple(outputs),
        int(count) if count is not None else None,
        seconds,
        state_lost=lost,
    )


def timed_out(outputs: list[Output], timeout: float, stopped: bool, seconds: float) -> RunResult:
    """A run past its deadline: interrupted (`stopped`), or else restarted."""
    what = "interrupted; variables kept" if stopped else "restarted; variables were reset"
    outputs.append(error_output("TimeoutError", f"the cell ran past {timeout:g} s and was {what}"))
    return RunResult("timeout", tuple(outputs), None, seconds, state_lost=not stopped)


def over_quota(outputs: list[Output], reason: str, stopped: bool, seconds: float) -> RunResult:
    """A run stopped because its kernel's folder passed the quota (`files.FolderQuota`)."""
    what = "variables kept" if stopped else "the kernel was restarted and its variables reset"
    line = f"the cell was stopped: {reason}; delete files to make room ({what})"
    outputs.append(error_output("QuotaError", line))
    return RunResult("error", tuple(outputs), None, seconds, state_lost=not stopped)


def died(outputs: list[Output], seconds: float) -> RunResult:
    """A run whose kernel died under it (already restarted by the caller)."""
    outputs.append(
        error_output(
            "KernelDied",
            "the kernel died while running this cell (it crashed, was killed, or ran out "
            "of memory or CPU time); it was restarted and its variables were reset",
        )
    )
    return RunResult("died", tuple(outputs), None, seconds, state_lost=True)


def link_failed(
    kind: str,
    exc: KernelError,
    outputs: list[Output],
    seconds: float,
    on_output: Callable[[Output], None] | None,
) -> RunResult:
    """A run whose link to its kernel failed: `error`, with the failure's one line last."""
    out = error_output(kind, str(exc))
    if on_output is not None:
        on_output(out)
    return RunResult("error", (*outputs, out), None, seconds, state_lost=True)
