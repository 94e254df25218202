"""What a `%%codegen` cell says and what the kernel ran before it: pure text functions.

`parse_options` reads the flags line, `split_magic` tells a `%%codegen` cell from others, and
`history_from_inputs` turns a kernel's input history into the (instruction, code) turns of the
paper's prompt. Nothing here loads a model or touches IPython.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from codegen_ui.core import OWN_CODE
from codegen_ui.errors import UserError
from codegen_ui.settings import PROMPT_FORMAT_CHOICES

MAGIC = "%%codegen"


class MagicError(UserError, ValueError):
    """A `%%codegen` cell that cannot be run: no instruction, a bad flag."""


@dataclass(frozen=True)
class Options:
    model: str = ""
    temperature: float | None = None
    run: bool = False
    prompt_format: str = ""  # "": the setting's (CODEGEN_UI_PROMPT_FORMAT, default auto)


def parse_options(line: str) -> Options:
    """The flags of a `%%codegen` line: `--model M`, `--temperature T`, `--prompt-format F`,
    `--run`."""
    words = shlex.split(line)
    model, temperature, run, fmt = "", None, False, ""
    while words:
        word = words.pop(0)
        if word == "--run":
            run = True
        elif word in ("--model", "--temperature", "--prompt-format") and words:
            value = words.pop(0)
            if word == "--prompt-format":
                if value not in PROMPT_FORMAT_CHOICES:
                    choices = ", ".join(PROMPT_FORMAT_CHOICES)
                    raise MagicError(f"--prompt-format must be one of {choices}, not {value!r}")
                fmt = value
            elif word == "--model":
                model = value
            else:
                try:
                    temperature = float(value)
                except ValueError:
                    raise MagicError(f"--temperature must be a number, not {value!r}") from None
                if temperature < 0:
                    raise MagicError("--temperature must be 0 (greedy) or more")
        else:
            raise MagicError(
                f"unknown %%codegen flag {word!r}: use --model, --temperature, "
                "--prompt-format, --run"
            )
    return Options(model, temperature, run, fmt)


def split_magic(cell: str) -> tuple[str, str] | None:
    """A `%%codegen` cell's (flags line, instruction); None for any other cell."""
    if not cell.lstrip().startswith(MAGIC):
        return None
    head, _, body = cell.lstrip().partition("\n")
    return head[len(MAGIC) :].strip(), body.strip()


def history_from_inputs(
    inputs: list[str], ran: dict[int, str], wrote: dict[int, str]
) -> list[tuple[str, str]]:
    """The (instruction, code) turns of a kernel's earlier inputs, in the paper's format.

    `inputs[n]` is the raw text of input n (0 is unused); `ran[n]` the code a `--run` cell n
    ran; `wrote[n]` the code a `%%codegen` cell n wrote, which the next cell holds exactly
    unless the user edited it (IPython keeps inputs without their trailing newlines).
    """
    turns: list[tuple[str, str]] = []
    pending: tuple[str, str] | None = None  # (instruction, the code it wrote)
    for n, raw in enumerate(inputs):
        if n == 0 or not raw.strip():
            continue
        magic = split_magic(raw)
        if magic is not None:
            instruction = magic[1]
            if n in ran:
                turns.append((instruction, ran[n]))
                pending = None
            elif instruction:
                pending = (instruction, wrote.get(n, ""))  # an unrun suggestion is dropped
            continue
        code = "\n".join(
            line for line in raw.split("\n") if not line.lstrip().startswith(("%", "!"))
        )
        if not code.strip():
            continue  # a line magic, a shell command: not part of the program
        if pending is None:
            turns.append((OWN_CODE, code))
        else:
            instruction, written = pending
            turns.append((instruction, written if written.rstrip("\n") == code else code))
            pending = None
    return turns
