"""The queue in front of the one model: `FairGate`, and `SharedModel` that puts turns behind it.

`FairGate` lets a number of generations run at once, as many as the model says it writes
together (`ModelHolder.turns_at_once`, asked at each turn), and serves waiting requests first
come, first served; `SharedModel` puts every session's generation behind it while kernels run in
parallel (on a ZeroGPU Space, under `spaces.GPU`: `workspace.zerogpu`). It loads nothing.
"""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from codegen_ui.core import Activity, ChatMessage, CodeModel, Event, SamplingParams
from codegen_ui.workspace.holder import ModelHolder
from codegen_ui.workspace.zerogpu import gpu


class FairGate:
    """At most `limit` holders at once; waiters are served in the order they arrived.

    `limit` is a number, or a function asked whenever the gate decides (the model holder's
    `turns_at_once`: how many turns the loaded model writes together)."""

    def __init__(self, limit: int | Callable[[], int] = 1) -> None:
        self._limit = limit
        self._cond = threading.Condition()
        self._queue: collections.deque[int] = collections.deque()
        self._tickets = itertools.count()
        self._active = 0

    @property
    def limit(self) -> int:
        return self._limit() if callable(self._limit) else self._limit

    def waiting(self) -> int:
        with self._cond:
            return len(self._queue)

    def busy(self) -> bool:
        with self._cond:
            return self._active >= self.limit

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._cond:
            ticket = next(self._tickets)
            self._queue.append(ticket)
            self._cond.wait_for(lambda: self._queue[0] == ticket and self._active < self.limit)
            self._queue.popleft()
            self._active += 1
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()


class SharedModel:
    """The holder's model behind the gate, as a `CodeModel` a `Session` can be given."""

    def __init__(self, holder: ModelHolder, gate: FairGate) -> None:
        self.holder = holder
        self.gate = gate
        self._write = gpu(_write)  # on a ZeroGPU Space the turn's writing holds the GPU

    @property
    def name(self) -> str:
        return self.holder.model.name if self.holder.model is not None else self.holder.name

    @property
    def context_size(self) -> int:
        return self.holder.get().context_size

    @property
    def has_chat_template(self) -> bool:
        return self.holder.get().has_chat_template

    def render_chat(self, messages: Sequence[ChatMessage]) -> str:
        return self.holder.get().render_chat(messages)

    def count_tokens(self, text: str) -> int:
        return self.holder.get().count_tokens(text)

    def describe(self) -> str:
        return self.holder.status()

    def activity(self) -> Activity:
        model = self.holder.model
        return model.activity() if model is not None else Activity()

    def stream(
        self,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event | None = None,
        prompt_format: str = "paper",
    ) -> Iterator[Event]:
        model = self.holder.get()
        with self.gate.hold():
            yield from self._write(model, prompt, params, cancel, prompt_format)


def _write(
    model: CodeModel,
    prompt: str,
    params: SamplingParams,
    cancel: threading.Event | None,
    prompt_format: str = "paper",
) -> Iterator[Event]:
    """One turn's generation: the only work that runs under `spaces.GPU` on ZeroGPU."""
    yield from model.stream(prompt, params, cancel, prompt_format)
