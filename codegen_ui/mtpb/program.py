"""The text of an MTPB sample, byte for byte as the reference sampler builds it, and its program.

The reference (`codegen1/benchmark/mtpb_sample.py`) starts from `PREFIX`, adds each filled
prompt as `f"# {prompt}\\n"` exactly (no stripping: some prompts end in a space, problem 17's
first holds `# ` lines of its own), and after each completion its cut code plus a blank line.
Those pieces, in order, are a sample's `prompts_completions`; joined, they are the program the
scorer runs. The scorer first makes the whole program print its last value
(`with_last_print`). Pure functions: no model, no kernel.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

PREFIX = "# Import libraries.\n\nimport numpy as np\n\n"  # the sampler's `prefix`

# transformers' `clean_up_tokenization` (decode's default in the reference's 4.16.2), in order.
_CLEAN_UP = (
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
)


def wrap(prompt: str) -> str:
    """One turn's instruction as the reference writes it into the history."""
    return f"# {prompt}\n"


def clean_up(text: str) -> str:
    """The reference's decoded completion: spaces before some punctuation dropped.

    transformers 4.16 `batch_decode` cleans up "tokenization spaces" by default; on code that
    changes `x , y` to `x, y` and `return ' '.join(w)` to `return''.join(w)`.
    """
    for old, new in _CLEAN_UP:
        text = text.replace(old, new)
    return text


def turn_piece(code: str) -> str:
    """What a completion adds to the history: its cut code and a blank line."""
    return f"{code}\n\n"


def pieces(prompts: Sequence[str], codes: Sequence[str]) -> list[str]:
    """A sample's `prompts_completions`: the prefix, then each wrapped prompt and cut code."""
    out = [PREFIX]
    for number, prompt in enumerate(prompts):
        out.append(wrap(prompt))
        if number < len(codes):
            out.append(turn_piece(codes[number]))
    return out


def with_last_print(program: str) -> str:
    """The program with its last statement's value printed, by the reference's rules.

    Unchanged when it does not parse, when its last statement's value is a call of a name
    starting with "print" (`print(x)`, `y = print(x)`, `print_result(x)`), or when that
    statement has no value (a loop, a def, an import). Otherwise the value `v` of the last
    statement (an expression or an assignment) becomes `print(v)`, so `x = 3` prints 3 and
    `x += 1` prints 1, and the whole program is written back by `ast.unparse`.
    """
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return program
    if not tree.body:
        return program
    last = tree.body[-1]
    value = getattr(last, "value", None)
    name = getattr(getattr(value, "func", None), "id", None)
    if isinstance(name, str) and name.startswith("print"):
        return program
    if value is None:  # no value to print (the reference's rewrite fails and gives up)
        return program
    call = ast.Call(func=ast.Name(id="print", ctx=ast.Load()), args=[value], keywords=[])
    last.value = ast.copy_location(call, value)  # type: ignore[attr-defined]
    ast.fix_missing_locations(tree)
    try:
        return ast.unparse(tree)
    except Exception:  # the reference gives up on any failure here
        return program
