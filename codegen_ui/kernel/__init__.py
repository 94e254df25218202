"""The kernel seam: sandboxed Jupyter kernels that run code and return notebook outputs.

Callers import from here, or from `codegen_ui.kernel.api` for the contract alone: `Kernel` (one
confined ipykernel), `KernelPool` (the cap on live kernels, pre-started kernels, the idle sweep),
`KernelConfig` (limits, caps, sandbox mode), the types a run returns, and from `workers` what
the benchmarks share (jobs spread over K kernels, their progress line, a harness installed from
source). Nothing outside this package imports its other modules or sees a Jupyter message.
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
from codegen_ui.kernel.workers import Progress, displayed, run_pool, setup_code

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
    "Progress",
    "RunResult",
    "RunStatus",
    "Runner",
    "SandboxInfo",
    "ServerBusy",
    "displayed",
    "error_output",
    "escape_checks",
    "hide_server",
    "install_exit_handlers",
    "kernels_root",
    "run_pool",
    "sandbox_info",
    "setup_code",
    "shutdown_all",
    "stream_output",
]
