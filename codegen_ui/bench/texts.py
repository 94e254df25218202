"""The benchmark's stand-in conversations: instructions, and standard-library code as turns,
and histories of a given token size built from them.

Shared by the single-user measurements (`work`), the classroom (`classroom`) and llama.cpp's
(`llamacpp`); pure Python.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable

from codegen_ui.core import render_prompt

INSTRUCTIONS = [
    "Write a function that parses the arguments.",
    "Print the result.",
    "Define a class for the table.",
    "Sort the rows by the second column.",
    "Count the words in the text.",
]


def snippets() -> list[str]:
    """Function-sized chunks of standard-library code to stand for turns' code."""
    import fractions
    import string

    code = inspect.getsource(fractions) + inspect.getsource(string)
    chunks = [textwrap.dedent(c.strip("\n")) for c in code.split("\n\n")]
    # Turns in MTPB are a few lines of code long: keep up to 8 lines of code-like chunks.
    starts = ("def ", "class ", "if ", "for ", "return ", "self.")
    return ["\n".join(c.splitlines()[:8]) for c in chunks if c.startswith(starts)]


def history_of(count_tokens: Callable[[str], int], tokens: int) -> list[tuple[str, str]]:
    """Whole turns whose prompt (the paper's format) is just under `tokens` long, counted by
    `count_tokens` (an engine's tokenizer or a server's); empty for 0."""
    history: list[tuple[str, str]] = []
    for i, code in enumerate(snippets() * 4):
        turn = (INSTRUCTIONS[i % len(INSTRUCTIONS)], code)
        if count_tokens(render_prompt([*history, turn], "x")) > tokens:
            break
        history.append(turn)
    return history


def class_histories(
    count_tokens: Callable[[str], int], sessions: int, tokens: int
) -> list[list[tuple[str, str]]]:
    """One history per session of a class, each just under `tokens` long, each from other
    code."""
    code = snippets()
    out = []
    for s in range(sessions):
        history: list[tuple[str, str]] = []
        for i in range(len(code)):
            turn = (INSTRUCTIONS[(s + i) % len(INSTRUCTIONS)], code[(7 * s + i) % len(code)])
            if count_tokens(render_prompt([*history, turn], "x")) > tokens:
                break
            history.append(turn)
        out.append(history)
    return out
