"""The conversational prompt format of the CodeGen paper, as pure functions.

The prompt is a preamble, then per turn the instruction as a `# ` comment line followed by the
code the model wrote (cut by `truncate`) and a blank line. Execution results never enter it.
A completion of the user's own code (`completion_prompt`, `completed_code`) ends the prompt with
their code instead of a new comment, and cuts only what the model added.
This module knows nothing about models, tokens or kernels: token counting is passed in. It is
the `paper` format of `core.formats`, which also offers the model's own chat format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codegen_ui.errors import UserError

# Exactly the MTPB sampler's prefix (codegen1/benchmark/mtpb_sample.py).
PREAMBLE = "# Import libraries.\n\nimport numpy as np\n\n"
EOS_TEXT = "<|endoftext|>"

_NEWLINE = re.compile(r"\r\n|\r|\n")
_PRINT = re.compile(r"^print", re.MULTILINE)
_DEF = re.compile(r"^def", re.MULTILINE)
_TERMINALS = [
    re.compile(pattern, re.MULTILINE)
    for pattern in (r"^#", re.escape(EOS_TEXT), r"^'''", r'^"""', r"\n\n\n")
]


class PromptTooLongError(UserError, ValueError):
    """Even with every earlier turn trimmed, the prompt leaves no room to generate."""


def truncate(completion: str) -> str:
    """Cut a raw completion to the code of one turn, by the paper's rules.

    1. a second top-level `print` ends the turn; 2. then a second top-level `def`;
    3. then the earliest top-level `#`, end-of-text marker, docstring quote or two blank lines.
    """
    prints = [m.start() for m in _PRINT.finditer(completion)]
    if len(prints) > 1:
        completion = completion[: prints[1]]
    defs = [m.start() for m in _DEF.finditer(completion)]
    if len(defs) > 1:
        completion = completion[: defs[1]]
    cuts = [m.start() for m in (t.search(completion) for t in _TERMINALS) if m]
    return completion[: min(cuts)] if cuts else completion


def is_complete(completion: str) -> bool:
    """True once the completion holds a whole turn, so generating more cannot change the code.

    A cut happens only when a rule matched strictly inside the text, and every rule matches on a
    prefix, so more text can only add later matches: the cut point is final.
    """
    return truncate(completion) != completion


def instruction_comment(instruction: str) -> str:
    """The comment block for one instruction: `# line` for each of its lines.

    A one-line instruction gives exactly the paper's `f"# {instruction}\\n"`. Blank lines inside
    a multi-line instruction become a bare `#` so the comment block stays one block.
    """
    # Only Python's own line breaks: U+2028 and the like stay inside a comment line, as in the
    # paper's f"# {instruction}\n" (str.splitlines would break the comment there).
    lines = _NEWLINE.split(instruction.strip("\r\n")) or [""]
    return "".join(f"# {line.rstrip()}\n" if line.strip() else "#\n" for line in lines)


def turn_text(instruction: str, code: str) -> str:
    """One finished turn as it stands in the prompt: the comment, the code, a blank line."""
    return instruction_comment(instruction) + code + "\n\n"


def program_text(history: Sequence[tuple[str, str]], preamble: str = PREAMBLE) -> str:
    """The conversation so far as one program: the preamble, then each turn's comment and code.

    This is the prompt's history, the `.py` export and the program MTPB executes, all one text.
    """
    return preamble + "".join(turn_text(i, c) for i, c in history)


def render_prompt(
    history: Sequence[tuple[str, str]], instruction: str, preamble: str = PREAMBLE
) -> str:
    """The prompt for a new turn: preamble, every finished (instruction, code), new comment."""
    return program_text(history, preamble) + instruction_comment(instruction)


def completion_prompt(
    history: Sequence[tuple[str, str]], instruction: str, code: str, preamble: str = PREAMBLE
) -> str:
    """The prompt that continues the user's own code: the history, the cell's instruction
    comment if it has one, then their code exactly as written (no new comment after it)."""
    comment = instruction_comment(instruction) if instruction.strip() else ""
    return program_text(history, preamble) + comment + code


def completed_code(prefix: str, continuation: str) -> str:
    """The user's code followed by the model's continuation, cut by `truncate`.

    The cut is the paper's, applied to the continuation alone (the engine stops on the same
    rule), so the user's code is kept byte for byte, whatever it holds: their own `print`s and
    `def`s never count. A continuation that cuts to blank adds nothing, not stray whitespace.
    """
    added = truncate(continuation)
    return prefix + added if added.strip() else prefix


@dataclass(frozen=True)
class FittedPrompt:
    text: str  # the prompt given to the model
    tokens: int  # its length in tokens
    trimmed: int  # how many of the oldest turns were left out to fit the context
    budget: int  # the most prompt tokens allowed (context minus new tokens)
    prompt_format: str = "paper"  # which format rendered it (`core.formats`): how to cut


def fit_prompt(
    history: Sequence[tuple[str, str]],
    instruction: str,
    count_tokens: Callable[[str], int],
    context: int,
    max_new_tokens: int,
    preamble: str = PREAMBLE,
) -> FittedPrompt:
    """Render the prompt, dropping the oldest whole turns until it plus the answer fits.

    The preamble and the new instruction are always kept; the notebook keeps every turn, only
    the prompt forgets. Raises PromptTooLongError when nothing more can be dropped.
    """
    tail = instruction_comment(instruction)
    return _fit(history, tail, count_tokens, context, max_new_tokens, preamble, "the instruction")


def fit_completion(
    history: Sequence[tuple[str, str]],
    instruction: str,
    code: str,
    count_tokens: Callable[[str], int],
    context: int,
    max_new_tokens: int,
    preamble: str = PREAMBLE,
) -> FittedPrompt:
    """`completion_prompt`, dropping the oldest whole turns until it plus the answer fits.

    The cell's comment and code are always kept whole; raises PromptTooLongError when they
    alone leave no room."""
    comment = instruction_comment(instruction) if instruction.strip() else ""
    subject = "the code to complete"
    return _fit(history, comment + code, count_tokens, context, max_new_tokens, preamble, subject)


def _fit(
    history: Sequence[tuple[str, str]],
    tail: str,
    count_tokens: Callable[[str], int],
    context: int,
    max_new_tokens: int,
    preamble: str,
    subject: str,
) -> FittedPrompt:
    """The preamble, as many of the newest turns as fit, then `tail` (always kept)."""
    budget = context - max_new_tokens
    for trimmed in range(len(history) + 1):
        text = program_text(history[trimmed:], preamble) + tail
        tokens = count_tokens(text)
        if tokens <= budget:
            return FittedPrompt(text, tokens, trimmed, budget)
    raise PromptTooLongError(
        f"{subject} needs {tokens} prompt tokens but only {budget} fit "
        f"({context} context - {max_new_tokens} new tokens); shorten it or lower max new tokens"
    )
