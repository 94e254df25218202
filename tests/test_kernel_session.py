"""The session drives the sandboxed kernel from its worker threads: timeouts and deaths reach the
turn as a status and a message, and a later turn still runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codegen_ui.core import SamplingParams, Session, Turn
from codegen_ui.kernel import Kernel, KernelConfig, LiveKernel
from tests.fakes import ScriptedModel

pytestmark = pytest.mark.slow


def _last(turns: Iterator[Turn]) -> Turn:
    return list(turns)[-1]


def hang_and_crash(scripted: ScriptedModel, kernel: LiveKernel, run_timeout: float) -> None:
    """Five turns on `kernel`: a value, a hang, a use of the value, a crash, a look for the
    value; the hang is a timeout that keeps the value, the crash a death that loses it, and
    every later turn runs."""
    scripted.enqueue(
        "\nx = 20\n\n\n",
        "\nwhile True:\n    pass\n\n\n",
        "\nprint(x + 1)\n\n\n",
        "\nimport os\nos._exit(1)\n\n\n",
        "\nprint('x' in globals())\n\n\n",
    )
    session = Session(scripted, kernel, run_timeout=run_timeout)
    turns = [
        _last(session.add_turn(f"turn {n}", SamplingParams(max_new_tokens=16))) for n in range(5)
    ]
    assert [t.status for t in turns] == ["ok", "timeout", "ok", "died", "ok"]
    assert turns[2].outputs[0]["text"] == "21\n"  # the interrupt kept x
    assert "variables from earlier turns are gone" in turns[3].message
    assert turns[4].outputs[0]["text"] == "False\n"


def test_session_turns_survive_a_hang_and_a_crash(scripted: ScriptedModel) -> None:
    with Kernel(config=KernelConfig(interrupt_grace=2.0)) as kernel:
        hang_and_crash(scripted, kernel, run_timeout=2)
