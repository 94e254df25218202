"""One MTPB program in a kernel, executed and judged the way the reference executes it.

The reference runs the whole program (preamble and every turn) as one `exec` with a 20 s
limit and a `print` that records its arguments; the answer is the first argument of the last
`print` call, and when the program does not end with a print call its last statement's value
is printed. It stops at the first exception, yet still scores the last print made before it.

Here the turns run one by one in a kernel, as the app runs them, through `ProgramRunner` (the
session's kernel): a fresh namespace with the recording `print` and the preamble per program,
one 20 s budget shared by all turns, nothing run after the first failure, and the final turn's
last value printed. `judge` then reads the answer back (as JSON, see `mtpb_wire`) and scores it.
It does not generate code or write results.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from codegen_ui.core import PREAMBLE
from codegen_ui.kernel import Kernel, KernelError, Output, RunResult, error_output
from codegen_ui.mtpb import wire as mtpb_wire
from codegen_ui.mtpb.problems import is_equivalent

Outcome = Literal["pass", "wrong", "no-print", "error", "timeout", "died", "syntax-error"]
THROUGH = "__mtpb_print_through__"  # prints a value and returns it (for a final assignment)

# Run first in every program: a fresh namespace, the wire encoder in a module of its own (so the
# program cannot clobber it), the recording print, then the preamble the model was shown.
_SETUP = """\
get_ipython().run_line_magic("reset", "-f")
import sys as _sys, types as _types
_m = _sys.modules["__mtpb__"] = _types.ModuleType("__mtpb__")
exec(compile({source!r}, "mtpb_wire", "exec"), _m.__dict__)
def _hook(stack=_m.stack, _print=print):
    def print(*args, **kwargs):
        stack.append(args)
        return _print(*args, **kwargs)
    return print
print = _hook()
def {through}(value):
    print(value)
    return value
def _report(stack=_m.stack, to_wire=_m.to_wire):
    if not stack or not stack[-1]:
        return {{"prints": len(stack)}}
    return {{"prints": len(stack), "value": to_wire(stack[-1][0])}}
_m.report = _report
del _sys, _types, _m, _hook, _report
"""
_FETCH = """\
__import__("IPython.display", fromlist=["display"]).display(
    {{{mime!r}: __import__("sys").modules["__mtpb__"].report()}}, raw=True)
"""


def setup_code(preamble: str = PREAMBLE) -> str:
    source = Path(mtpb_wire.__file__).read_text(encoding="utf-8") + "\nstack = []\n"
    return _SETUP.format(source=source, through=THROUGH) + preamble


def wrap_last_value(code: str) -> str:
    """Print the last statement's value unless it is a print call, as the reference does.

    An expression `x` becomes `print((x))`; an assignment's value goes through a helper that
    prints it and returns it, so the name is still bound. Anything else is left as it is.
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    last = tree.body[-1] if tree.body else None
    value = getattr(last, "value", None)
    if last is None or not isinstance(value, ast.expr) or _is_print_call(value):
        return code
    if not isinstance(last, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign)):
        return code
    call = "print" if isinstance(last, ast.Expr) else THROUGH
    return _splice(code, value, lambda text: f"{call}(({text}))")


def _is_print_call(value: ast.expr) -> bool:
    # The reference's test: the called name starts with "print" (print_result(...) counts).
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id.startswith("print")
    )


def _splice(code: str, node: ast.expr, change: Callable[[str], str]) -> str:
    # ast positions are UTF-8 byte offsets within lines.
    lines = code.encode().split(b"\n")

    def at(line: int, col: int) -> int:
        return sum(len(x) + 1 for x in lines[: line - 1]) + col

    data = code.encode()
    start = at(node.lineno, node.col_offset)
    end = at(node.end_lineno or node.lineno, node.end_col_offset or 0)
    return (data[:start] + change(data[start:end].decode()).encode() + data[end:]).decode()


@dataclass(frozen=True)
class Answer:
    prints: int = 0  # print calls the program made
    value: Any = None  # first argument of the last one (as read back)
    has_value: bool = False  # False when there was no print, or it had no argument
    error: str = ""  # why the answer could not be read back


class ProgramRunner:
    """The session's kernel for one MTPB program at a time (see the module docstring)."""

    def __init__(self, kernel: Kernel, limit: float = 20.0) -> None:
        self.kernel = kernel
        self.limit = limit
        self.final = False  # the next turn is the program's last: print its last value
        self.results: list[RunResult] = []
        self._reusable = True  # False after a timeout or a death: restart before the next

    def begin(self, preamble: str = PREAMBLE) -> None:
        """Start a new program: fresh namespace, recording print, preamble; raises KernelError."""
        for attempt in range(2):
            if not self._reusable or attempt:
                self.kernel.restart()  # a new process, rather than trust a disturbed one
            result = self.kernel.run(setup_code(preamble), timeout=60)
            if result.status == "ok":
                break
        else:
            raise KernelError(f"the benchmark could not set up the kernel: {error_text(result)}")
        self.final, self.results, self._reusable = False, [], True

    @property
    def failure(self) -> RunResult | None:
        return next((r for r in self.results if r.status != "ok"), None)

    @property
    def used(self) -> float:
        return sum(r.seconds for r in self.results)

    def run(
        self, code: str, timeout: float = 20.0, on_output: Callable[[Output], None] | None = None
    ) -> RunResult:
        if self.failure is not None:
            # The reference's single exec stops at the first exception; so do we.
            note = error_output("NotRun", "an earlier turn failed, so the program stops there")
            return RunResult("error", (note,))
        remaining = min(timeout, self.limit - self.used)
        if remaining <= 0:
            note = error_output("TimeoutError", f"the program used all of its {self.limit:g} s")
            result = RunResult("timeout", (note,))
        else:
            code = wrap_last_value(code) if self.final else code
            result = self.kernel.run(code, remaining, on_output)
        self.results.append(result)
        if result.status in ("timeout", "died"):
            self._reusable = False
        return result

    def restart(self) -> None:
        self.kernel.restart()

    def answer(self) -> Answer:
        """The value of the last print, read back from the kernel."""
        failure = self.failure
        if failure is not None and failure.status in ("timeout", "died"):
            return Answer(
                error="the program " + ("timed out" if failure.status == "timeout" else "died")
            )
        result = self.kernel.run(_FETCH.format(mime=mtpb_wire.MIME), timeout=30)
        data = next(
            (
                o["data"][mtpb_wire.MIME]
                for o in result.outputs
                if mtpb_wire.MIME in o.get("data", {})
            ),
            None,
        )
        if data is None:
            self._reusable = False
            return Answer(error=f"the answer could not be read back: {error_text(result)}")
        if isinstance(data, str):  # a JSON mimetype may arrive still encoded
            data = json.loads(data)
        if "value" not in data:
            return Answer(prints=int(data["prints"]))
        try:
            return Answer(int(data["prints"]), mtpb_wire.from_wire(data["value"]), True)
        except (ValueError, TypeError) as exc:
            return Answer(int(data["prints"]), error=f"the answer could not be decoded: {exc}")


def error_text(result: RunResult) -> str:
    """The first error of a run as one line, "Name: message"."""
    for out in result.outputs:
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    return result.status


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str  # one line: what went wrong, or what was printed
    answer: str = ""  # repr of the printed value, "" when there was none

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"


def judge(program: str, runner: ProgramRunner, answer: Answer, gold: Any) -> Verdict:
    """Score one executed program against its gold output."""
    try:
        ast.parse(program)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes, on older Pythons
        # The reference compiles the whole program first: one bad turn and nothing runs.
        line = getattr(exc, "lineno", None)
        where = f" (program line {line})" if line else ""
        return Verdict("syntax-error", f"SyntaxError: {getattr(exc, 'msg', exc)}{where}")
    failure = runner.failure
    if failure is not None and failure.status == "timeout":
        return Verdict("timeout", error_text(failure))
    if failure is not None and failure.status == "died":
        return Verdict("died", error_text(failure))
    then = f"; then {error_text(failure)}" if failure is not None else ""
    if not answer.has_value:
        if failure is not None:
            return Verdict("error", error_text(failure))
        return Verdict("no-print", answer.error or _no_print(answer))
    shown = _short(repr(answer.value))
    if is_equivalent(answer.value, gold):
        return Verdict("pass", f"printed {shown}{then}", shown)
    return Verdict("wrong", f"printed {shown}, expected {_short(repr(gold))}{then}", shown)


def _no_print(answer: Answer) -> str:
    if answer.prints:
        return "the last print call had no argument"
    return "the program printed nothing and its last statement has no value"


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
