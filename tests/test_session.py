"""Sessions driven end to end: the scripted model writes, a real kernel runs."""

from __future__ import annotations

import pytest

from codegen_ui.core import (
    EMPTY_MESSAGE,
    PREAMBLE,
    Delta,
    Finished,
    GenerationError,
    SamplingParams,
    Session,
    Turn,
    TurnError,
    finish,
    render_prompt,
)
from tests.fakes import EchoKernel, ScriptedModel

GREEDY = SamplingParams(max_new_tokens=64)


def texts(turn: Turn) -> str:
    parts = []
    for out in turn.outputs:
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


@pytest.fixture
def session(scripted: ScriptedModel, kernel) -> Session:  # type: ignore[no-untyped-def]
    return Session(scripted, kernel, run_timeout=10)


def test_turns_build_the_papers_prompt_and_state_persists(
    session: Session, scripted: ScriptedModel
) -> None:
    scripted.enqueue("x = 41\n\n\n# junk", "print(x + 1)\nprint('cut')")
    first = finish(session.add_turn("Set x to 41.", GREEDY))
    second = finish(session.add_turn("Print x plus one.", GREEDY))
    assert (first.status, first.code) == ("ok", "x = 41")
    assert (second.status, second.code, texts(second)) == ("ok", "print(x + 1)\n", "42\n")
    assert scripted.calls[0][0] == PREAMBLE + "# Set x to 41.\n"
    assert scripted.calls[1][0] == PREAMBLE + "# Set x to 41.\nx = 41\n\n# Print x plus one.\n"
    assert session.prompt_for("next", 64).text == render_prompt(session.history(), "next")


def test_streaming_yields_growing_code_then_outputs(
    session: Session, scripted: ScriptedModel
) -> None:
    scripted.enqueue("for i in range(3):\n    print(i)\n\n\n")
    snapshots = list(session.add_turn("Count to three.", GREEDY))
    generating = [t.code for t in snapshots if t.status == "generating"]
    assert len(generating) > 2 and generating == sorted(generating, key=len)
    assert snapshots[-1].status == "ok" and texts(snapshots[-1]) == "0\n1\n2\n"
    assert session.turns == [snapshots[-1]]


def test_errors_are_error_outputs_not_exceptions(session: Session, scripted: ScriptedModel) -> None:
    scripted.enqueue("1 / 0\n\n\n")
    turn = finish(session.add_turn("Divide by zero.", GREEDY))
    assert turn.status == "error"
    (err,) = [o for o in turn.outputs if o["output_type"] == "error"]
    assert err["ename"] == "ZeroDivisionError"


def test_deadline_is_honoured_and_kernel_still_works(scripted: ScriptedModel, kernel) -> None:  # type: ignore[no-untyped-def]
    session = Session(scripted, kernel, run_timeout=1.5)
    scripted.enqueue("import time\nkept = 5\ntime.sleep(60)\n\n\n", "print(kept)\n\n\n")
    slow = finish(session.add_turn("Sleep a minute.", GREEDY))
    assert slow.status == "timeout"
    assert "ran past 1.5 s" in slow.outputs[-1]["evalue"]
    assert slow.stats.run_s < 15
    after = finish(session.add_turn("Print kept.", GREEDY))
    assert after.status == "ok" and texts(after) == "5\n"


def test_empty_code_is_reported_not_run(session: Session, scripted: ScriptedModel) -> None:
    scripted.enqueue("# I would rather keep commenting\n")
    turn = finish(session.add_turn("Do something.", GREEDY))
    assert (turn.status, turn.code, turn.outputs) == ("empty", "", ())
    assert turn.message == EMPTY_MESSAGE
    # The paper keeps such a turn in the history: comment, empty code, blank line.
    assert session.prompt_for("next", 8).text == PREAMBLE + "# Do something.\n\n\n# next\n"


def test_regenerate_edit_undo_replay(session: Session, scripted: ScriptedModel) -> None:
    scripted.enqueue("y = 1\n\n\n", "y = 2\n\n\n")
    finish(session.add_turn("Set y.", GREEDY))
    regenerated = finish(session.regenerate(GREEDY))
    assert len(session.turns) == 1 and regenerated.code == "y = 2"
    assert scripted.calls[1][0] == scripted.calls[0][0]  # same prompt again

    edited = finish(session.edit(0, "y = 10\nprint(y)"))
    assert edited.edited and texts(edited) == "10\n"
    assert "y = 10\nprint(y)\n\n" in session.prompt_for("next", 8).text

    scripted.enqueue("z = y * 2\nprint(z)\n\n\n")
    finish(session.add_turn("Double it.", GREEDY))
    replayed = list(session.replay())
    assert texts(replayed[-1]) == "20\n"
    assert session.undo()  # the last change: the turn "Double it." was added
    assert [t.instruction for t in session.turns] == ["Set y."]


def test_sampling_records_the_seed_it_drew(session: Session, scripted: ScriptedModel) -> None:
    scripted.enqueue("a = 1\n\n\n")
    turn = finish(session.add_turn("Set a.", SamplingParams(temperature=0.2, seed=None)))
    assert isinstance(turn.params.seed, int)
    assert scripted.calls[0][1].seed == turn.params.seed


def test_empty_instruction_is_refused(session: Session) -> None:
    with pytest.raises(TurnError, match="empty"):
        list(session.add_turn("   ", GREEDY))
    assert session.turns == []


def test_on_change_is_called_after_each_finished_turn(
    session: Session, scripted: ScriptedModel
) -> None:
    seen: list[int] = []
    session.on_change = lambda s: seen.append(len(s.turns))
    scripted.enqueue("a = 1\n\n\n", "# nothing\n")
    finish(session.add_turn("One.", GREEDY))
    finish(session.add_turn("Two.", GREEDY))
    # A running turn is saved once its code is written, and again with its outputs.
    assert seen == [1, 1, 2]


def test_the_preamble_runs_in_every_fresh_kernel(scripted: ScriptedModel, kernel) -> None:  # type: ignore[no-untyped-def]
    session = Session(scripted, kernel, run_timeout=10)
    scripted.enqueue("print(np.arange(4).sum())\n\n\n", "print(np.ones(2).sum())\n\n\n")
    assert texts(finish(session.add_turn("Sum 0..3 with numpy.", GREEDY))) == "6\n"
    session.restart_kernel()
    assert texts(finish(session.add_turn("Sum two ones.", GREEDY))) == "2.0\n"


def test_a_failing_kernel_ends_the_turn_in_error_and_keeps_it(scripted: ScriptedModel) -> None:
    from codegen_ui.core import KernelError

    broken = EchoKernel(fail_with=KernelError("the kernel could not be reached"))
    session = Session(scripted, broken, run_preamble=False)
    scripted.enqueue("a = 1\n\n\n")
    last = finish(session.add_turn("Set a.", GREEDY))  # caught once, here: no exception
    (turn,) = session.turns
    assert last == turn
    assert (turn.code, turn.status, turn.message) == (
        "a = 1",
        "error",
        "the kernel failed: the kernel could not be reached",
    )


class FailingServer(ScriptedModel):
    """A model server that breaks off after the first delta."""

    def stream(self, prompt, params, cancel=None, prompt_format="paper"):  # type: ignore[no-untyped-def]
        yield Delta("x = ")
        yield Finished("error", 3, 1, message="the model server broke off the stream mid-turn")


def test_a_server_failure_ends_the_turn_unrun_with_its_text_and_why(kernel) -> None:  # type: ignore[no-untyped-def]
    session = Session(FailingServer(), kernel, run_timeout=10)
    turn = finish(session.add_turn("Set x.", GREEDY))
    assert (turn.status, turn.completion, turn.outputs) == ("not-run", "x = ", ())
    assert turn.message == "the model server broke off the stream mid-turn"


def test_a_generation_failure_ends_the_turn_unrun(kernel) -> None:  # type: ignore[no-untyped-def]
    class Failing(ScriptedModel):
        def stream(self, prompt, params, cancel=None, prompt_format="paper"):  # type: ignore[no-untyped-def]
            yield Delta("x = 1")  # some text, then the engine reports this request failed
            raise GenerationError("the model failed while writing: RuntimeError: boom")

    session = Session(Failing(), kernel, run_timeout=10)
    turn = finish(session.add_turn("Set x.", GREEDY))
    assert (turn.status, turn.code) == ("not-run", "x = 1") and "boom" in turn.message
    assert turn.outputs == ()  # nothing ran
