"""Fixing a failed cell: the model is shown the cell's error and writes the cell again, a bounded
number of tries, each run at once.

`fix_tries` drives the tries on a `Session` (its `Session.fix` is the one press, its `auto_fix`
the same tries after a turn the model wrote): each try's prompt is the session's
`fix_prompt` (the history before the cell, then in the paper's format `feedback.fix_text`: the
failed code, what it raised, the instruction again; in chat the error as the next user message
after the failed answer); its code
replaces the cell's and runs. The tries end at the first that does not raise, at the bound, on
Stop, or when the model writes code already tried (not run again: its outcome is known, and the
cell keeps the failed try it had). The turn's `fixes` counts the tries (a second press counts
on); only its final code is ever in a later prompt. Undo is the caller's `record()`. It renders
no text of its own and knows nothing of pages or kernels.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Protocol

from codegen_ui.core.feedback import ErrorSummary, error_summary
from codegen_ui.core.model import CodeModel, SamplingParams
from codegen_ui.core.prompt import FittedPrompt
from codegen_ui.core.turns import Turn, now

MAX_TRIES = 3  # the most tries one fix (or one auto-fix) may make


class Session(Protocol):
    """What the tries need of `core.session.Session`: a protocol, so this module needs no
    import of the module that imports it."""

    turns: list[Turn]
    cancel: threading.Event
    model: CodeModel
    preamble: str

    def history(self, upto: int | None = None) -> list[tuple[str, str]]: ...

    def fix_prompt(
        self, index: int, instruction: str, code: str, summary: ErrorSummary, max_new_tokens: int
    ) -> FittedPrompt: ...

    def _write(
        self,
        index: int,
        fitted: FittedPrompt,
        params: SamplingParams,
        prefix: str = "",
        repeats: Callable[[str], bool] | None = None,
    ) -> Iterator[Turn]: ...

    def _changed(self) -> None: ...


def fixable(turn: Turn) -> ErrorSummary | None:
    """The error a fix would be given: a run that raised (a SyntaxError included), else None
    (the cell ran, timed out, was stopped, or has not run)."""
    return error_summary(turn.outputs) if turn.status == "error" else None


def same_code(code: str) -> str:
    """The code as tries are compared: trailing spaces and blank lines do not make it new."""
    return "\n".join(line.rstrip() for line in code.strip("\n").splitlines())


def fix_tries(session: Session, index: int, params: SamplingParams, tries: int) -> Iterator[Turn]:
    """Up to `tries` corrected versions of the failed cell `index`, yielding it as it changes."""
    failed = session.turns[index]
    tried = {same_code(failed.code)}
    made = 0
    # A cell fixed before (a second press) counts on from its earlier tries.
    for attempt in range(failed.fixes + 1, failed.fixes + min(tries, MAX_TRIES) + 1):
        summary = fixable(failed)
        if summary is None or session.cancel.is_set():
            break
        fitted = session.fix_prompt(
            index, failed.instruction, failed.code, summary, params.max_new_tokens
        )
        made = attempt
        session.turns[index] = Turn(failed.instruction, params, session.model.name, fixes=attempt)
        yield from session._write(index, fitted, params, repeats=lambda c: same_code(c) in tried)
        turn = session.turns[index]
        if turn.status in ("not-run", "empty") and not turn.outputs:
            # Nothing new to run: the cell keeps the failed try, saying why.
            if same_code(turn.code) in tried:
                why = "the model wrote code it had already tried, so it was not run again"
            else:
                why = turn.message if turn.status == "not-run" else "the model wrote no code"
            kept = failed.replace(fixes=attempt, message=f"{why}; {_left(failed)}")
            session.turns[index] = kept.replace(finished=now())
            break
        tried.add(same_code(turn.code))
        if turn.status != "error":
            break
        failed = turn
    if made:
        session.turns[index] = _said(session.turns[index], made)
        session._changed()
        yield session.turns[index]


def _left(turn: Turn) -> str:
    summary = fixable(turn)
    return f"the cell still raises {summary.ename}" if summary else "the cell is as it was"


def _said(turn: Turn, tries: int) -> Turn:
    """The cell's note once the tries are over."""
    n = "1 try" if tries == 1 else f"{tries} tries"
    if turn.status == "ok":
        return turn.replace(message=f"fixed by the model in {n}; Undo brings back the failed code")
    if turn.status == "error" and not turn.message:
        summary = fixable(turn)
        still = summary.line if summary else "an error"
        return turn.replace(message=f"still failing after {n} to fix it: {still}")
    return turn
