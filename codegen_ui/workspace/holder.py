"""The process's one model, loaded in the background: `ModelHolder`, and `ModelNotReady`.

`ModelHolder` loads the model in a background thread and reports progress, so the page (or an
API client) is usable meanwhile, and says how many turns the model writes at once
(`turns_at_once`: the backend's own capacity), which sizes the fair queue in front of it
(`workspace.gate`). It does not queue, generate or know any door.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from codegen_ui.core import CodeModel
from codegen_ui.engine import ModelLoadError
from codegen_ui.errors import UserError
from codegen_ui.settings import DEFAULTS

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

    def turns_at_once(self) -> int:
        """How many turns the model writes together: the backend's own capacity (an engine's
        batch size, a server's streams); 1 until it is loaded, when none is written."""
        return max(1, self.model.activity().capacity) if self.model is not None else 1

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
