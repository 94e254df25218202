"""The magics of one IPython shell: `%%codegen` and `%codegen_prompt`, and the kernel's model.

`Codegen` builds the prompt from the shell's input history (`magic.inputs`), asks the model
(loaded on first use, once per kernel, by `model_for`) in the prompt format the setting or
`--prompt-format` names (`core.formats`: the paper's, or the model's own chat template), cuts
its completion by that format's rules and puts the code into the next cell with one
`set_next_input` payload, or runs it with `--run`; a `--run` cell that raised is shown to the
model again, the `auto_fix` setting's tries at most (the format's fix prompt; code already
tried is not run again). It starts no kernel and saves nothing.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

from codegen_ui.core import (
    MAX_TRIES,
    PREAMBLE,
    Ask,
    CodeModel,
    Delta,
    Fix,
    PromptFormat,
    SamplingParams,
    cut,
    fit,
    fit_fix,
    resolve_format,
    same_code,
    summarize_error,
)
from codegen_ui.engine import settings_model
from codegen_ui.magic.inputs import MagicError, Options, history_from_inputs, parse_options
from codegen_ui.settings import Settings

_MODELS: dict[str, CodeModel] = {}  # loaded models by name: once per kernel
_LOCK = threading.Lock()


def model_for(name: str, settings: Settings) -> CodeModel:
    """The kernel's model of this name, loaded on first use."""
    with _LOCK:
        model = _MODELS.get(name)
        if model is None:
            model = _MODELS[name] = settings_model(settings.replace(model=name))
        return model


def generate(
    model: CodeModel, prompt: str, params: SamplingParams, prompt_format: str = "paper"
) -> str:
    """The model's completion of the prompt, cut to one turn's code."""
    events = model.stream(prompt, params, prompt_format=prompt_format)
    return cut(prompt_format, "".join(e.text for e in events if isinstance(e, Delta)))


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

    def prompt(
        self, instruction: str, options: Options
    ) -> tuple[CodeModel, str, SamplingParams, PromptFormat]:
        """The model, the prompt, the sampling and the prompt format of a cell."""
        s = self.settings
        model = model_for(options.model or s.model, s)
        temperature = s.temperature if options.temperature is None else options.temperature
        params = SamplingParams(s.max_new_tokens, temperature, s.top_p, s.seed)
        fmt = resolve_format(options.prompt_format or s.prompt_format, model.has_chat_template)
        fitted = fit(
            fmt,
            self.history(),
            Ask(instruction),
            model.count_tokens,
            model.context_size,
            params.max_new_tokens,
            PREAMBLE,
            model.render_chat if fmt == "chat" else None,
        )
        return model, fitted.text, params, fmt

    def codegen(self, line: str, cell: str) -> None:
        options = parse_options(line)
        instruction = cell.strip()
        if not instruction:
            raise MagicError("write the instruction in the cell, below %%codegen")
        model, prompt, params, fmt = self.prompt(instruction, options)
        code = generate(model, prompt, params, fmt)
        number = len(self.shell.history_manager.input_hist_raw) - 1
        if not code.strip():
            print("(the model wrote no code: rephrase, or try --temperature 0.2)")
            return
        self._prepare()
        if options.run:
            self.ran[number] = self.run(model, instruction, code, params, fmt)
            return
        self.wrote[number] = code
        self.shell.set_next_input(code, replace=False)  # one payload: the next cell
        print(code)  # for frontends that ignore the payload (Colab)

    def run(
        self,
        model: CodeModel,
        instruction: str,
        code: str,
        params: SamplingParams,
        fmt: PromptFormat = "paper",
    ) -> str:
        """Run the code here; while it raises, the model is shown the error and tries again
        (`auto_fix` times at most). Returns the code that ran last."""
        print(code)
        result = self.shell.run_cell(code, store_history=False)
        tried = {same_code(code)}
        for attempt in range(1, min(self.settings.auto_fix, MAX_TRIES) + 1):
            error = result.error_in_exec or result.error_before_exec
            if error is None:
                break
            lines = traceback.format_exception(error)
            summary = summarize_error(type(error).__name__, str(error), lines)
            if fmt == "paper":
                fitted = fit_fix(
                    self.history(), instruction, code, summary, model.count_tokens,
                    model.context_size, params.max_new_tokens, PREAMBLE,
                )  # fmt: skip
            else:
                ask = Ask(instruction, fix=Fix(code, summary.text()))
                fitted = fit(
                    fmt, self.history(), ask, model.count_tokens, model.context_size,
                    params.max_new_tokens, PREAMBLE, model.render_chat,
                )  # fmt: skip
            fixed = generate(model, fitted.text, params, fmt)
            if not fixed.strip() or same_code(fixed) in tried:
                print(f"(fix {attempt}: the model wrote no new code; stopped)")
                break
            code = fixed
            tried.add(same_code(code))
            print(f"(fix {attempt}, after {summary.line})\n{code}")
            result = self.shell.run_cell(code, store_history=False)
        return code

    def codegen_prompt(self, line: str) -> None:
        _, prompt, _, _ = self.prompt(line.strip(), Options())
        print(prompt, end="")

    def _prepare(self) -> None:
        # The prompt's preamble (`import numpy as np`) is code the model relies on.
        if not self.preamble_ran:
            self.shell.run_cell(PREAMBLE, store_history=False, silent=True)
            self.preamble_ran = True
