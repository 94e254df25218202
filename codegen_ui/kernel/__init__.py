"""The kernel seam: sandboxed Jupyter kernels that run code and return notebook outputs.

Callers import from here, or from `codegen_ui.kernel.api` for the contract alone: `Kernel` (one
confined ipykernel), `KernelPool` (the cap on live kernels, pre-started kernels, the idle sweep),
`KernelConfig` (limits, caps, sandbox mode) and the types a run returns. `GatewayKernel` is the
same contract on a Jupyter Enterprise Gateway (`gateway.py`, on `gwlink.py`'s link to one
remote kernel, over `gwclient.py`'s REST and websocket client, with `transfer.py` moving files
in and out of its folder); `new_kernel` / `kernel_maker` (`backends.py`) choose between the two
from the `kernels` setting, the one place that choice is made. Nothing outside this package
imports its other modules or sees a Jupyter message.
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
from codegen_ui.kernel.backends import KernelMaker, PooledKernel, kernel_maker, new_kernel
from codegen_ui.kernel.client import Kernel
from codegen_ui.kernel.folders import kernels_root
from codegen_ui.kernel.gateway import GatewayKernel
from codegen_ui.kernel.gwclient import TOKEN_VAR, GatewayConfig, GatewayError
from codegen_ui.kernel.layers import Layer, SandboxInfo, hide_server, sandbox_info
from codegen_ui.kernel.pool import KernelPool, ServerBusy, install_exit_handlers
from codegen_ui.kernel.probes import Check, escape_checks, gateway_checks
from codegen_ui.kernel.runtime import shutdown_all
from codegen_ui.kernel.sandbox import KernelConfig, Limits, OutputCaps

__all__ = [
    "TOKEN_VAR",
    "Check",
    "GatewayConfig",
    "GatewayError",
    "GatewayKernel",
    "Kernel",
    "KernelConfig",
    "KernelError",
    "KernelMaker",
    "KernelPool",
    "KernelSource",
    "Layer",
    "Limits",
    "LiveKernel",
    "Output",
    "OutputCaps",
    "PooledKernel",
    "RunResult",
    "RunStatus",
    "Runner",
    "SandboxInfo",
    "ServerBusy",
    "error_output",
    "escape_checks",
    "gateway_checks",
    "hide_server",
    "install_exit_handlers",
    "kernel_maker",
    "kernels_root",
    "new_kernel",
    "sandbox_info",
    "shutdown_all",
    "stream_output",
]
