"""The kernel seam: one IPython kernel that runs code and returns notebook outputs.

`Kernel.run` sends code with `allow_stdin=False`, collects the kernel's IOPub messages into
nbformat outputs (what you run is what you save), and ends on `status: idle`. Errors in the
user's code are data (an error output); a run that passes its deadline is interrupted (and the
kernel restarted if it will not stop), and a kernel that dies is detected and restarted; both
end the run with an error output that says what happened. Nothing above this seam sees ZMQ
messages. It does not decide what code to run or where outputs are saved.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

RunStatus = Literal["ok", "error", "timeout", "died"]
Output = dict[str, Any]  # an nbformat v4 output (a NotebookNode)

POLL_S = 0.25  # how often a waiting run checks that the kernel is still alive
INTERRUPT_GRACE_S = 3.0  # how long an interrupted run may take to stop before a restart


class KernelError(RuntimeError):
    """The kernel could not be started or reached (not an error in the user's code)."""


@dataclass(frozen=True)
class RunResult:
    status: RunStatus
    outputs: tuple[Output, ...]
    execution_count: int | None = None
    seconds: float = 0.0
    state_lost: bool = False  # the kernel was restarted: earlier variables are gone


@dataclass
class _Collector:
    """Turns IOPub messages of one run into outputs, the way Jupyter's executor does."""

    on_output: Callable[[Output], None] | None = None
    outputs: list[Output] = field(default_factory=list)
    clear_pending: bool = False

    def add(self, msg: dict[str, Any]) -> None:
        from nbformat.v4 import output_from_msg

        kind = msg["header"]["msg_type"]
        if kind == "clear_output":
            if msg["content"].get("wait"):
                self.clear_pending = True
            else:
                self.outputs.clear()
            return
        if kind not in ("stream", "display_data", "execute_result", "error"):
            return
        if self.clear_pending:
            self.outputs.clear()
            self.clear_pending = False
        out = output_from_msg(msg)
        last = self.outputs[-1] if self.outputs else None
        if kind == "stream" and last and last.get("name") == out["name"]:
            last["text"] += out["text"]  # merge consecutive writes to one stream
        else:
            self.outputs.append(out)
        if self.on_output is not None:
            self.on_output(out)


def error_output(ename: str, evalue: str) -> Output:
    from nbformat.v4 import new_output

    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class Kernel:
    """One ipykernel process with a blocking client. Not thread-safe: one run at a time."""

    def __init__(self, cwd: str | Path | None = None, startup_timeout: float = 60.0) -> None:
        self.cwd = str(cwd) if cwd is not None else None
        self.startup_timeout = startup_timeout
        self._km: Any = None
        self._kc: Any = None

    def __enter__(self) -> Kernel:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def start(self) -> None:
        from jupyter_client.manager import KernelManager

        try:
            self._km = KernelManager(kernel_name="python3")
            self._km.start_kernel(cwd=self.cwd, extra_arguments=["--HistoryManager.enabled=False"])
            self._kc = self._km.blocking_client()
            self._kc.start_channels()
            self._kc.wait_for_ready(timeout=self.startup_timeout)
        except Exception as exc:
            self.shutdown()
            raise KernelError(f"the Python kernel could not start: {exc}") from exc

    @property
    def is_alive(self) -> bool:
        return bool(self._km is not None and self._km.is_alive())

    def run(
        self,
        code: str,
        timeout: float = 30.0,
        on_output: Callable[[Output], None] | None = None,
    ) -> RunResult:
        """Run code and wait until the kernel is idle, the deadline passes, or it dies."""
        if self._kc is None:
            raise KernelError("the kernel is not started")
        start = time.monotonic()
        collect = _Collector(on_output)
        msg_id = self._kc.execute(code, allow_stdin=False, store_history=True)
        status = self._wait_idle(msg_id, start + timeout, collect)
        seconds = time.monotonic() - start
        if status == "timeout":
            return self._after_timeout(collect, timeout, seconds)
        if status == "died":
            self.restart()
            collect.outputs.append(
                error_output(
                    "KernelDied",
                    "the kernel died while running this cell; it was "
                    "restarted and its variables were reset",
                )
            )
            return RunResult("died", tuple(collect.outputs), None, seconds, state_lost=True)
        count = self._execution_count(msg_id)
        failed = any(o["output_type"] == "error" for o in collect.outputs)
        return RunResult("error" if failed else "ok", tuple(collect.outputs), count, seconds)

    def _wait_idle(self, msg_id: str, deadline: float, collect: _Collector) -> str:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            try:
                msg = self._kc.get_iopub_msg(timeout=min(POLL_S, remaining))
            except queue.Empty:
                if not self.is_alive:
                    return "died"
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["header"]["msg_type"] == "status":
                if msg["content"]["execution_state"] == "idle":
                    return "idle"
                continue
            collect.add(msg)

    def _after_timeout(self, collect: _Collector, timeout: float, seconds: float) -> RunResult:
        self._km.interrupt_kernel()
        stopped = self._drain_until_idle(INTERRUPT_GRACE_S)
        if not stopped:
            self.restart()
        # The interrupt's KeyboardInterrupt traceback says nothing useful; say what happened.
        kept = [o for o in collect.outputs if o["output_type"] != "error"]
        what = "interrupted; variables kept" if stopped else "restarted; variables were reset"
        kept.append(error_output("TimeoutError", f"the cell ran past {timeout:g} s and was {what}"))
        return RunResult("timeout", tuple(kept), None, seconds, state_lost=not stopped)

    def _drain_until_idle(self, grace: float) -> bool:
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                msg = self._kc.get_iopub_msg(timeout=POLL_S)
            except queue.Empty:
                continue
            if msg["header"]["msg_type"] == "status" and (
                msg["content"]["execution_state"] == "idle"
            ):
                return True
        return False

    def _execution_count(self, msg_id: str) -> int | None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                reply = self._kc.get_shell_msg(timeout=1)
            except queue.Empty:
                return None
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                count = reply["content"].get("execution_count")
                return int(count) if count is not None else None
        return None

    def interrupt(self) -> None:
        if self._km is not None:
            self._km.interrupt_kernel()

    def restart(self) -> None:
        """A fresh kernel process; every variable is gone."""
        if self._km is None:
            raise KernelError("the kernel is not started")
        self._km.restart_kernel(now=True)
        self._kc.wait_for_ready(timeout=self.startup_timeout)

    def shutdown(self) -> None:
        if self._kc is not None:
            self._kc.stop_channels()
            self._kc = None
        if self._km is not None:
            if self._km.has_kernel:
                self._km.shutdown_kernel(now=True)
            self._km = None
