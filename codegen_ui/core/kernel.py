"""The kernel port: what a run returns, its error, and the `Runner` protocol the domain drives.

A run gives a `RunResult` of nbformat outputs; errors in the user's code are outputs, never
exceptions. `KernelError` (a `UserError`) means the kernel itself could not be started or reached.
`output_text` and `outputs_text` turn outputs into the plain text a terminal shows (`ANSI` matches
the colour codes in a traceback): the CLI and the session API both print them so. `KernelFiles` is
the kernel's working folder (the data files a session puts in and its code writes; a `Listing` of
them says whether it saw every entry). `Runner` is what a session or a replay needs (run and
restart). The domain owns them; `codegen_ui.kernel` implements them from above (`Kernel`) and adds
what the web app uses to look after a tab's kernel (`LiveKernel`, `KernelSource`). This module
starts nothing and imports nothing heavy (nbformat only inside the two output builders).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from codegen_ui.errors import UserError

Output = dict[str, Any]  # an nbformat v4 output (a NotebookNode)
RunStatus = Literal["ok", "error", "timeout", "died"]
# An ANSI escape (a colour in a traceback): its parameters ("1;31") and its final letter ("m").
ANSI = re.compile(r"\x1b\[([0-9;]*)([A-Za-z])")


class KernelError(UserError, RuntimeError):
    """The kernel could not be started or reached (not an error in the user's code)."""


@dataclass(frozen=True)
class RunResult:
    status: RunStatus
    outputs: tuple[Output, ...]
    execution_count: int | None = None
    seconds: float = 0.0
    state_lost: bool = False  # the kernel was restarted: earlier variables are gone


def error_output(ename: str, evalue: str) -> Output:
    from nbformat.v4 import new_output

    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def stream_output(name: str, text: str) -> Output:
    from nbformat.v4 import new_output

    return new_output("stream", name=name, text=text)


def output_text(output: Output) -> str:
    """One output as the plain text a terminal would show: a traceback without colour, rich data
    as its text/plain form, else the names of its formats ("[image/png]")."""
    kind = output.get("output_type")
    if kind == "stream":
        return str(output.get("text", ""))
    if kind == "error":
        return ANSI.sub("", "\n".join(output.get("traceback", []))) + "\n"
    data = output.get("data", {})
    text = data.get("text/plain")
    if text is None:
        return f"[{', '.join(sorted(data))}]\n"
    return ("".join(text) if isinstance(text, list) else str(text)) + "\n"


def outputs_text(outputs: Iterable[Output]) -> str:
    """A cell's outputs as one plain text, in order."""
    return "".join(output_text(output) for output in outputs)


@dataclass(frozen=True)
class FileEntry:
    """One user file of a folder: its path inside the folder ("raw/2024.csv") and size."""

    name: str
    size: int
    modified_ns: int = 0  # when it last changed (tells a copy to skip what it has already)


class Listing(tuple[FileEntry, ...]):
    """A folder's files, and whether the listing saw every entry (False: it stopped at its cap,
    so a file missing from it may still be there)."""

    complete: bool

    def __new__(cls, entries: Iterable[FileEntry] = (), complete: bool = True) -> Listing:
        made = super().__new__(cls, entries)
        made.complete = complete
        return made


class KernelFiles(Protocol):
    """The kernel's working folder as the server reaches it: what its code reads and writes.

    `codegen_ui.files.FolderFiles` is the local one (no links followed, hidden names kept
    out); a remote kernel gives another with the same calls."""

    def list(self) -> tuple[FileEntry, ...]: ...  # a `Listing` says whether it is complete

    def read(self, name: str, max_bytes: int = 0) -> bytes: ...

    def write(self, name: str, data: bytes) -> None: ...  # atomic; makes its folders

    def delete(self, name: str) -> None: ...

    def clear(self) -> None: ...  # every user file goes (what the kernel hides stays)


class Runner(Protocol):
    """What a session or a replay needs from a kernel."""

    def run(
        self, code: str, timeout: float = ..., on_output: Callable[[Output], None] | None = ...
    ) -> RunResult: ...

    def restart(self) -> None: ...
