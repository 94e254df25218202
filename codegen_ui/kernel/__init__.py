"""The kernel seam: sandboxed Jupyter kernels that run code and return notebook outputs.

Callers import from here: `Kernel` (one confined ipykernel, the domain's `Runner` port, whose
types live in `codegen_ui.core`), `KernelPool` (the cap on live kernels, pre-started kernels,
the idle sweep), `KernelConfig` (limits, caps, sandbox mode) and what the web app holds a tab's
kernel by (`LiveKernel`, `KernelSource`, `ServerBusy`). Nothing outside this package imports its
other modules or sees a Jupyter message.

Inside: `client` (Kernel: start, interrupt, restart a local one), `cellrun` (how a cell runs on
either backend: the deadline, a death, a restart note, a lost link, each handled once), `outputs`
(IOPub messages to capped outputs), `watch` (a running cell's folder quota, and the guard
between cells), `runtime` (the thread that starts kernels, the registry of live
ones), `pool` (the cap, pre-started kernels, the idle sweep), `live` (the protocols the web app
holds kernels by), `folders` (where kernels live on disk), `sandbox` (a kernel's command, limits and
environment), `layers` (which confinement this host gives), `bwrap`, `confine` (Landlock and
seccomp), `cgroup`, `pyview` (a Python other uids can run), `launch` (the launcher that confines,
then execs ipykernel), `inventory` (what a kernel holds, read from inside it for the
prompt: `read_state`), `reaper` (kills what a kernel left running), `probes` (escape checks).
`GatewayKernel` is the same contract on a Jupyter Enterprise Gateway (`gateway`, on `gwlink`'s link
to one remote kernel, over `gwclient`'s REST and websocket client, with `transfer` moving files in
and out of its folder and `gwfiles` its folder as the Files panel's `KernelFiles`); `new_kernel` /
`kernel_maker` (`backends`) choose between the two from the `kernels` setting, the one place that
choice is made.
"""

from codegen_ui.kernel.backends import KernelMaker, PooledKernel, kernel_maker, new_kernel
from codegen_ui.kernel.client import Kernel
from codegen_ui.kernel.folders import kernels_root
from codegen_ui.kernel.gateway import GatewayKernel
from codegen_ui.kernel.gwclient import TOKEN_VAR, GatewayConfig, GatewayError
from codegen_ui.kernel.inventory import read_state
from codegen_ui.kernel.layers import Layer, SandboxInfo, hide_server, sandbox_info
from codegen_ui.kernel.live import KernelSource, LiveKernel
from codegen_ui.kernel.pool import KernelPool, ServerBusy
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
    "KernelMaker",
    "KernelPool",
    "KernelSource",
    "Layer",
    "Limits",
    "LiveKernel",
    "OutputCaps",
    "PooledKernel",
    "SandboxInfo",
    "ServerBusy",
    "escape_checks",
    "gateway_checks",
    "hide_server",
    "kernel_maker",
    "kernels_root",
    "new_kernel",
    "read_state",
    "sandbox_info",
    "shutdown_all",
]
