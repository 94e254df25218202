"""A benchmark's code in a kernel: its kernel-side modules installed, its answers read back.

`Harness` keeps a benchmark's kernel-side modules (which import only the standard library)
installed in one kernel from their source (`setup_code`): before the first program, and again
after a run that left the kernel's process replaced or disturbed. `displayed` reads back the
JSON a run displayed under a mimetype of its own; `error_text` gives a run's first error as one
line. It runs no program of its own and judges nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codegen_ui.core import KernelError, Runner, RunResult

_SETUP = """\
import sys as _sys, types as _types
for _name, _source in {sources!r}:
    _module = _sys.modules[_name] = _types.ModuleType(_name)
    exec(compile(_source, _name, "exec"), _module.__dict__)
del _sys, _types, _name, _source, _module
"""


def setup_code(modules: Sequence[tuple[str, Path]]) -> str:
    """Code that installs each (name, source file) in the kernel as a module of its own."""
    sources = [(name, path.read_text(encoding="utf-8")) for name, path in modules]
    return _SETUP.format(sources=sources)


class Harness:
    """A benchmark's kernel-side modules in one kernel, installed again in each new process."""

    def __init__(self, kernel: Runner, modules: Sequence[tuple[str, Path]], name: str) -> None:
        self.kernel = kernel
        self.modules = modules
        self.name = name  # the benchmark, for the error when it cannot be installed
        self._ready = False  # the modules are installed in the kernel's current process

    def ready(self) -> None:
        """Install the modules unless they are; raises KernelError when two tries fail."""
        if self._ready:
            return
        for attempt in range(2):
            if attempt:
                self.kernel.restart()  # a new process, rather than trust a disturbed one
            result = self.kernel.run(setup_code(self.modules), timeout=60)
            if result.status == "ok":
                self._ready = True
                return
        raise KernelError(
            f"{self.name} could not set up its harness in the kernel: {error_text(result)}"
        )

    def lost(self, result: RunResult) -> None:
        """After a run that left no answer: a fresh process (and harness) for the next program.

        A run that lost the kernel's state was already restarted; any other is restarted here,
        rather than trust a kernel that died, hung or lost its harness."""
        self._ready = False
        if not result.state_lost:
            self.kernel.restart()


def error_text(result: RunResult) -> str:
    """The first error of a run as one line, "Name: message" (its status when none)."""
    for out in result.outputs:
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    return result.status


def displayed(result: RunResult, mime: str) -> Any:
    """The data a run displayed under `mime` (decoded when it arrived as text), else None."""
    data = next((o["data"][mime] for o in result.outputs if mime in o.get("data", {})), None)
    if isinstance(data, str):  # a JSON mimetype may arrive still encoded
        data = json.loads(data)
    return data
