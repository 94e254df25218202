"""Scripted stand-ins, one per seam, shared by every test: the model (`ScriptedModel`: `enqueue`
completions, read back `calls`) and the kernel (`EchoKernel`, `EchoPool`: read back `calls`)."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codegen_ui.core import (
    Activity,
    ChatMessage,
    Delta,
    Event,
    Finished,
    Output,
    RunResult,
    SamplingParams,
    fold_system,
    stream_output,
    turn_complete,
)
from codegen_ui.files import FolderFiles
from codegen_ui.kernel import ServerBusy


@dataclass
class ScriptedModel:
    name: str = "scripted"
    context_size: int = 2048
    chunk: int = 7  # characters per streamed delta
    queue: list[str] = field(default_factory=list)
    calls: list[tuple[str, SamplingParams]] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)  # each call's prompt format
    has_chat_template: bool = False  # True: a ChatML-style template (`render_chat`)
    system_role: bool = True  # False: the template has no system role (folded into user)

    def enqueue(self, *completions: str) -> ScriptedModel:
        self.queue.extend(completions)
        return self

    def count_tokens(self, text: str) -> int:
        return len(text.split())  # words stand in for tokens

    def describe(self) -> str:
        return "scripted model"

    def activity(self) -> Activity:
        return Activity()

    def render_chat(self, messages: Sequence[ChatMessage]) -> str:
        shown = messages if self.system_role else fold_system(messages)
        turns = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in shown)
        return turns + "<|im_start|>assistant\n"

    def stream(
        self,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event | None = None,
        prompt_format: str = "paper",
    ) -> Iterator[Event]:
        self.calls.append((prompt, params))
        self.formats.append(prompt_format)
        text = self.queue.pop(0) if self.queue else ""
        for i in range(0, len(text), self.chunk):
            yield Delta(text[i : i + self.chunk])
            if cancel is not None and cancel.is_set():
                yield Finished("cancelled", self.count_tokens(prompt), i)
                return
        reason = "complete" if turn_complete(prompt_format, text) else "eos"
        yield Finished(reason, self.count_tokens(prompt), len(text))


class EchoKernel:
    """A scripted stand-in for the kernel seam (`LiveKernel`): each run prints the code it got.

    `calls` records every call in order, as `("run", code)`, `("restart", "")`,
    `("interrupt", "")`, `("start", "")` or `("shutdown", "")`. `fail_with` makes every run
    raise that error instead (a kernel that cannot be reached). Execution counts restart at 1
    after a restart, as a real kernel's do; the contract suite (test_kernel_contract.py) holds
    this fake and the real `Kernel` to the same rules.
    """

    sandbox_mode = "none"
    sandbox_layers = "limits"

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_with = fail_with
        self.parked = False
        self._alive = False
        self._count = 0
        self._folder: Path | None = None  # its working folder, made when first asked for

    @property
    def files(self) -> FolderFiles:
        """A real working folder of its own (a temporary one), as a real kernel has."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="echo-kernel-")) / "work"
            self._folder.mkdir()
        return FolderFiles(self._folder)

    @property
    def is_alive(self) -> bool:
        return self._alive

    @property
    def runs(self) -> list[str]:
        return [arg for op, arg in self.calls if op == "run"]

    def count(self, op: str) -> int:
        return sum(1 for name, _ in self.calls if name == op)

    def start(self) -> None:
        self.calls.append(("start", ""))
        self._alive, self._count = True, 0

    def run(
        self, code: str, timeout: float = 30.0, on_output: Callable[[Output], None] | None = None
    ) -> RunResult:
        self.calls.append(("run", code))
        if self.fail_with is not None:
            raise self.fail_with
        self._count += 1
        out = stream_output("stdout", code)
        if on_output is not None:
            on_output(out)
        return RunResult("ok", (out,), self._count, 0.01)

    def restart(self) -> None:
        self.calls.append(("restart", ""))
        self._alive, self._count = True, 0

    def interrupt(self) -> None:
        self.calls.append(("interrupt", ""))

    def shutdown(self, keep_folder: bool = False) -> None:
        self.calls.append(("shutdown", ""))
        self._alive = False
        if self._folder is not None and not keep_folder:
            shutil.rmtree(self._folder.parent, ignore_errors=True)
            self._folder = None


class EchoPool:
    """A stand-in kernel source (`KernelSource`): echo kernels under a cap, like `KernelPool`."""

    def __init__(self, limit: int = 32, make: Callable[[], EchoKernel] = EchoKernel) -> None:
        self.limit = limit
        self.make = make
        self.live: list[EchoKernel] = []

    def acquire(self) -> EchoKernel:
        if len(self.live) >= self.limit:
            raise ServerBusy(f"the server is busy: all {self.limit} Python kernels are in use.")
        kernel = self.make()
        kernel.start()
        self.live.append(kernel)
        return kernel

    def release(self, kernel: EchoKernel) -> None:
        self.live.remove(kernel)
        kernel.shutdown()

    def close(self) -> None:
        for kernel in list(self.live):
            self.release(kernel)
