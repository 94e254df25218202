"""One contract, three kernels: the shared fake (`tests.fakes.EchoKernel`), the real `Kernel`, and
`GatewayKernel` on a real Enterprise Gateway (skipped, with the reason, where there is none).

Whatever the web app and the session rely on from a `LiveKernel` is asserted here against both,
so a test that passes on the fake says something about the real thing. What the code prints is
the fake's own business (it echoes the code); the shape of what comes back is not.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import nbformat
import pytest

from codegen_ui.core import Output
from codegen_ui.kernel import GatewayKernel, Kernel, KernelConfig, LiveKernel
from tests.fakes import EchoKernel
from tests.gatewaykit import running_gateway

CODE = "print('contract')"


@pytest.fixture(params=["fake", "real", "gateway"], scope="module")
def live(request: pytest.FixtureRequest) -> Iterator[LiveKernel]:
    with contextlib.ExitStack() as stack:
        kernel: LiveKernel
        if request.param == "gateway":
            kernel = GatewayKernel(stack.enter_context(running_gateway()).config())
        else:
            kernel = EchoKernel() if request.param == "fake" else Kernel(config=KernelConfig())
        kernel.start()
        stack.callback(kernel.shutdown)
        yield kernel


def _valid(outputs: tuple[Output, ...]) -> None:
    cell = nbformat.v4.new_code_cell(outputs=[nbformat.from_dict(o) for o in outputs])
    nbformat.validate(nbformat.v4.new_notebook(cells=[cell]))


def test_started_kernel_is_alive_unparked_and_says_how_it_is_confined(live: LiveKernel) -> None:
    assert live.is_alive and not live.parked
    assert live.sandbox_mode in ("bwrap", "landlock", "none")
    assert live.sandbox_layers.endswith("limits")


def test_a_run_streams_the_outputs_it_returns_as_valid_notebook_outputs(live: LiveKernel) -> None:
    seen: list[Output] = []
    result = live.run(CODE, 10, seen.append)
    assert result.status == "ok" and not result.state_lost
    assert len(result.outputs) == 1 and result.outputs[0]["output_type"] == "stream"
    assert [dict(o) for o in seen] == [dict(o) for o in result.outputs]
    _valid(result.outputs)


def test_execution_counts_rise_by_one_and_start_again_after_a_restart(live: LiveKernel) -> None:
    first = live.run(CODE, 10).execution_count
    assert first is not None and live.run(CODE, 10).execution_count == first + 1
    live.restart()
    assert live.is_alive and live.run(CODE, 10).execution_count == 1


def test_an_interrupt_while_idle_is_harmless(live: LiveKernel) -> None:
    live.interrupt()
    assert live.run(CODE, 10).status == "ok"


def test_shutdown_leaves_a_dead_kernel(live: LiveKernel) -> None:
    live.shutdown()
    assert not live.is_alive
    live.start()  # the module's later tests (and teardown) get a live one again
    assert live.is_alive
