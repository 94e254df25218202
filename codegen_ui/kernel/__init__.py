"""The kernel seam: sandboxed Jupyter kernels that run code and return notebook outputs.

Callers import from here, or from `codegen_ui.kernel.api` for the contract alone: `Kernel` (one
confined ipykernel), `KernelPool` (the cap on live kernels, pre-started kernels, the idle sweep),
`KernelConfig` (limits, caps, sandbox mode), the types a run returns, and `FolderFiles` (a
folder of user files handled without following links, `workfiles`) with its `FileLimits`
(`filenames`: safe names and limits, pure).
Nothing outside this package imports its other modules or sees a Jupyter message.
"""

from codegen_ui.kernel.api import (
    FileEntry,
    KernelError,
    KernelFiles,
    KernelSource,
    LiveKernel,
    Output,
    Runner,
    RunResult,
    RunStatus,
    error_output,
    stream_output,
)
from codegen_ui.kernel.client import Kernel
from codegen_ui.kernel.filenames import FileLimits, FilesError, check_name, size_text
from codegen_ui.kernel.folders import kernels_root
from codegen_ui.kernel.layers import Layer, SandboxInfo, hide_server, sandbox_info
from codegen_ui.kernel.pool import KernelPool, ServerBusy, install_exit_handlers
from codegen_ui.kernel.probes import Check, escape_checks
from codegen_ui.kernel.runtime import shutdown_all
from codegen_ui.kernel.sandbox import KernelConfig, Limits, OutputCaps
from codegen_ui.kernel.workfiles import FolderFiles

__all__ = [
    "Check",
    "FileEntry",
    "FileLimits",
    "FilesError",
    "FolderFiles",
    "Kernel",
    "KernelConfig",
    "KernelError",
    "KernelFiles",
    "KernelPool",
    "KernelSource",
    "Layer",
    "Limits",
    "LiveKernel",
    "Output",
    "OutputCaps",
    "RunResult",
    "RunStatus",
    "Runner",
    "SandboxInfo",
    "ServerBusy",
    "check_name",
    "error_output",
    "escape_checks",
    "hide_server",
    "install_exit_handlers",
    "kernels_root",
    "sandbox_info",
    "shutdown_all",
    "size_text",
    "stream_output",
]
