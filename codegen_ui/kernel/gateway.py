"""A kernel on a Jupyter (Enterprise) Gateway, with the same contract as the local `Kernel`.

`GatewayKernel` is a `LiveKernel`: start, run, interrupt, restart, park and shut down go through
the gateway (`gwclient.py`); a run's messages become capped outputs through the same
`outputs.Collector` as a local run, and end the same ways: past the deadline the cell is
interrupted, then the kernel restarted if it will not stop; a kernel that dies is restarted; a
kernel that was parked by the idle sweep or died between runs starts again at the next run.
When the gateway itself fails (not there, token refused, gone mid-run) the run ends `error` with
one `GatewayError` line as its output, and the next run reconnects (a new kernel if the gateway
lost the old one). Each kernel works in a private folder it makes on its own host
(`tempfile.mkdtemp`), entered again after every restart; `put_files` and `read_file` move files
in and out of it (`transfer.py`: through the kernel's own execute channel, since Enterprise
Gateway has no contents API). How the kernel is confined is the gateway's business (its kernel
images and process proxies); this module confines nothing.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from codegen_ui.core import KernelError, Output, RunResult, error_output
from codegen_ui.kernel.gwclient import GatewayError
from codegen_ui.kernel.gwlink import GatewayLink
from codegen_ui.kernel.outputs import (
    Collector,
    asked_exit,
    died,
    execute_reply,
    ran,
    restart_note,
    timed_out,
    wait_idle,
)
from codegen_ui.kernel.runtime import register, unregister
from codegen_ui.settings import DEFAULTS

log = logging.getLogger("codegen_ui.kernel")


class GatewayKernel(GatewayLink):
    """One kernel on a gateway with a blocking client. Not thread-safe: one run at a time."""

    def __enter__(self) -> GatewayKernel:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    @property
    def sandbox_mode(self) -> str:
        return "none"  # the app applies no sandbox of its own to a gateway's kernel

    @property
    def sandbox_layers(self) -> str:
        if self.kernel_id is None:
            return ""
        return f"the gateway's '{self.gateway.kernel_spec}' kernels + run limits"

    def specs(self) -> list[str]:
        """The kernel specs the gateway offers."""
        return self._api.specs()

    def describe(self) -> str:
        return (
            f"kernels from the gateway at {self.gateway.where} (spec "
            f"'{self.gateway.kernel_spec}'): isolation is the gateway's kernel images and "
            "process proxies; the app keeps the deadlines and output caps"
        )

    # -- life -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Ask the gateway for a kernel (taking a slot), connect, wait until it answers."""
        if self.kernel_id is not None:
            return
        if self.slots is not None and not self._slot:
            self.slots.take()
            self._slot = True
        self.parked = False
        register(self)
        try:
            self._fresh()
        except Exception as exc:
            self.shutdown(keep_folder=True)
            if isinstance(exc, KernelError):
                raise
            raise GatewayError(f"the gateway's kernel could not start: {exc}") from exc

    def restart(self) -> None:
        """A fresh kernel process; a kernel the gateway lost is replaced by a new one."""
        if self.kernel_id is None:
            raise KernelError("the kernel is not started")
        self._close_channels()
        try:
            self._api.restart(self.kernel_id)
        except GatewayError as exc:
            # Enterprise Gateway answers 500, not 404, for a kernel it no longer has; and a
            # gateway whose own restarter is already restarting a dead kernel may refuse ours.
            # `_gone` raises the gateway's line when it cannot be reached at all.
            if self._gone():
                self._fresh()
                return
            log.info("restart refused, joining the gateway's own restart: %s", exc)
        self._connect()

    def park(self) -> None:
        """Stop the remote kernel and free its slot; the next run starts one in the same folder
        (which holds its files where the gateway's host keeps them; a new pod starts empty)."""
        if self.kernel_id is not None:
            self.shutdown(keep_folder=True)
            self.parked = True

    def shutdown(self, keep_folder: bool = False) -> None:
        """Stop the remote kernel (removing its folder unless asked to keep it)."""
        if self._ch is not None and not keep_folder and self.folder is not None:
            # The kernel or the gateway may be gone already: then nothing is left to remove.
            with contextlib.suppress(KernelError):
                self._quiet(f"__import__('shutil').rmtree({self.folder!r}, True)", {}, 5.0)
        self._close_channels()
        if self.kernel_id is not None:
            try:
                self._api.delete(self.kernel_id)
            except GatewayError as exc:
                log.info("gateway kernel not deleted: %s", exc)
            self.kernel_id = None
        if self._slot and self.slots is not None:
            self.slots.give()
            self._slot = False
        if not keep_folder:
            self.folder = None
        self.parked = False
        unregister(self)

    # -- runs -----------------------------------------------------------------------------------

    def run(
        self,
        code: str,
        timeout: float = DEFAULTS.run_timeout,
        on_output: Callable[[Output], None] | None = None,
    ) -> RunResult:
        """Run code and wait until the kernel is idle, the deadline passes, or it dies."""
        try:
            revived = self._revive(on_output)
        except GatewayError as exc:
            return self._gateway_failed(exc, [], 0.0, on_output)
        if self._ch is None:
            raise KernelError("the kernel is not started")
        start = time.monotonic()
        collect = Collector(self.config.caps, on_output)
        msg_id = self._ch.execute(code, allow_stdin=False, store_history=True)
        status = wait_idle(self._ch, msg_id, start + timeout, collect, self._alive)
        seconds = time.monotonic() - start
        self.last_used = time.monotonic()
        outputs = revived + collect.finish()
        try:
            if status == "timeout":
                return self._after_timeout(msg_id, outputs, timeout, seconds)
            if status == "died":
                return self._after_death(outputs, seconds)
        except GatewayError as exc:
            return self._gateway_failed(exc, outputs, seconds, on_output)
        reply = execute_reply(self._ch, msg_id)
        lost = bool(revived)
        if asked_exit(reply):
            try:
                self.restart()
            except GatewayError as exc:
                return self._gateway_failed(exc, outputs, seconds, on_output)
            outputs.append(restart_note("exited as the cell asked", on_output))
            lost = True
        return ran(outputs, reply, seconds, lost)

    def _revive(self, on_output: Callable[[Output], None] | None) -> list[Output]:
        """Start a kernel that was parked, died, or lost its gateway since the last run."""
        if self.kernel_id is None and not self.parked:
            return []
        if self.kernel_id is not None and self.is_alive:
            return []
        why = "was stopped after being idle" if self.parked else "had stopped since the last run"
        if self.parked:
            self.start()
        else:
            self.restart()
        return [restart_note(why, on_output)]

    def _after_timeout(
        self, msg_id: str, outputs: list[Output], timeout: float, seconds: float
    ) -> RunResult:
        assert self._ch is not None
        self.interrupt()
        grace = time.monotonic() + self.config.interrupt_grace
        stopped = wait_idle(self._ch, msg_id, grace, None, self._alive) == "idle"
        if not stopped:
            self.restart()
        return timed_out(outputs, timeout, stopped, seconds)

    def _after_death(self, outputs: list[Output], seconds: float) -> RunResult:
        self.restart()  # a gateway that is gone raises GatewayError here: the run says so
        return died(outputs, seconds)

    def _gateway_failed(
        self,
        exc: GatewayError,
        outputs: list[Output],
        seconds: float,
        on_output: Callable[[Output], None] | None,
    ) -> RunResult:
        """The run ends `error` with the gateway's one line; the next run reconnects."""
        self._close_channels()  # the next run finds the kernel dead and restarts or replaces it
        out = error_output("GatewayError", str(exc))
        if on_output is not None:
            on_output(out)
        return RunResult("error", (*outputs, out), None, seconds, state_lost=True)
