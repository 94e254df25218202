"""What the web app shares between browser sessions: the one model and the queue in front of it.

`ModelHolder` loads the process's model in a background thread and reports progress, so the
page is usable meanwhile. `FairGate` lets a fixed number of generations run at once and serves
waiting requests first come, first served; `SharedModel` puts every session's generation behind
it while kernels run in parallel (on a ZeroGPU Space, under `spaces.GPU`: `web.zerogpu`).
Per-browser-session state lives in `codegen_ui.web.workspace`.
Nothing here knows about Gradio.
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from codegen_ui.core import Activity, ChatMessage, CodeModel, Event, SamplingParams
from codegen_ui.engine import ModelLoadError
from codegen_ui.errors import UserError
from codegen_ui.settings import DEFAULTS
from codegen_ui.web.zerogpu import gpu

log = logging.getLogger(__name__)


class ModelNotReady(UserError, RuntimeError):
    """The model is still loading, or failed to load; the message says which."""


class ModelHolder:
    """The one model of the process, loaded in the background with visible progress."""

    def __init__(
        self,
        name: str,
        device: str = DEFAULTS.device,
        loader: Callable[..., CodeModel] | None = None,
        prompt_format: str = DEFAULTS.prompt_format,
    ) -> None:
        self.name = name
        self.device = device
        self.prompt_format = prompt_format  # the setting: "auto", "paper" or "chat"
        self._loader = loader
        self.model: CodeModel | None = None
        self.error = ""
        self.progress = "waiting to load"
        self.started = time.monotonic()
        self.loaded_s = 0.0
        self._done = threading.Event()

    @classmethod
    def ready(cls, model: CodeModel) -> ModelHolder:
        """A holder for a model that is already loaded (tests, embedding)."""
        holder = cls(model.name)
        holder.model = model
        holder.progress = "ready"
        holder._done.set()
        return holder

    def start(self) -> ModelHolder:
        threading.Thread(target=self._load, daemon=True, name="model-load").start()
        return self

    def _load(self) -> None:
        from codegen_ui.engine import load_model

        loader = self._loader or load_model
        self.started = time.monotonic()
        try:
            self.model = loader(self.name, self.device, progress=self._report)
            self.progress = "ready"
        except ModelLoadError as exc:
            self.error = str(exc)
        except Exception as exc:  # any failure must reach the page, not kill the thread
            self.error = f"cannot load model {self.name!r}: {type(exc).__name__}: {exc}"
        finally:
            self.loaded_s = time.monotonic() - self.started
            if self.error:  # the terminal says it too, not only the page
                log.error("%s", self.error)
            self._done.set()

    def _report(self, message: str) -> None:
        self.progress = message

    @property
    def loading(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for loading to end; True when the model is ready."""
        self._done.wait(timeout)
        return self.model is not None

    def get(self) -> CodeModel:
        if self.model is not None:
            return self.model
        if self.error:
            raise ModelNotReady(f"the model failed to load: {self.error}")
        raise ModelNotReady(
            f"the model is still loading ({self.progress}, {self.elapsed():.0f} s); "
            "you can type meanwhile and submit when it is ready"
        )

    def format_name(self) -> str:
        """The prompt format turns use with this model, or why it cannot be used."""
        from codegen_ui.core import FormatError, resolve_format

        if self.model is None:
            return self.prompt_format
        try:
            chosen = resolve_format(self.prompt_format, self.model.has_chat_template)
        except FormatError as exc:
            return str(exc)
        return f"{chosen} (auto)" if self.prompt_format == "auto" else chosen

    def elapsed(self) -> float:
        return self.loaded_s if not self.loading else time.monotonic() - self.started

    def status(self) -> str:
        """One line for the status bar."""
        if self.model is not None:
            return f"model: {self.model.describe()} · prompt format: {self.format_name()}"
        if self.error:
            return f"model failed to load: {self.error}"
        progress = self.progress if self.name not in self.progress else "loading"
        return f"model: loading {self.name} ({progress}, {self.elapsed():.0f} s)"


class FairGate:
    """At most `limit` holders at once; waiters are served in the order they arrived."""

    def __init__(self, limit: int = 1) -> None:
        self.limit = limit
        self._cond = threading.Condition()
        self._queue: collections.deque[int] = collections.deque()
        self._tickets = itertools.count()
        self._active = 0

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
