"""Which kernels the app uses, decided in one place: local sandboxed ones or a gateway's.

`kernel_maker(settings)` returns how to make one kernel for these settings (a `Kernel` on this
machine when `settings.kernels` is "", a `GatewayKernel` on the gateway at that URL otherwise),
taking an optional slot counter; `new_kernel(settings)` makes one. Every caller (the web app's
pool, `run`, `replay`, `mtpb`, `doctor`, and any later command that runs code, such as a
HumanEval runner) goes through here, so `--kernels URL` works the same everywhere. It starts
nothing by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from codegen_ui.kernel.client import Kernel, Slots
from codegen_ui.kernel.gateway import GatewayKernel
from codegen_ui.kernel.gwclient import GatewayConfig
from codegen_ui.kernel.live import LiveKernel
from codegen_ui.kernel.sandbox import KernelConfig
from codegen_ui.settings import Settings


class PooledKernel(LiveKernel, Protocol):
    """What the pool needs besides `LiveKernel`: when it was last used, and `park`."""

    last_used: float

    def describe(self) -> str: ...

    def park(self) -> None: ...


KernelMaker = Callable[[Slots | None], PooledKernel]


def kernel_maker(settings: Settings, config: KernelConfig | None = None) -> KernelMaker:
    """How to make one kernel for these settings (`config` overrides theirs, for tests)."""
    conf = config or KernelConfig.from_settings(settings)
    if not settings.kernels:

        def local(slots: Slots | None = None) -> PooledKernel:
            return Kernel(config=conf, slots=slots)

        return local
    gateway = GatewayConfig.from_settings(settings)  # the token, from the environment

    def remote(slots: Slots | None = None) -> PooledKernel:
        return GatewayKernel(gateway, conf, slots)

    return remote


def new_kernel(settings: Settings) -> PooledKernel:
    """One kernel (not started) for these settings."""
    return kernel_maker(settings)(None)
