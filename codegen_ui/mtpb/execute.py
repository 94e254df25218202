"""One whole MTPB program in a kernel, executed and judged the way the reference's scorer does.

The program (prefix, every prompt and every cut completion) is rewritten to print its last value
(`program.with_last_print`) and run once in a kernel by `harness.run` (installed, with `wire`,
by `evals.Harness`, and again after the kernel is replaced): a fresh namespace, a recording
`print`, a 20 s deadline inside the kernel that stops the program like any other exception, the
prints before it still scored. `harness.report` then casts the last print's first argument to
the gold's type in the kernel and sends it back as tagged JSON (`wire`); `judge` compares it
with the gold here (`verdicts`). A deadline on this side, past the kernel's own, catches code
that no signal can stop. `probe` runs a program so far as it stands (for `mtpb --fix` and
`--state`): the exception line it raised, and what its namespace holds. It does not generate
code or write results.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from codegen_ui.core import KernelState, Runner
from codegen_ui.evals import Harness, displayed, error_text
from codegen_ui.mtpb import harness, wire
from codegen_ui.mtpb.program import with_last_print
from codegen_ui.mtpb.verdicts import is_equivalent, reference_equivalent

Outcome = Literal["pass", "wrong", "no-print", "error", "timeout", "died", "syntax-error"]
LIMIT_S = 20.0  # the reference's time limit per program
BACKSTOP_S = 10.0  # past the kernel's own deadline, this side interrupts the kernel
REPORT_S = 30.0  # for the answer's cast (an endless iterator hits the kernel's own alarm)

_RUN = '__import__("sys").modules["__mtpb__"].run({code!r}, {limit!r})\n'
_ERROR = 'print(__import__("sys").modules["__mtpb__"].state.get("error", ""))\n'
_NAMESPACE = 'sys.modules["__mtpb__"].namespace'
_REPORT = """\
__import__("IPython.display", fromlist=["display"]).display(
    {{{mime!r}: __import__("sys").modules["__mtpb__"].report({gold_type!r})}}, raw=True)
"""


# `wire` and `harness`, installed in the kernel as modules of their own.
MODULES = ((wire.KERNEL_NAME, Path(wire.__file__)), (harness.KERNEL_NAME, Path(harness.__file__)))


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str  # one line: what went wrong, or what was printed
    answer: str = ""  # repr of the printed value, "" when there was none
    reference: bool = False  # the verdict by the reference's rules exactly

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    def fields(self) -> dict[str, Any]:
        """What a results line records of it."""
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "answer": self.answer,
            "reference": self.reference,
        }


def gold_type(gold: Any) -> str:
    name = type(gold).__name__
    return name if name in wire.GOLD_TYPES else "NoneType"


class Executor:
    """Runs programs one at a time in one kernel (see the module docstring)."""

    def __init__(self, kernel: Runner, limit: float = LIMIT_S) -> None:
        self.kernel = kernel
        self.limit = limit
        self.seconds = 0.0  # time the last program ran
        self.harness = Harness(kernel, MODULES, "MTPB")

    def score(self, program: str, gold: Any) -> Verdict:
        """Run one program and judge its answer; raises KernelError if no kernel can run it."""
        self.seconds = 0.0
        try:
            ast.parse(program)
        except (SyntaxError, ValueError) as exc:  # ValueError: null bytes
            # The reference runs it anyway; it fails before its first print all the same.
            line = getattr(exc, "lineno", None)
            where = f" (program line {line})" if line else ""
            return Verdict("syntax-error", f"SyntaxError: {getattr(exc, 'msg', exc)}{where}")
        self.harness.ready()
        code = _RUN.format(code=with_last_print(program), limit=self.limit)
        result = self.kernel.run(code, timeout=self.limit + BACKSTOP_S)
        self.seconds = result.seconds
        if result.state_lost or result.status == "died":
            self.harness.lost(result)  # restarted already: the harness goes in again
            if result.status == "died":
                return Verdict("died", error_text(result))
            return Verdict("timeout", f"the program could not be stopped: {error_text(result)}")
        report = self._report(gold)
        if report is None:
            return Verdict("error", "the answer could not be read back from the kernel")
        return judge(report, gold)

    def probe(self, program: str, state: bool = False) -> tuple[str, KernelState]:
        """Run a program so far as it is: the exception line it raised ("" when none, or when
        it only timed out) and, with `state`, what its names hold (`kernel.read_state`)."""
        from codegen_ui.kernel import read_state

        try:
            ast.parse(program)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            where = f" (program line {line})" if line else ""
            return f"SyntaxError: {getattr(exc, 'msg', exc)}{where}", KernelState()
        self.harness.ready()
        code = _RUN.format(code=program, limit=self.limit)
        result = self.kernel.run(code, timeout=self.limit + BACKSTOP_S)
        if result.state_lost or result.status == "died":
            self.harness.lost(result)
            return "", KernelState()
        said = self.kernel.run(_ERROR, REPORT_S)
        error = "".join(str(o.get("text", "")) for o in said.outputs).strip()
        error = "" if error == "Timed out!" else error
        found = read_state(self.kernel, namespace=_NAMESPACE, files=False) if state else None
        return error, found or KernelState()

    def _report(self, gold: Any) -> dict[str, Any] | None:
        code = _REPORT.format(mime=wire.MIME, gold_type=gold_type(gold))
        result = self.kernel.run(code, timeout=REPORT_S)
        data = displayed(result, wire.MIME)
        if data is None:
            self.harness.lost(result)  # restart before the next program
            return None
        return data if isinstance(data, dict) else None


def judge(report: dict[str, Any], gold: Any) -> Verdict:
    """A verdict from the kernel's report (see `harness.report`) and the gold output."""
    error = str(report.get("error") or "")
    timed_out = bool(report.get("timed_out"))
    then = "; then it timed out" if timed_out else (f"; then {error}" if error else "")
    kind = report.get("kind")
    if kind == "none":
        if timed_out:
            return Verdict("timeout", "it timed out before any print with an argument")
        if error:
            return Verdict("error", error)
        if report.get("prints"):
            return Verdict("no-print", "the last print call had no argument")
        nothing = "the program printed nothing and its last statement has no value"
        return Verdict("no-print", nothing)
    shown = str(report.get("shown", ""))
    if kind == "cast-error":
        why = str(report.get("cast_error", ""))
        reason = f"printed {shown}, which is no {gold_type(gold)}: {why}{then}"
        return Verdict("wrong", reason, shown)
    reference = reference_equivalent(report, gold)
    if is_equivalent(report, gold):
        return Verdict("pass", f"printed {shown}{then}", shown, reference)
    reason = f"printed {shown}, expected {_short(repr(gold))}{then}"
    return Verdict("wrong", reason, shown, reference)


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
