"""Helpers shared by the kernel tests: output text, process lookups, the modes this host runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psutil

from codegen_ui.kernel import Kernel, RunResult, sandbox_info
from codegen_ui.kernel.reaper import MARKER_VAR

HAS_BWRAP = sandbox_info("bwrap").mode == "bwrap"
MODES = ["bwrap", "none"] if HAS_BWRAP else ["none"]
needs_bwrap = "bubblewrap cannot run on this host"


def text(result: RunResult, kind: str = "stream") -> str:
    """The run's stream text (or error lines with kind="error"), joined."""
    if kind == "error":
        return "\n".join(
            f"{o['ename']}: {o['evalue']}" for o in result.outputs if o["output_type"] == "error"
        )
    return "".join(o["text"] for o in result.outputs if o["output_type"] == "stream")


def follow_up(kernel: Kernel) -> None:
    """Every adversarial case ends with this: the kernel must work again."""
    result = kernel.run("print(6 * 7)", timeout=60)
    assert result.status == "ok", result.outputs
    assert text(result) == "42\n"


def wait_for(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def procs_running(argv_tail: str) -> list[Any]:
    """Processes whose command line ends with `argv_tail` (a unique sleep duration, say)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if cmdline.endswith(argv_tail):
            found.append(proc)
    return found


def procs_with_marker(marker: str) -> list[Any]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(MARKER_VAR) == marker and proc.status() != "zombie":
                found.append(proc)
        except psutil.Error:
            continue
    return found
