"""`mtpb --fix N` and `mtpb --state`: what a sample's model is told besides the paper's history.

Off by default: the reference's protocol is untouched unless a run asks. With `state`, before
each turn the program so far runs (`Executor.probe`) and what its names hold (`state_of`) is
told in that turn's prompt alone, as the app tells it: in the paper's format a block between
the history and the new prompt (`core.state_block`), in chat the lines before the user's
request. With `fix`, after each turn the program so far runs; if it raised (and the program
before this turn did not: an earlier turn's error is not this one's), the model is shown the
failed code's exception line, as the app's Fix shows it (paper: `fix_tail`; chat: the failed
code as the assistant's answer, the error as the next user message), and writes the turn again,
up to `fix` times, until it runs; code already tried is not run again. The history keeps the
final code only. The gold output and the test's check are never shown: only the program's own error.
Nothing here loads a model or writes results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from codegen_ui.core import ErrorSummary, KernelState, fix_block, same_code, summarize_error
from codegen_ui.mtpb.execute import Executor
from codegen_ui.mtpb.program import wrap


@dataclass(frozen=True)
class Feedback:
    """What a run gives the model besides the history, and where its programs run."""

    executor: Executor
    fix: int = 0  # tries at a turn whose program raised
    state: bool = False  # the program's names before each turn


def summary_of(line: str) -> ErrorSummary:
    """An exception line ("NameError: name 'x' is not defined") as an `ErrorSummary`."""
    name, _, value = line.partition(": ")
    return summarize_error(name.strip() or "Error", value)


def state_of(feedback: Feedback | None, program: str) -> KernelState:
    """What the program so far holds (empty without `state`)."""
    if feedback is None or not feedback.state:
        return KernelState()
    _, state = feedback.executor.probe(program, state=True)
    return state


def fix_tail(prompt: str, code: str, error: str) -> str:
    """The prompt's last piece for a fix: what the failed code raised, and the prompt again
    (`core.fix_block`, with the reference's own `# {prompt}` comment)."""
    return fix_block(wrap(prompt), code, summary_of(error))


@dataclass
class Tries:
    """The fix tries of one sample: how many were made, and what they cost."""

    made: int = 0
    tokens: int = 0
    seconds: float = 0.0


def fix_turn(
    feedback: Feedback,
    before: str,
    prompt: str,
    code: str,
    write: Callable[[str, str], tuple[str, int, float]],
    tries: Tries,
) -> tuple[str, bool]:
    """The turn's code after up to `feedback.fix` tries, and whether the program then runs.

    `before` is the program up to this turn's prompt; `write(code, error)` asks the model to
    correct `code`, which raised `error` (its exception line), after the history, and gives
    (cut code, new tokens, seconds)."""
    error, _ = feedback.executor.probe(before + wrap(prompt) + f"{code}\n\n")
    tried = {same_code(code)}
    for _ in range(feedback.fix):
        if not error:
            break
        new, tokens, seconds = write(code, error)
        tries.made += 1
        tries.tokens += tokens
        tries.seconds += seconds
        if not new.strip() or same_code(new) in tried:
            break
        code = new
        tried.add(same_code(code))
        error, _ = feedback.executor.probe(before + wrap(prompt) + f"{code}\n\n")
    return code, not error
