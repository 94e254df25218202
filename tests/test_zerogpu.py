"""ZeroGPU: generation alone runs under `spaces.GPU` on a ZeroGPU Space, and nothing changes
elsewhere. The Space's runtime is stood in for by a `spaces` module that records what it
decorates and each call it lends the GPU to; a real ipykernel runs the cell, outside it."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from codegen_ui.core import SamplingParams, Session, finish
from codegen_ui.workspace import FairGate, ModelHolder, SharedModel, zerogpu
from tests.fakes import ScriptedModel


class FakeSpaces(types.ModuleType):
    """What a ZeroGPU runtime's `spaces.GPU` does, as far as the app can tell: wrap a call."""

    def __init__(self) -> None:
        super().__init__("spaces")
        self.decorated: list[str] = []
        self.lent = 0  # calls that held the GPU
        self.durations: list[int] = []

    def GPU(self, duration: int = 60) -> Any:
        def wrap(fn: Any) -> Any:
            self.decorated.append(fn.__name__)
            self.durations.append(duration)

            def lent(*args: Any, **kwargs: Any) -> Iterator[Any]:
                self.lent += 1
                yield from fn(*args, **kwargs)

            return lent

        return wrap


def test_off_a_space_nothing_is_wrapped_and_spaces_is_not_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    monkeypatch.delitem(sys.modules, "spaces", raising=False)

    def fn() -> None:
        pass

    assert zerogpu.gpu(fn) is fn
    assert zerogpu.gpu(fn, {"SPACES_ZERO_GPU": "false"}) is fn
    assert "spaces" not in sys.modules
    assert zerogpu.on_zerogpu({"SPACES_ZERO_GPU": "true"})


def test_on_zerogpu_each_generation_holds_the_gpu_and_the_kernel_never(
    monkeypatch: pytest.MonkeyPatch, kernel: Any
) -> None:
    fake = FakeSpaces()
    monkeypatch.setitem(sys.modules, "spaces", fake)
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    model = ScriptedModel().enqueue("x = 6 * 7\nprint(x)\n", "print(x + 1)\n")
    shared = SharedModel(ModelHolder.ready(model), FairGate(1))
    assert fake.decorated == ["_write"]  # generation, and nothing else
    session = Session(shared, kernel)  # type: ignore[arg-type]
    params = SamplingParams(max_new_tokens=32)
    first = finish(session.add_turn("compute it", params))
    assert fake.lent == 1
    second = finish(session.add_turn("print one more", params))
    assert fake.lent == 2  # one loan per turn written
    # The cells ran in the kernel, outside any loan (running them borrowed nothing).
    assert first.status == second.status == "ok"
    assert second.outputs[0]["text"] == "43\n"
    finish(session.run(0))
    assert fake.lent == 2
