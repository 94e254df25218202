"""What the model is told besides the paper's history: a failed cell's error, the kernel's state.

Pure functions over plain data, mostly for the `paper` prompt format: `error_summary` reads a
failed run's outputs into an `ErrorSummary` (the exception line and the traceback's last lines, ANSI
stripped, capped in lines and characters); `fix_text` is what follows the history when the model
is asked to correct a cell (the cell's comment, its failed code, a comment block saying what it
raised, the comment again; a one-line failed code is quoted in a comment instead);
`KernelState` is a summary of the names and files a kernel holds, `state_block` its block in the
paper format (a string statement, not comments: see there) and `state_context` its text in a
chat user message; the block stands after every earlier turn and just before the new
instruction, so the history before it stays a prefix of every later prompt (a KV cache of it
stays valid) and no later prompt holds it. `fit_fix` and `fit_turn` fit those prompts to the
context as `core.prompt` fits the others: oldest turns go first.

It reads no kernel and calls no model: `core.fixes` drives the tries, `codegen_ui.kernel` reads
the state from inside a kernel; the chat format asks for a fix in `core.chat`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from codegen_ui.core.kernel import Output
from codegen_ui.core.prompt import PREAMBLE, FittedPrompt, fit_completion, instruction_comment

TAIL_LINES = 6  # traceback lines kept after the exception line's own
LINE_CHARS = 200  # the most characters of one kept line
SUMMARY_CHARS = 1000  # the most characters of a whole summary (exception line plus tail)
STATE_CHARS = 1500  # the most characters of the kernel-state block
STATE_HEAD = '"""The kernel holds:\n'  # the paper's state block opens a string (see state_block)
STATE_END = '"""\n'
MORE = "(and more)\n"

# The fix prompt's comments. Measured on SmolLM2-135M-Instruct with sixteen tiny failing
# programs (docs/guide/fix.md has the table): with the failed code in the code position the
# model mostly copies it; a one-line failed code quoted in a comment, then the instruction
# again, did best. Longer code stays in place, followed by FIX_SAID and the instruction.
FIX_SAID = "# The code above raised {error}.\n# Rewrite it so that it works.\n"
FIX_QUOTED = "# The code `{code}` raised {error}.\n"
QUOTED_CHARS = 120  # the longest one-line code quoted in a comment
REWRITE = "# Rewrite it so that it works.\n"  # the comment to write after, with no instruction

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# IPython names a cell's file by a hash: "expected ':' (1265993938.py, line 1)".
_CELL_FILE = re.compile(r" \((?:\d+|<[^>]*>)\.py, (line \d+)\)$")
_RULE = re.compile(r"^-{10,}$")


@dataclass(frozen=True)
class ErrorSummary:
    """What a failed run raised: the exception and the last lines of its traceback."""

    ename: str  # "NameError"
    evalue: str  # "name 'x' is not defined", one line, capped
    tail: tuple[str, ...] = ()  # the traceback's last lines before the exception line

    @property
    def line(self) -> str:
        """The exception line as Python prints it: "NameError: name 'x' is not defined"."""
        return f"{self.ename}: {self.evalue}" if self.evalue else self.ename

    def text(self) -> str:
        """The tail and the exception line, one per line (what a chat message would show)."""
        return "\n".join((*self.tail, self.line))


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def summarize_error(
    ename: str,
    evalue: str,
    traceback: Iterable[str] = (),
    lines: int = TAIL_LINES,
    chars: int = SUMMARY_CHARS,
) -> ErrorSummary:
    """An `ErrorSummary` of one error: colours gone, rules and blank lines dropped, at most
    `lines` traceback lines of `LINE_CHARS` each, `chars` in all (the oldest lines go first)."""
    value = _one_line(_CELL_FILE.sub(r" (\1)", strip_ansi(evalue).strip()), chars // 2)
    exception = f"{ename}: {value}" if value else ename
    kept: list[str] = []
    for line in strip_ansi("\n".join(traceback)).splitlines():
        line = line.rstrip()
        if line.strip() and not _RULE.match(line.strip()):
            kept.append(_cap(line, LINE_CHARS))
    if kept and (kept[-1].strip().startswith(f"{ename}:") or kept[-1].strip() == ename):
        kept.pop()  # the exception line itself: `line` says it
    kept = kept[-lines:] if lines > 0 else []
    budget = chars - len(exception)
    while kept and sum(len(k) + 1 for k in kept) > budget:
        kept.pop(0)
    return ErrorSummary(ename, value, tuple(kept))


def error_summary(outputs: Sequence[Output]) -> ErrorSummary | None:
    """The summary of a run's error output, or None when it raised nothing a fix could mend
    (no error, or only the KeyboardInterrupt that Stop or a deadline sends)."""
    for out in reversed(outputs):
        if out.get("output_type") == "error":
            ename = str(out.get("ename") or "Error")
            if ename == "KeyboardInterrupt":
                return None
            return summarize_error(ename, str(out.get("evalue") or ""), out.get("traceback") or ())
    return None


def fix_comment(summary: ErrorSummary) -> str:
    """The comment block after the failed code: what it raised, and what to do."""
    return FIX_SAID.format(error=summary.line.rstrip("."))


def fix_text(instruction: str, code: str, summary: ErrorSummary) -> str:
    """What follows the history in a fix prompt; the model's text after it is cut by the
    paper's rules as a turn's. One line of failed code is quoted in a comment saying what it
    raised, then the cell's comment follows; longer code stands as it was (after its comment),
    then the fix comment and the cell's comment again."""
    comment = instruction_comment(instruction) if instruction.strip() else ""
    return fix_block(comment, code, summary)


def fix_block(comment: str, code: str, summary: ErrorSummary) -> str:
    """`fix_text` for a comment already rendered (MTPB's `# {prompt}` is the reference's)."""
    line = code.strip()
    if "\n" not in line and len(line) <= QUOTED_CHARS and "`" not in line:
        said = FIX_QUOTED.format(code=line, error=summary.line.rstrip("."))
        return said + (comment or REWRITE)
    failed = code.rstrip("\n") + "\n\n"
    return comment + failed + fix_comment(summary) + comment


def fit_fix(
    history: Sequence[tuple[str, str]],
    instruction: str,
    code: str,
    summary: ErrorSummary,
    count_tokens: Callable[[str], int],
    context: int,
    max_new_tokens: int,
    preamble: str = PREAMBLE,
) -> FittedPrompt:
    """The fix prompt (`fix_text` after the history), dropping the oldest turns to fit."""
    tail = fix_text(instruction, code, summary)
    return fit_completion(history, "", tail, count_tokens, context, max_new_tokens, preamble)


# ---- the kernel's state ----------------------------------------------------------------------


@dataclass(frozen=True)
class NameInfo:
    """One user-defined name: its type's name, and what can be told safely (a shape, dtypes,
    a short literal value); empty where the value could be large or costly to look at."""

    name: str
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class FileInfo:
    """One file of the session's folder: its name, size, and a CSV's header line."""

    name: str
    size: int
    header: str = ""


@dataclass(frozen=True)
class KernelState:
    """What a kernel holds, as read from inside it (`codegen_ui.kernel.read_state`)."""

    names: tuple[NameInfo, ...] = ()
    files: tuple[FileInfo, ...] = ()
    complete: bool = True  # False: the reading stopped at its cap; more is there

    def __bool__(self) -> bool:
        return bool(self.names or self.files)


def state_lines(state: KernelState) -> list[str]:
    """The summary as plain lines (no comment marks): one per name, then the files."""
    lines = []
    for n in state.names:
        lines.append(f"{n.name}: {n.kind}" + (f", {n.detail}" if n.detail else ""))
    for f in state.files:
        header = f", columns: {f.header}" if f.header else ""
        lines.append(f"file {f.name} ({_size(f.size)}{header})")
    if not state.complete:
        lines.append("(and more)")
    return lines


def state_block(state: KernelState, chars: int = STATE_CHARS) -> str:
    """The paper format's block before the instruction: a string statement (`STATE_HEAD`, a
    line per name and file, closing quotes), empty for an empty state. At most `chars`
    characters: lines past the cap are left out, and a last line says so. Quotes that would
    close the string early are escaped.

    Not a comment block: after a run of comment lines, SmolLM2-135M-Instruct went on writing
    comments (an empty turn by the paper's rules) in 8 of 12 simple sessions; after a string
    it wrote code, and ended its code as a program would (docs/guide/fix.md has the table)."""
    if not state:
        return ""
    out, used = [STATE_HEAD], len(STATE_HEAD) + len(STATE_END)
    for line in state_lines(state):
        text = _cap(line, LINE_CHARS).replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + "\n"
        if used + len(text) > chars - len(MORE):  # room kept for the last line
            out.append(MORE)
            break
        out.append(text)
        used += len(text)
    return "".join(out) + STATE_END


def state_context(state: KernelState) -> str:
    """The chat format's text before the instruction, in the user's message: the same lines
    as `state_block`'s, under the same head ("" for an empty state)."""
    return STATE_HEAD.lstrip('"') + "\n".join(state_lines(state)) if state else ""


def fit_turn(
    history: Sequence[tuple[str, str]],
    instruction: str,
    state: KernelState,
    count_tokens: Callable[[str], int],
    context: int,
    max_new_tokens: int,
    preamble: str = PREAMBLE,
) -> FittedPrompt:
    """A new turn's prompt with the state's block between the history and the
    instruction's comment (exactly `fit_prompt`'s prompt for an empty state)."""
    tail = state_block(state) + instruction_comment(instruction)
    return fit_completion(history, "", tail, count_tokens, context, max_new_tokens, preamble)


def _one_line(text: str, limit: int) -> str:
    return _cap(" ".join(text.split()), limit)


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024**2:
        return f"{size / 1024:.0f} KiB"
    return f"{size / 1024**2:.1f} MiB"
