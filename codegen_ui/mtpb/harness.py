"""Inside the kernel: run one MTPB program as the reference's scorer runs it.

Its source is sent to the kernel verbatim (with `wire`'s), so it imports only the standard
library. `run(code, limit)` executes the program in a fresh namespace whose `print` records its
arguments, under a SIGALRM deadline that raises a `TimeoutError`, an `Exception` like the
reference's `TimeoutException`: the program stops at its first exception or at the deadline,
and the prints made before still count. `report(gold_type)` then gives the last print's first
argument cast to the gold's type (`wire.cast`) as a JSON-able dict. It does not judge.
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

KERNEL_NAME = "__mtpb__"  # this module's name in the kernel's sys.modules
WIRE_NAME = "__mtpb_wire__"  # wire.KERNEL_NAME (this module cannot import codegen_ui)
CAST_LIMIT_S = 10.0  # list() of an endless generator must end

stack: list[tuple[Any, ...]] = []  # the args of every print call of the current program
state: dict[str, Any] = {}  # how the current program ended
namespace: dict[str, Any] = {}  # the current program's names (read by `mtpb --state`)


def _alarm(signum: int, frame: Any) -> None:
    # Remembered, so the program's own TimeoutErrors are told apart from the deadline's.
    state["alarm"] = TimeoutError("Timed out!")
    raise state["alarm"]


def _recording_print(out: Callable[..., None] = print) -> Callable[..., None]:
    def print(*args: Any, **kwargs: Any) -> None:  # it is the program's print
        stack.append(args)
        return out(*args, **kwargs)

    return print


def run(code: str, limit: float) -> None:
    """Execute a whole program; how it ended is in `state`, its prints in `stack`."""
    del stack[:]
    state.clear()
    state.update(error="", timed_out=False)
    namespace.clear()
    namespace.update({"__name__": "__main__", "print": _recording_print()})
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        exec(compile(code, "<program>", "exec"), namespace)  # the sandboxed kernel
    except BaseException as exc:  # SystemExit and the like end it the same way
        # KeyboardInterrupt: the host's own deadline interrupted the kernel.
        if exc is state.get("alarm") or isinstance(exc, KeyboardInterrupt):
            state.update(timed_out=True, error="Timed out!")
        else:
            state["error"] = _exception_line(exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _exception_line(exc: BaseException) -> str:
    # "Name: message" as the traceback's last line says it; codegen_ui's errors.one_line cannot
    # be used here (this module runs in the kernel, on the standard library alone).
    return traceback.format_exception_only(type(exc), exc)[-1].strip()[:500]


def report(gold_type: str) -> dict[str, Any]:
    """The answer: prints made, how the program ended, the cast value of the last print."""
    out: dict[str, Any] = {
        "prints": len(stack),
        "error": state.get("error", ""),
        "timed_out": bool(state.get("timed_out")),
    }
    if not stack or not stack[-1]:
        out["kind"] = "none"
        return out
    value = stack[-1][0]
    wire = sys.modules[WIRE_NAME]
    out["shown"] = wire.shown(value)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CAST_LIMIT_S)
    try:
        out.update(wire.cast(value, gold_type))
    except BaseException as exc:  # generated code's __iter__ and __str__ run here
        out.update(kind="cast-error", cast_error=_exception_line(exc))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return out
