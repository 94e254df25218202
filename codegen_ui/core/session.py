"""The domain: a session is a list of turns; running a turn is prompt, generate, cut, execute.

Every turn in the session is in the prompt, in order (the notebook *is* the conversation), except
that the oldest turns are left out of the prompt when it would not fit the context. The
operations act on one cell each: add a turn, regenerate any cell (its prompt is the turns before
it), complete a cell's own code from its end, edit a cell's code and run it, run it again,
delete it, fix one whose run raised (`core.fixes`, also
tried by itself after a turn with `auto_fix`); undo and redo any of those, many steps back
(`core.history`); replay all. With `read_state`, what the kernel holds is read before a new turn
and told to the model (`core.feedback`). Each yields `Turn` snapshots as it goes so a UI can
stream them; whatever fails behind a turn ends that turn in `error` with a one-line reason. It
orchestrates a `CodeModel` and a `Runner` but knows nothing of tensors, ZMQ, files or HTML;
saving is left to the `on_change` callback.
"""

from __future__ import annotations

import dataclasses
import queue
import secrets
import threading
from collections.abc import Callable, Iterator

from codegen_ui.core.cells import Cells
from codegen_ui.core.feedback import ErrorSummary, KernelState, fit_fix, fit_turn, state_context
from codegen_ui.core.fixes import MAX_TRIES, fix_tries, fixable
from codegen_ui.core.formats import (
    Ask,
    Fix,
    PromptFormat,
    fit,
    fit_continuation,
    resolve_format,
)
from codegen_ui.core.generation import generate
from codegen_ui.core.kernel import KernelError, Output, Runner, RunResult
from codegen_ui.core.model import CodeModel, SamplingParams
from codegen_ui.core.prompt import PREAMBLE, FittedPrompt
from codegen_ui.core.turns import NOTHING_ADDED, Turn, TurnError, TurnStatus, now
from codegen_ui.errors import one_line
from codegen_ui.settings import DEFAULTS


class Session(Cells):
    """A conversation: turns, the model that writes them and the kernel that runs them."""

    def __init__(
        self,
        model: CodeModel,
        kernel: Runner,
        turns: list[Turn] | None = None,
        run_timeout: float = DEFAULTS.run_timeout,
        preamble: str = PREAMBLE,
        on_change: Callable[[Session], None] | None = None,
        run_preamble: bool = True,
        auto_fix: int = DEFAULTS.auto_fix,
        read_state: Callable[[Runner], KernelState] | None = None,
        prompt_format: str = DEFAULTS.prompt_format,
    ) -> None:
        super().__init__(turns, on_change)
        self.prompt_format_setting = prompt_format  # "auto", "paper" or "chat"
        self.model = model
        self.kernel = kernel
        self.run_timeout = run_timeout
        self.preamble = preamble
        self.last_prompt: FittedPrompt | None = None
        self.cancel = threading.Event()
        # Whether the preamble has run in the current kernel process (or need not run at all).
        self.kernel_prepared = not run_preamble
        self.run_preamble = run_preamble
        self._count_base = 0  # the kernel's execution count after the preamble ran
        self.auto_fix = auto_fix  # tries the model makes at a turn it wrote that raised
        # Reads what the kernel holds for the prompt (`codegen_ui.kernel.read_state`); None: off.
        self.read_state = read_state
        self.last_state: KernelState | None = None  # as read before the latest turn

    def history(self, upto: int | None = None) -> list[tuple[str, str]]:
        return [(t.instruction, t.code) for t in self.turns[:upto]]

    @property
    def prompt_format(self) -> PromptFormat:
        """The format of this session's prompts, for its model ("auto": chat where the model
        has a chat template); raises FormatError for chat without one."""
        return resolve_format(self.prompt_format_setting, self.model.has_chat_template)

    def prompt_for(
        self,
        instruction: str | Ask,
        max_new_tokens: int,
        upto: int | None = None,
        state: KernelState | None = None,
    ) -> FittedPrompt:
        """The exact prompt the model would see for a turn after the first `upto` turns (all),
        with the kernel's `state` (if any) just before the instruction: in the paper's format
        its block (`state_block`), in chat a part of the user's message (`state_context`)."""
        fmt = self.prompt_format
        ask = instruction if isinstance(instruction, Ask) else Ask(instruction)
        if state and fmt == "paper" and not ask.context and ask.fix is None:
            model = self.model
            tokens, context = model.count_tokens, model.context_size
            history = self.history(upto)
            return fit_turn(
                history, ask.instruction, state, tokens, context, max_new_tokens, self.preamble
            )
        if state:
            ask = dataclasses.replace(ask, context=state_context(state))
        return fit(
            fmt,
            self.history(upto),
            ask,
            self.model.count_tokens,
            self.model.context_size,
            max_new_tokens,
            self.preamble,
            self.model.render_chat if fmt == "chat" else None,
        )

    def add_turn(self, instruction: str, params: SamplingParams) -> Iterator[Turn]:
        """Generate, cut and run a new turn, yielding its state after each change."""
        instruction = instruction.strip()
        if not instruction:
            raise TurnError("the instruction is empty")
        state = self.kernel_state()
        fitted = self.prompt_for(instruction, params.max_new_tokens, state=state)
        self.record()
        self.turns.append(Turn(instruction, params, self.model.name))
        yield from self._write(len(self.turns) - 1, fitted, params)
        yield from self._auto_fix(len(self.turns) - 1, params)

    def regenerate(
        self, params: SamplingParams, index: int | None = None, instruction: str | None = None
    ) -> Iterator[Turn]:
        """Ask the model again for one cell (the last by default), from its instruction or a new
        one; the prompt is the turns before it. The old code stays in the undo history."""
        index = len(self.turns) - 1 if index is None else index
        self._check(index)
        instruction = (instruction or "").strip() or self.turns[index].instruction
        fitted = self.prompt_for(instruction, params.max_new_tokens, upto=index)
        self.record()
        self.turns[index] = Turn(instruction, params, self.model.name)
        yield from self._write(index, fitted, params)
        yield from self._auto_fix(index, params)

    def fix(self, index: int, params: SamplingParams, tries: int = 1) -> Iterator[Turn]:
        """Ask the model to correct a cell whose run raised, shown its instruction, code and
        error; its code replaces the cell's and runs at once, up to `tries` times while it
        still raises (`core.fixes`). Undo brings back the failed code."""
        self._check(index)
        if fixable(self.turns[index]) is None:
            raise TurnError(f"cell {index + 1} raised no error: there is nothing to fix")
        self.cancel.clear()
        self.record()
        yield from fix_tries(self, index, params, max(1, tries))

    def fix_prompt(
        self, index: int, instruction: str, code: str, summary: ErrorSummary, max_new_tokens: int
    ) -> FittedPrompt:
        """The prompt asking for a corrected cell `index`: in the paper's format the history,
        then the failed code and its error as comments (`feedback.fix_text`); in chat the
        failed code as the assistant's answer and the error as the next user message. Later
        prompts hold only the code the cell ends with."""
        if self.prompt_format == "paper":
            model = self.model
            return fit_fix(
                self.history(index),
                instruction,
                code,
                summary,
                model.count_tokens,
                model.context_size,
                max_new_tokens,
                self.preamble,
            )
        ask = Ask(instruction, fix=Fix(code, summary.text()))
        return self.prompt_for(ask, max_new_tokens, upto=index)

    def _auto_fix(self, index: int, params: SamplingParams) -> Iterator[Turn]:
        # A turn the model wrote that raised is tried again, `auto_fix` times at most; Undo
        # then brings back the failed try first.
        if self.auto_fix > 0 and fixable(self.turns[index]) and not self.cancel.is_set():
            self.record()
            yield from fix_tries(self, index, params, min(self.auto_fix, MAX_TRIES))

    def kernel_state(self) -> KernelState | None:
        """What the kernel holds now, as `read_state` reads it (None when off or unreadable);
        kept as `last_state` for the Prompt tab."""
        if self.read_state is None:
            return None
        try:
            self._prepare_kernel()
            self.last_state = self.read_state(self.kernel)
        except KernelError:  # the turn runs without it; its own run says what is wrong
            self.last_state = None
        else:
            self._count_base += 1  # the reading took an execution count: cells keep theirs
        return self.last_state

    def complete(
        self, index: int, params: SamplingParams, code: str | None = None
    ) -> Iterator[Turn]:
        """Let the model continue one cell's code from its end (`code`: the editor's text, when
        it differs from the cell's), then run it. The prompt is the turns before it, the cell's
        comment and the code; the cell keeps that code byte for byte and grows by the cut
        continuation. Typed code is kept first as its own step, so Undo takes back the
        completion alone."""
        self._check(index)
        turn = self.turns[index]
        prefix = turn.code if code is None else code
        if not prefix.strip():
            raise TurnError(
                f"cell {index + 1} has no code to complete: write its start first, "
                "or Regenerate it from its instruction"
            )
        fmt = self.prompt_format
        fitted = fit_continuation(
            fmt,
            self.history(index),
            turn.instruction,
            prefix,
            self.model.count_tokens,
            self.model.context_size,
            params.max_new_tokens,
            self.preamble,
            self.model.render_chat if fmt == "chat" else None,
        )
        if prefix != turn.code:
            self.set_code(index, prefix)
        self.record()
        fresh = Turn(turn.instruction, params, self.model.name, code=prefix, edited=True)
        self.turns[index] = fresh
        yield from self._write(index, fitted, params, prefix)

    def _write(
        self,
        index: int,
        fitted: FittedPrompt,
        params: SamplingParams,
        prefix: str = "",
        repeats: Callable[[str], bool] | None = None,
    ) -> Iterator[Turn]:
        """Stream the model's text into cell `index`, cut it, then run it. With a `prefix` (the
        user's code) the text continues it: only what the model adds is cut. Code that
        `repeats` says was tried already is not run."""
        self.cancel.clear()
        self.last_prompt = fitted
        if params.seed is None and not params.greedy:
            # Record the seed actually drawn so the turn can be reproduced later.
            params = dataclasses.replace(params, seed=secrets.randbelow(2**31))
        written = self.turns[index].replace(params=params, prompt_format=fitted.prompt_format)
        turn = self.turns[index] = written
        yield turn
        try:
            for update in generate(self.model, turn, fitted, self.cancel, prefix):
                self.turns[index] = turn = update
                yield turn
        except Exception as exc:  # the model or its queue failed: the turn ends, visibly
            turn = turn.replace(status="error", message=f"the model failed: {one_line(exc)}")
            self.turns[index] = turn.replace(finished=now())
            self._changed()
            yield self.turns[index]
            return
        # Save the generated code before running it: a crash mid-run keeps the turn.
        if turn.status == "running" and repeats is not None and repeats(turn.code):
            self.turns[index] = turn.replace(status="not-run", message=NOTHING_ADDED)
        self._changed()
        if self.turns[index].status == "running":
            yield from self.run_cell(index)

    def run_cell(self, index: int) -> Iterator[Turn]:
        """Run one turn's code in the kernel, yielding as outputs arrive."""
        turn = self.turns[index].replace(status="running", outputs=())
        self.turns[index] = turn
        yield turn
        arrived: queue.Queue[Output | RunResult | Exception] = queue.Queue()

        def work() -> None:
            try:
                self._prepare_kernel()
                arrived.put(self.kernel.run(turn.code, self.run_timeout, arrived.put))
            except Exception as exc:  # the kernel failed (or a bug): the loop below decides
                arrived.put(exc)

        threading.Thread(target=work, daemon=True, name="cell-run").start()
        outputs: list[Output] = []
        while True:
            item = arrived.get()
            if isinstance(item, KernelError):
                # The one place a kernel failure is caught: the turn ends in error, saying why,
                # and the next run prepares whichever kernel it then finds.
                self.kernel_prepared = not self.run_preamble
                message = f"the kernel failed: {one_line(item)}"
                turn = turn.replace(status="error", message=message, finished=now())
                break
            if isinstance(item, Exception):  # a bug, not the kernel: the caller's last resort
                message = f"the kernel failed: {one_line(item)}"
                self.turns[index] = turn.replace(status="error", message=message, finished=now())
                self._changed()
                raise item
            if isinstance(item, RunResult):
                turn = self._finish_run(turn, item)
                break
            outputs.append(item)
            turn = turn.replace(outputs=tuple(outputs))
            self.turns[index] = turn
            yield turn
        self.turns[index] = turn
        self._changed()
        yield turn

    def _finish_run(self, turn: Turn, result: RunResult) -> Turn:
        message = turn.message
        if result.state_lost:
            self.kernel_prepared = not self.run_preamble
            message = "the kernel was restarted: variables from earlier turns are gone"
        stats = dataclasses.replace(turn.stats, run_s=result.seconds)
        status: TurnStatus = result.status
        outputs = result.outputs
        if self.cancel.is_set() and status == "error" and _interrupted(outputs):
            # Stop interrupted the cell: that is the user's choice, not an error in the code.
            status, outputs, message = "cancelled", outputs[:-1], "stopped"
        count = result.execution_count
        return turn.replace(
            outputs=outputs,
            status=status,
            execution_count=None if count is None else max(1, count - self._count_base),
            message=message,
            stats=stats,
            finished=now(),
        )

    def edit(self, index: int, code: str) -> Iterator[Turn]:
        """Replace a turn's code by hand and run it; later prompts use the new code.

        Empty code is refused (TurnError): an empty editor never wipes a cell."""
        self._check(index)
        if not code.strip():
            raise TurnError(f"cell {index + 1}'s editor is empty: its code was left as it was")
        self.record()
        self.turns[index] = self.turns[index].replace(code=code, edited=True, message="")
        yield from self.run(index)

    def run(self, index: int) -> Iterator[Turn]:
        """Run one cell's code again as it is."""
        self._check(index)
        if not self.turns[index].code.strip():
            raise TurnError(f"cell {index + 1} has no code to run")
        self.cancel.clear()
        yield from self.run_cell(index)

    def reset(self, turns: list[Turn], preamble: str = PREAMBLE) -> None:
        """Another notebook in this session: its turns and preamble, the same kernel."""
        super().reset(turns)
        self.preamble = preamble
        self.last_prompt = None

    def replay(self) -> Iterator[Turn]:
        """Restart the kernel and run every turn's code in order, rebuilding its state."""
        self.cancel.clear()
        self.restart_kernel()
        for index, turn in enumerate(self.turns):
            if self.cancel.is_set():
                break
            if turn.code.strip():
                yield from self.run_cell(index)

    def restart_kernel(self) -> None:
        """A fresh kernel: every variable is gone; the preamble runs again before the next cell."""
        self.kernel.restart()
        self.kernel_prepared = not self.run_preamble
        self._count_base = 0

    def _prepare_kernel(self) -> None:
        # The prompt's preamble (`import numpy as np`) is code the model relies on: run it once
        # per fresh kernel, so cells behave as the program the prompt describes.
        if not self.kernel_prepared:
            result = self.kernel.run(self.preamble, self.run_timeout)
            self._count_base = result.execution_count or 0
            self.kernel_prepared = True


def _interrupted(outputs: tuple[Output, ...]) -> bool:
    last = outputs[-1] if outputs else {}
    return last.get("output_type") == "error" and last.get("ename") == "KeyboardInterrupt"
