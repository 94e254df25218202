"""What the web app needs of a tab's kernel beyond the domain's `Runner`, and where it comes from.

`LiveKernel` is a kernel a browser tab holds for its life (started again, interrupted, probed,
shut down); `KernelSource` hands them out (`KernelPool` is one). Protocols only: `Kernel` is the
real thing, and the `Runner` port they extend is the domain's, in `codegen_ui.core`.
"""

from __future__ import annotations

from typing import Protocol

from codegen_ui.core import KernelFiles, Runner


class LiveKernel(Runner, Protocol):
    """A kernel a browser tab holds for its life: it can be started again, interrupted, probed."""

    parked: bool  # stopped by the idle sweep; the next run starts it again

    @property
    def is_alive(self) -> bool: ...

    @property
    def sandbox_mode(self) -> str: ...  # "bwrap", "landlock" or "none", as resolved at start

    @property
    def sandbox_layers(self) -> str: ...  # the active layers, "landlock ABI 7 + seccomp + ..."

    @property
    def files(self) -> KernelFiles: ...  # its working folder; KernelError before it starts

    def start(self) -> None: ...

    def interrupt(self) -> None: ...

    def shutdown(self, keep_folder: bool = False) -> None: ...


class KernelSource(Protocol):
    """Where a tab's kernel comes from (`codegen_ui.kernel.KernelPool` is one)."""

    def acquire(self) -> LiveKernel: ...  # a started kernel; raises ServerBusy past the cap

    def release(self, kernel: LiveKernel) -> None: ...

    def close(self) -> None: ...
