"""The Jupyter magic: `%load_ext codegen_ui.magic`, then `%%codegen` cells write the next cell.

`%%codegen [--model M] [--temperature T] [--run]` takes the cell's body as the instruction.
The prompt is the paper's: the preamble, then for every earlier cell this kernel ran, in order,
its `%%codegen` instruction as a `# ` comment and the code cell that followed it (a code cell
of the user's own, with no instruction before it, gets the app's own-code comment). The code
the model writes, cut by the paper's rules, goes into the next cell through one
`set_next_input` payload and is not run; `--run` runs it here instead (no next cell), and it
joins the history as if it had been a cell. `%codegen_prompt [instruction]` prints the prompt
that would be sent. The model is loaded on first use, once per kernel (`--model` may also be
a model server's URL ending in /v1); settings come from `CODEGEN_UI_*` as for the app.

It reads the kernel's own input history (`In`), not the notebook file, so "earlier" means
"ran earlier in this kernel". It starts no kernel and saves nothing; it needs IPython.
"""

from __future__ import annotations

import shlex
import sys
import threading
from dataclasses import dataclass
from typing import Any

from codegen_ui.core import OWN_CODE, PREAMBLE, fit_prompt, truncate
from codegen_ui.engine import CodeModel, Delta, SamplingParams, load_model, server_options
from codegen_ui.errors import UserError
from codegen_ui.settings import Settings

MAGIC = "%%codegen"
_MODELS: dict[str, CodeModel] = {}  # loaded models by name: once per kernel
_LOCK = threading.Lock()


class MagicError(UserError, ValueError):
    """A `%%codegen` cell that cannot be run: no instruction, a bad flag."""


@dataclass(frozen=True)
class Options:
    model: str = ""
    temperature: float | None = None
    run: bool = False


def parse_options(line: str) -> Options:
    """The flags of a `%%codegen` line: `--model M`, `--temperature T`, `--run`."""
    words = shlex.split(line)
    model, temperature, run = "", None, False
    while words:
        word = words.pop(0)
        if word == "--run":
            run = True
        elif word in ("--model", "--temperature") and words:
            value = words.pop(0)
            if word == "--model":
                model = value
            else:
                try:
                    temperature = float(value)
                except ValueError:
                    raise MagicError(f"--temperature must be a number, not {value!r}") from None
                if temperature < 0:
                    raise MagicError("--temperature must be 0 (greedy) or more")
        else:
            raise MagicError(f"unknown %%codegen flag {word!r}: use --model, --temperature, --run")
    return Options(model, temperature, run)


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


def model_for(name: str, settings: Settings) -> CodeModel:
    """The kernel's model of this name, loaded on first use."""
    with _LOCK:
        model = _MODELS.get(name)
        if model is None:
            model = _MODELS[name] = load_model(
                name,
                settings.device,
                precision=settings.precision,
                cache_mib=settings.cache_mib,
                batch_size=settings.batch_size,
                server=server_options(settings),
            )
        return model


def generate(model: CodeModel, prompt: str, params: SamplingParams) -> str:
    """The model's completion of the prompt, cut to one turn's code."""
    raw = "".join(e.text for e in model.stream(prompt, params) if isinstance(e, Delta))
    return truncate(raw)


class Codegen:
    """The magics of one IPython shell, and what they remember of its cells."""

    def __init__(self, shell: Any, settings: Settings | None = None) -> None:
        self.shell = shell
        self.settings = settings or Settings.from_env()
        self.ran: dict[int, str] = {}  # input number -> code a --run cell ran
        self.wrote: dict[int, str] = {}  # input number -> code a cell put into the next
        self.preamble_ran = False

    def history(self) -> list[tuple[str, str]]:
        inputs = list(self.shell.history_manager.input_hist_raw)
        return history_from_inputs(inputs[:-1], self.ran, self.wrote)  # the last is this cell

    def prompt(self, instruction: str, options: Options) -> tuple[CodeModel, str, SamplingParams]:
        s = self.settings
        model = model_for(options.model or s.model, s)
        temperature = s.temperature if options.temperature is None else options.temperature
        params = SamplingParams(s.max_new_tokens, temperature, s.top_p, s.seed)
        fitted = fit_prompt(
            self.history(),
            instruction,
            model.count_tokens,
            model.context_size,
            params.max_new_tokens,
            PREAMBLE,
        )
        return model, fitted.text, params

    def codegen(self, line: str, cell: str) -> None:
        options = parse_options(line)
        instruction = cell.strip()
        if not instruction:
            raise MagicError("write the instruction in the cell, below %%codegen")
        model, prompt, params = self.prompt(instruction, options)
        code = generate(model, prompt, params)
        number = len(self.shell.history_manager.input_hist_raw) - 1
        if not code.strip():
            print("(the model wrote no code: rephrase, or try --temperature 0.2)")
            return
        self._prepare()
        if options.run:
            self.ran[number] = code
            print(code)
            self.shell.run_cell(code, store_history=False)
            return
        self.wrote[number] = code
        self.shell.set_next_input(code, replace=False)  # one payload: the next cell
        print(code)  # for frontends that ignore the payload (Colab)

    def codegen_prompt(self, line: str) -> None:
        _, prompt, _ = self.prompt(line.strip(), Options())
        print(prompt, end="")

    def _prepare(self) -> None:
        # The prompt's preamble (`import numpy as np`) is code the model relies on.
        if not self.preamble_ran:
            self.shell.run_cell(PREAMBLE, store_history=False, silent=True)
            self.preamble_ran = True


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext codegen_ui.magic`: register `%%codegen` and `%codegen_prompt`."""
    magics = Codegen(ipython)

    def codegen(line: str, cell: str) -> None:
        try:
            magics.codegen(line, cell)
        except UserError as exc:
            print(f"codegen: {exc}", file=sys.stderr)

    def codegen_prompt(line: str) -> None:
        try:
            magics.codegen_prompt(line)
        except UserError as exc:
            print(f"codegen: {exc}", file=sys.stderr)

    ipython.register_magic_function(codegen, magic_kind="cell", magic_name="codegen")
    ipython.register_magic_function(codegen_prompt, magic_kind="line", magic_name="codegen_prompt")
