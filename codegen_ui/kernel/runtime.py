"""Plumbing for kernels: the one thread that starts kernel processes, the registry of live
kernels that exit handlers shut down, closing jupyter-client's per-thread loops, and the
jupyter-client manager set up for a sandboxed kernel.

It holds no kernel logic; `client.py` uses it so that `Kernel` stays about one kernel.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class Stoppable(Protocol):
    def shutdown(self, keep_folder: bool = False) -> None: ...


# Strong references: a kernel dropped without `shutdown` must still be shut down at exit.
_LIVE: set[Stoppable] = set()
_SPAWNER: ThreadPoolExecutor | None = None
_LOCK = threading.Lock()


def spawned(fn: Callable[[], T]) -> T:
    """Run a process start on one long-lived thread: a kernel's parent-death signal follows the
    thread that started it, so a short-lived request thread must not be that parent."""
    global _SPAWNER
    with _LOCK:
        if _SPAWNER is None:
            _SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="kernel-spawn")
            atexit.register(shutdown_all)
    try:
        return _SPAWNER.submit(fn).result()
    except RuntimeError as exc:
        if "shutdown" not in str(exc):
            raise
        return fn()  # the interpreter is exiting; no thread pool any more


def closes_thread_loop(method: Callable[P, T]) -> Callable[P, T]:
    """Close the asyncio loop jupyter-client made for this thread during the call, if it did.

    Its blocking calls run on a loop it creates per thread and never closes; a server calls the
    kernel from short-lived threads, which would leak a loop (and its sockets) each time.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        from jupyter_core import utils

        var = getattr(utils, "_loop", None)
        before = var.get() if var is not None else None
        try:
            return method(*args, **kwargs)
        finally:
            loop = var.get() if var is not None else None
            if (
                var is not None
                and loop is not None
                and loop is not before
                and not loop.is_running()
            ):
                loop.close()
                var.set(None)
                asyncio.set_event_loop(None)

    return wrapper


def shutdown_all() -> None:
    """Shut down every kernel of this process (server exit, signal handlers, atexit)."""
    with _LOCK:
        kernels = list(_LIVE)
    for kernel in kernels:
        kernel.shutdown()


def register(kernel: Stoppable) -> None:
    with _LOCK:
        _LIVE.add(kernel)


def unregister(kernel: Stoppable) -> None:
    with _LOCK:
        _LIVE.discard(kernel)


def new_manager(argv: list[str], ipc: Path) -> Any:
    """A KernelManager that starts `argv` and talks to it over IPC sockets in `ipc`."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import KernelManager

    km = KernelManager(transport="ipc", ip=str(ipc / "k"), connection_file=str(ipc / "kernel.json"))
    # A spec built here, not looked up: the command is the sandbox's, and interrupts go as
    # messages because signals cannot cross into bubblewrap's PID namespace.
    km._kernel_spec = KernelSpec(
        argv=argv, display_name="Python 3", language="python", interrupt_mode="message"
    )
    return km


def manager_pid(km: Any) -> int | None:
    """The pid of the process the manager started (bubblewrap's, in that mode)."""
    process = getattr(km.provisioner, "process", None)
    return int(process.pid) if process is not None else None


def log_tail(path: Path, chars: int = 2000) -> str:
    """The end of a kernel's log, for an error message; "" when there is none."""
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return ""
    return f"\n{text[-chars:]}" if text else ""
