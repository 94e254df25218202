"""The kernel seam: sandboxed Jupyter kernels that run code and return notebook outputs.

Callers import from here, or from `codegen_ui.kernel.api` for the contract alone: `Kernel` (one
confined ipykernel), `KernelPool` (the cap on live kernels, pre-started kernels, the idle sweep),
`KernelConfig` (limits, caps, sandbox mode) and the types a run returns. Nothing outside this
package imports its other modules or sees a Jupyter message.
"""

from codegen_ui.kernel.api import (
    KernelError,
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
from codegen_ui.kernel.folders import kernels_root
from codegen_ui.kernel.layers import Layer, SandboxInfo, hide_server, sandbox_info
from codegen_ui.kernel.pool import KernelPool, ServerBusy, install_exit_handlers
from codegen_ui.kernel.probes import Check, escape_checks
from codegen_ui.kernel.runtime import shutdown_all
from codegen_ui.kernel.sandbox import KernelConfig, Limits, OutputCaps

__all__ = [
    "Check",
    "Kernel",
    "KernelConfig",
    "KernelError",
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
    "error_output",
    "escape_checks",
    "hide_server",
    "install_exit_handlers",
    "kernels_root",
    "sandbox_info",
    "shutdown_all",
    "stream_output",
]
