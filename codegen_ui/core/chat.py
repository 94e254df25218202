"""The `chat` prompt format: a conversation as chat messages, and the model's answer cut to code.

A system message (Python for a stateful kernel, one code block, no prose, reuse what exists),
then per finished turn the instruction as a user message and its code as the assistant's
answer in a ```` ```python ```` fence, then the new instruction. The model's own chat template
(rendered by the model port, `CodeModel.render_chat`) turns the messages into text; the prompt
ends with the assistant turn prefilled with the opening fence (`FENCE`), so the model's answer
is code from its first token. `chat_code` cuts an answer to the code the kernel runs: up to the
closing fence, without prose before or after the code, a fence the model opened again, or a
reply with no fence at all; where the answer starts repeating itself (a `def` or `class` of
a name it already defined, a block written twice in a row); and, when it ran out of tokens
mid-statement (a long answer cut in a `def`), without that unfinished last statement (no code
at all when the first statement is the unfinished one).
`chat_complete` says when more text cannot change that code: the
engine stops there (or at the template's end-of-turn token, which is the model's business).

Roles alternate user/assistant after the system message; `fold_system` puts the system text
into the first user message for templates without a system role. Pure: rendering and token
counting are passed in; nothing here knows a tokenizer or a kernel.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Role = Literal["system", "user", "assistant"]

SYSTEM = (
    "You write Python code that runs in a Jupyter kernel which keeps its state between "
    "cells. Answer each request with exactly one ```python code block and nothing else: no "
    "explanation, no example output. Reuse the variables, functions and imports that earlier "
    "cells made; print what the request asks to show."
)
# A short worked exchange after the system message, kept whole when turns are trimmed: small
# models copy its shape (a few lines, earlier names reused, print only what is asked to show).
EXAMPLES = (
    ("Set greeting to 'hi'.", "greeting = 'hi'"),
    ("Add an exclamation mark to greeting.", "greeting = greeting + '!'"),
    ("Show greeting.", "print(greeting)"),
)
FENCE = "```python\n"  # the opening fence the assistant's answer is prefilled with
CLOSE = "```"
# A failed cell sent back: the next user message after the assistant's failed code.
FIX_REQUEST = "Running that code failed:\n{error}\nWrite the corrected code."
COMPLETE_REQUEST = "Continue this code."  # the user message of a completion with no instruction

_FENCE_LINE = re.compile(r"^[ \t]*```")
_OPENING = re.compile(r"^[ \t]*```[ \t]*(python3?|py|ipython)?[ \t]*$", re.IGNORECASE)
_CLOSING = re.compile(r"^[ \t]*```[ \t]*$")
# Three words in a row at the start of a line: a sentence, not a statement (`x = 1`, `f(a)`).
_WORDS = re.compile(r"^([A-Za-z][A-Za-z']*)[,:!.]?[ \t]+[A-Za-z][A-Za-z']*[,:]?[ \t]+[A-Za-z(]")
# A lead-in before the code: one word or a few, ending with a colon ("Sure:", "Solution:").
_LEAD_IN = re.compile(r"^([A-Za-z][A-Za-z']*)[^=()\[\]{}]*:[ \t]*$")
_LIST_ITEM = re.compile(r"^([-*+]|\d+[.)])[ \t]+[A-Za-z*`]")
_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
_DEFINES = re.compile(r"^(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_]\w*)")


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


def assistant_answer(code: str) -> str:
    """A finished turn's code as the assistant said it: one fenced block."""
    return f"{FENCE}{code.strip(chr(10))}\n{CLOSE}"


def chat_messages(
    history: Sequence[tuple[str, str]],
    instruction: str,
    system: str = SYSTEM,
    context: str = "",
    fix: tuple[str, str] | None = None,
    examples: Sequence[tuple[str, str]] = EXAMPLES,
) -> tuple[ChatMessage, ...]:
    """The messages for a new turn: the system message, the worked `examples` and each finished
    (instruction, code) as a user message and a fenced assistant answer, then the new user
    message.

    `context` is text put before the instruction in its user message (a summary of the
    kernel's state, say). `fix` is (failed code, error text): the instruction, the failed code
    as the assistant's answer, and the error as the next user message (`FIX_REQUEST`).
    """
    messages = [ChatMessage("system", system)] if system else []
    for asked, code in [*examples, *history]:
        messages += [ChatMessage("user", asked), ChatMessage("assistant", assistant_answer(code))]
    ask = f"{context.strip()}\n\n{instruction}" if context.strip() else instruction
    messages.append(ChatMessage("user", ask or COMPLETE_REQUEST))
    if fix is not None:
        failed, error = fix
        messages.append(ChatMessage("assistant", assistant_answer(failed)))
        messages.append(ChatMessage("user", FIX_REQUEST.format(error=error.strip())))
    return tuple(messages)


def fold_system(messages: Sequence[ChatMessage]) -> tuple[ChatMessage, ...]:
    """The same conversation for a template with no system role: the system text leads the
    first user message, so roles still alternate user/assistant."""
    if not messages or messages[0].role != "system":
        return tuple(messages)
    system, rest = messages[0], list(messages[1:])
    if rest and rest[0].role == "user":
        rest[0] = ChatMessage("user", f"{system.content}\n\n{rest[0].content}")
    else:
        rest.insert(0, ChatMessage("user", system.content))
    return tuple(rest)


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def is_prose(line: str) -> bool:
    """Whether a line reads as English or Markdown rather than Python: a sentence (three words
    in a row, not led by a keyword) or a list item, that does not parse as a statement."""
    if not line.strip() or line[0] in " \t#":
        return False
    words = _WORDS.match(line)
    if words and words.group(1) not in _KEYWORDS:
        return not _parses(line)
    return bool(_LIST_ITEM.match(line)) and not _parses(line)


def _lead_in(line: str) -> bool:
    found = _LEAD_IN.match(line)
    if found is None:
        return False
    return found.group(1) not in _KEYWORDS and not _parses(line + "\n pass")


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _skip_lead(lines: list[str]) -> list[str]:
    """Drop blank lines and prose before the code, and an opening fence after them."""
    start = 0
    while start < len(lines) and (
        not lines[start].strip() or is_prose(lines[start]) or _lead_in(lines[start])
    ):
        start += 1
    if start < len(lines) and _OPENING.match(lines[start]):
        start += 1
    return lines[start:]


def _top(line: str) -> bool:
    """A line at column 0 that may start a statement (not a closing bracket or a comment)."""
    return bool(line) and line[0] not in " \t#)]}"


def _repeat_at(lines: list[str], i: int, tops: list[int], defined: set[str]) -> int | None:
    """Where a repetitive answer should end, judged at top-level line `i`: `i` itself when it
    defines a name this answer defined already, or the start of the block before `i` when that
    block is the one before it again, line for line. The code before the end must parse (so
    `i` is not inside a string). None: no repetition here."""
    named = _DEFINES.match(lines[i]) if i < len(lines) else None
    if named and named.group(1) in defined and _parses("\n".join(lines[:i])):
        return i
    if len(tops) >= 2:
        a, b = tops[-2], tops[-1]
        first = "\n".join(lines[a:b]).strip()
        if first and first == "\n".join(lines[b:i]).strip() and _parses("\n".join(lines[:b])):
            return b
    return None


def _code_end(lines: list[str], final: bool, start: int = 0) -> int | None:
    """The index of the line where the code ends: a fence line, a prose line after code that
    parses, or where the answer starts repeating itself (`_repeat_at`); from line `start` on.
    Unless `final`, the last line counts only once a newline follows it, so an end found is
    final."""
    whole = lines if final else lines[:-1]
    tops: list[int] = []
    defined: set[str] = set()
    for i in range(start, len(whole)):
        line = whole[i]
        if _FENCE_LINE.match(line):
            return i
        if is_prose(line):
            before = "\n".join(lines[:i])
            if before.strip() and _parses(before):
                return i
        if _top(line):
            again = _repeat_at(lines, i, tops, defined)
            if again is not None:
                return again
            tops.append(i)
            named = _DEFINES.match(line)
            if named:
                defined.add(named.group(1))
    if final and len(tops) >= 2:  # the last block, ended by the text's end
        return _repeat_at(lines, len(whole), tops, set())
    return None


def _whole_statements(lines: list[str]) -> list[str]:
    """An answer that ran out (the token limit) without its code ending: without the last
    top-level statement when that one is unfinished (a `def` cut in its body), so the rest
    runs; none at all when its first statement is unfinished (a line that ran on until the
    limit), which could only raise a SyntaxError. Code that parses stays as it is."""
    if _parses("\n".join(lines)):
        return lines
    for i in range(len(lines) - 1, 0, -1):
        if _top(lines[i]) and _parses("\n".join(lines[:i])):
            return lines[:i]
    return []


def chat_code(answer: str) -> str:
    """The code in a model's answer (what follows the prefilled opening fence): up to the
    closing fence or the first prose after the code, without prose or a fence before it; a
    reply with no fence at all is its code. Prose alone gives no code ("")."""
    lines = _skip_lead(_lines(answer))
    end = _code_end(lines, final=True)
    kept = lines[:end] if end is not None else _whole_statements(lines)
    return "\n".join(kept).strip("\n").rstrip()


def chat_complete(answer: str) -> bool:
    """True once more text cannot change `chat_code`: a fence line after the code, or a prose
    line after code that parses, has been written in full."""
    lines = _skip_lead(_lines(answer))
    return _code_end(lines, final=False) is not None


def chat_continuation(prefix: str, continuation: str) -> str:
    """The user's code followed by the model's continuation, cut where the code ends (a fence
    or prose); the user's code is kept byte for byte, and a continuation that cuts to blank
    adds nothing."""
    lines = _lines(prefix + continuation)
    head = len(_lines(prefix)) - 1  # the line the continuation starts on
    end = _code_end(lines, final=True, start=head)
    added = ("\n".join(lines[:end]) if end is not None else prefix + continuation)[len(prefix) :]
    return prefix + added.rstrip() if added.strip() else prefix
