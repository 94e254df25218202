"""Helpers shared by the kernel tests: output text, process lookups, the modes this host runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psutil

from codegen_ui.core import RunResult
from codegen_ui.kernel import Kernel, SandboxInfo, sandbox_info
from codegen_ui.kernel.reaper import MARKER_VAR

HAS_BWRAP = sandbox_info("bwrap").mode == "bwrap"
HAS_LANDLOCK = sandbox_info("landlock").mode == "landlock"
# Every mode this host can run: bubblewrap, Landlock (as if bubblewrap were missing), limits only.
MODES = [m for m, ok in (("bwrap", HAS_BWRAP), ("landlock", HAS_LANDLOCK), ("none", True)) if ok]
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


def expected_contained(info: SandboxInfo, check: str, server_is_root: bool) -> bool:
    """Whether `check` (a `Check.name`, or one of the extra cases) should be contained by the
    layers `info` reports: the tests hold the report to what a hostile cell really meets."""
    bwrap, landlock = info.mode == "bwrap", info.mode == "landlock"
    fs = bwrap or landlock
    if check.startswith(("TCP", "UDP")):
        return bwrap or info.seccomp
    if check.startswith("read a folder"):  # world-readable, as a sessions folder is
        return fs
    if check.startswith(("write into", "another kernel's folder")):
        return fs or info.own_uid
    if check.startswith("read the server's"):  # the server is undumpable: root kernels only
        return fs or info.own_uid or not server_is_root
    if check.startswith("signal"):
        return bwrap or info.landlock_abi >= 6 or info.own_uid
    if check.startswith("fork"):
        return any(layer.active for layer in info.layers() if layer.name == "process cap")
    raise ValueError(check)
