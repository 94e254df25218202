"""The domain: a session is a list of turns; running a turn is prompt, generate, cut, execute.

Every turn in the session is in the prompt, in order (the notebook *is* the conversation), except
that the oldest turns are left out of the prompt when it would not fit the context. The
operations are add a turn, regenerate the last, edit a cell's code and re-run it, undo, and
replay all. Each yields `Turn` snapshots as it goes so a UI can stream them. It orchestrates a
`CodeModel` and a `Kernel` but knows nothing of tensors, ZMQ, files or HTML; saving is left to
the `on_change` callback.
"""

from __future__ import annotations

import dataclasses
import queue
import secrets
import threading
from collections.abc import Callable, Iterator

from codegen_ui.core.prompt import PREAMBLE, FittedPrompt, fit_prompt, truncate
from codegen_ui.core.turns import EMPTY_MESSAGE, GenerationStats, Turn, TurnError, now
from codegen_ui.engine.api import CodeModel, Delta, Finished, SamplingParams
from codegen_ui.kernel.api import Output, Runner, RunResult
from codegen_ui.settings import DEFAULTS


class Session:
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
    ) -> None:
        self.model = model
        self.kernel = kernel
        self.turns: list[Turn] = list(turns or [])
        self.run_timeout = run_timeout
        self.preamble = preamble
        self.on_change = on_change
        self.last_prompt: FittedPrompt | None = None
        self.cancel = threading.Event()
        # Whether the preamble has run in the current kernel process (or need not run at all).
        self.kernel_prepared = not run_preamble
        self.run_preamble = run_preamble

    def history(self, upto: int | None = None) -> list[tuple[str, str]]:
        return [(t.instruction, t.code) for t in self.turns[:upto]]

    def prompt_for(self, instruction: str, max_new_tokens: int) -> FittedPrompt:
        """The exact prompt the model would see for a new turn now."""
        return fit_prompt(
            self.history(),
            instruction,
            self.model.count_tokens,
            self.model.context_size,
            max_new_tokens,
            self.preamble,
        )

    def add_turn(self, instruction: str, params: SamplingParams) -> Iterator[Turn]:
        """Generate, cut and run a new turn, yielding its state after each change."""
        instruction = instruction.strip()
        if not instruction:
            raise TurnError("the instruction is empty")
        self.cancel.clear()
        fitted = self.prompt_for(instruction, params.max_new_tokens)
        self.last_prompt = fitted
        if params.seed is None and not params.greedy:
            # Record the seed actually drawn so the turn can be reproduced later.
            params = dataclasses.replace(params, seed=secrets.randbelow(2**31))
        turn = Turn(instruction, params, self.model.name)
        self.turns.append(turn)
        index = len(self.turns) - 1
        for update in self._generate(turn, fitted):
            self.turns[index] = turn = update
            yield turn
        # Save the generated code before running it: a crash mid-run keeps the turn.
        self._changed()
        if turn.status == "running":
            yield from self.run_cell(index)

    def _generate(self, turn: Turn, fitted: FittedPrompt) -> Iterator[Turn]:
        raw = ""
        for event in self.model.stream(fitted.text, turn.params, self.cancel):
            if isinstance(event, Delta):
                raw += event.text
                yield turn.replace(completion=raw, code=truncate(raw))
            elif isinstance(event, Finished):
                stats = GenerationStats(
                    prompt_tokens=event.prompt_tokens,
                    new_tokens=event.new_tokens,
                    trimmed_turns=fitted.trimmed,
                    stop_reason=event.stop_reason,
                    first_token_s=event.first_token_s,
                    generate_s=event.total_s,
                )
                yield self._after_generation(turn, raw, stats, event.message)

    def _after_generation(
        self, turn: Turn, raw: str, stats: GenerationStats, message: str = ""
    ) -> Turn:
        code = truncate(raw)
        turn = turn.replace(completion=raw, code=code, stats=stats)
        if stats.stop_reason == "cancelled":
            return turn.replace(status="cancelled", message="stopped", finished=now())
        if stats.stop_reason == "error":  # a model server failed: keep the text, run nothing
            return turn.replace(status="not-run", message=message, finished=now())
        if not code.strip():
            return turn.replace(status="empty", message=EMPTY_MESSAGE, finished=now())
        if stats.stop_reason == "length":
            turn = turn.replace(
                message=f"the model used all {turn.params.max_new_tokens} new tokens; "
                "the code may be cut short"
            )
        return turn.replace(status="running")

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
            except Exception as exc:  # the kernel itself failed: hand it to the caller
                arrived.put(exc)

        threading.Thread(target=work, daemon=True, name="cell-run").start()
        outputs: list[Output] = []
        while True:
            item = arrived.get()
            if isinstance(item, Exception):
                self.turns[index] = turn.replace(status="not-run", message=str(item))
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
        return turn.replace(
            outputs=result.outputs,
            status=result.status,
            execution_count=result.execution_count,
            message=message,
            stats=stats,
            finished=now(),
        )

    def regenerate(self, params: SamplingParams) -> Iterator[Turn]:
        """Drop the last turn and ask the model again for the same instruction."""
        if not self.turns:
            raise TurnError("there is no turn to regenerate")
        last = self.turns.pop()
        yield from self.add_turn(last.instruction, params)

    def edit(self, index: int, code: str) -> Iterator[Turn]:
        """Replace a turn's code by hand and run it; later prompts use the new code."""
        self.turns[index] = self.turns[index].replace(code=code, edited=True, message="")
        yield from self.run_cell(index)

    def undo(self) -> Turn | None:
        turn = self.turns.pop() if self.turns else None
        self._changed()
        return turn

    def replay(self) -> Iterator[Turn]:
        """Restart the kernel and run every turn's code in order, rebuilding its state."""
        self.restart_kernel()
        for index, turn in enumerate(self.turns):
            if turn.code.strip():
                yield from self.run_cell(index)

    def restart_kernel(self) -> None:
        """A fresh kernel: every variable is gone; the preamble runs again before the next cell."""
        self.kernel.restart()
        self.kernel_prepared = not self.run_preamble

    def _prepare_kernel(self) -> None:
        # The prompt's preamble (`import numpy as np`) is code the model relies on: run it once
        # per fresh kernel, so cells behave as the program the prompt describes.
        if not self.kernel_prepared:
            self.kernel.run(self.preamble, self.run_timeout)
            self.kernel_prepared = True

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)
