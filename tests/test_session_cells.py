"""Acting on one cell of a session: regenerate any cell, edit, run, delete, undo and redo many
steps, and turns that fail or are stopped end visibly. Scripted model; a stand-in kernel except
where the kernel's own behaviour (an interrupt) is the point."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from codegen_ui.core import PREAMBLE, Event, SamplingParams, Session, Turn, finish
from codegen_ui.core.history import History
from tests.fakes import EchoKernel, ScriptedModel

GREEDY = SamplingParams(max_new_tokens=32)


def three(model: ScriptedModel) -> Session:
    model.enqueue("a = 1\n\n\n", "b = 2\n\n\n", "c = 3\n\n\n")
    session = Session(model, EchoKernel(), run_preamble=False)
    for text in ("Set a.", "Set b.", "Set c."):
        finish(session.add_turn(text, GREEDY))
    return session


def codes(session: Session) -> list[str]:
    return [t.code for t in session.turns]


def test_history_keeps_states_back_and_forward() -> None:
    h: History[int] = History(steps=2)
    assert h.undo(0) is None and h.redo(0) is None
    for state in (1, 2, 3):
        h.record(state)
    assert h.undo(4) == 3 and h.undo(3) == 2 and h.undo(2) is None  # only 2 steps kept
    assert h.redo(2) == 3 and h.redo(3) == 4 and h.redo(4) is None
    h.undo(4)
    h.record(9)  # a new change ends the redo line
    assert not h.can_redo


def test_editing_one_cell_leaves_the_others_alone_and_runs_its_code(
    scripted: ScriptedModel,
) -> None:
    session = three(scripted)
    edited = finish(session.edit(0, "a = 10"))
    assert edited.edited and edited.outputs[0]["text"] == "a = 10"
    finish(session.edit(0, "a = 11"))
    assert codes(session) == ["a = 11", "b = 2", "c = 3"]
    with pytest.raises(ValueError, match="empty"):
        finish(session.edit(1, "  \n"))
    with pytest.raises(ValueError, match="empty"):
        session.set_code(1, "")
    assert codes(session) == ["a = 11", "b = 2", "c = 3"]


def test_regenerating_a_middle_cell_prompts_with_the_cells_before_it(
    scripted: ScriptedModel,
) -> None:
    session = three(scripted)
    scripted.enqueue("b = 20\n\n\n")
    turn = finish(session.regenerate(GREEDY, index=1, instruction="Set b to twenty."))
    assert scripted.calls[-1][0] == PREAMBLE + "# Set a.\na = 1\n\n# Set b to twenty.\n"
    assert (turn.instruction, turn.code) == ("Set b to twenty.", "b = 20")
    assert codes(session) == ["a = 1", "b = 20", "c = 3"]


def test_undo_and_redo_an_edit_a_regeneration_and_a_delete_many_steps(
    scripted: ScriptedModel,
) -> None:
    session = three(scripted)
    changes: list[Callable[[], object]] = [
        lambda: finish(session.edit(2, "c = 30")),
        lambda: finish(session.regenerate(GREEDY, index=0)),
        lambda: session.delete(1),
    ]
    scripted.enqueue("a = 100\n\n\n")
    states = [codes(session)]
    for change in changes:
        revision = session.revision
        change()
        assert session.revision > revision
        states.append(codes(session))
    assert states[-1] == ["a = 100", "c = 30"]
    for state in reversed(states[:-1]):
        assert session.undo()
        assert codes(session) == state
    assert session.undo()  # and on back through the three added turns
    assert codes(session) == ["a = 1", "b = 2"]
    for state in states:
        assert session.redo()
        assert codes(session) == state
    assert not session.redo()


def test_a_model_that_fails_ends_the_turn_in_error_with_one_line(
    scripted: ScriptedModel,
) -> None:
    class Broken(ScriptedModel):
        def stream(self, *args: object, **kw: object) -> Iterator[Event]:
            raise RuntimeError("queue dropped\nthe request")
            yield  # pragma: no cover

    session = Session(Broken(), EchoKernel(), run_preamble=False)
    turn = finish(session.add_turn("Do it.", GREEDY))
    assert turn.status == "error"
    assert turn.message == "the model failed: RuntimeError: queue dropped the request"
    session.turns.append(Turn("half done", status="running"))
    assert session.fail_unfinished("the page closed")
    assert session.turns[-1].status == "error" and session.turns[-1].message == "the page closed"


def test_stop_during_a_run_says_stopped_not_keyboard_interrupt(
    scripted: ScriptedModel,
    kernel,  # type: ignore[no-untyped-def]
) -> None:
    session = Session(scripted, kernel, run_timeout=30)
    scripted.enqueue("import time\nprint('before')\ntime.sleep(20)\n\n\n")
    seen: list[Turn] = []

    def stop_soon() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(t.outputs for t in seen):
            time.sleep(0.05)
        session.cancel.set()
        kernel.interrupt()

    threading.Thread(target=stop_soon, daemon=True).start()
    for turn in session.add_turn("Wait a while.", GREEDY):
        seen.append(turn)
    final = seen[-1]
    assert (final.status, final.message) == ("cancelled", "stopped")
    assert [o.get("ename") for o in final.outputs if o["output_type"] == "error"] == []
    assert final.outputs[0]["text"] == "before\n"
    assert final.execution_count == 1  # the preamble's run is not counted
