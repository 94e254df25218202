"""A scripted stand-in for the model seam: `enqueue` completions, read back `calls`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from codegen_ui.core import is_complete
from codegen_ui.engine import Delta, Event, Finished, SamplingParams


@dataclass
class ScriptedModel:
    name: str = "scripted"
    context_size: int = 2048
    chunk: int = 7  # characters per streamed delta
    queue: list[str] = field(default_factory=list)
    calls: list[tuple[str, SamplingParams]] = field(default_factory=list)

    def enqueue(self, *completions: str) -> ScriptedModel:
        self.queue.extend(completions)
        return self

    def count_tokens(self, text: str) -> int:
        return len(text.split())  # words stand in for tokens

    def describe(self) -> str:
        return "scripted model"

    def stream(
        self, prompt: str, params: SamplingParams, cancel: threading.Event | None = None
    ) -> Iterator[Event]:
        self.calls.append((prompt, params))
        text = self.queue.pop(0) if self.queue else ""
        for i in range(0, len(text), self.chunk):
            yield Delta(text[i : i + self.chunk])
            if cancel is not None and cancel.is_set():
                yield Finished("cancelled", self.count_tokens(prompt), i)
                return
        reason = "complete" if is_complete(text) else "eos"
        yield Finished(reason, self.count_tokens(prompt), len(text))
