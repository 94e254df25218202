"""Completing the user's own code: the prompt exactly (table-tested), the paper's cut applied to
the continuation alone, and the session operation (streams into the cell after the user's code,
keeps it byte for byte, runs, undoes). Scripted model, stand-in kernel."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from codegen_ui.core import (
    NOTHING_ADDED,
    PREAMBLE,
    Event,
    Finished,
    PromptTooLongError,
    SamplingParams,
    Session,
    Turn,
    completed_code,
    completion_prompt,
    finish,
    fit_completion,
    render_prompt,
)
from tests.fakes import EchoKernel, ScriptedModel

GREEDY = SamplingParams(max_new_tokens=32)
ADD = 'def add(a, b):\n    """Return the sum of a and b."""\n'

PROMPT_CASES = [
    # No history, an instruction: the preamble, its comment, the code; no comment after it.
    ([], "My own code.", ADD, PREAMBLE + "# My own code.\n" + ADD),
    # A cell without an instruction: no comment at all (not even a bare `#`).
    ([], "", "x = [1, 2", PREAMBLE + "x = [1, 2"),
    ([], "  \n", "x = [1, 2", PREAMBLE + "x = [1, 2"),
    # The history is the turns before the cell, each comment, code and blank line, as always.
    (
        [("Set a.", "a = 1"), ("Set b.", "b = 2")],
        "Loop over them.",
        "for v in (a, b):\n    ",
        PREAMBLE
        + "# Set a.\na = 1\n\n# Set b.\nb = 2\n\n# Loop over them.\nfor v in (a, b):\n    ",
    ),
    # A multi-line instruction is one comment block; the code keeps its trailing whitespace,
    # CRs and odd characters byte for byte.
    ([], "one\n\ntwo", "s = 'a\u2028b'  \r\n", PREAMBLE + "# one\n#\n# two\ns = 'a\u2028b'  \r\n"),
]


@pytest.mark.parametrize(("history", "instruction", "code", "expected"), PROMPT_CASES)
def test_the_completion_prompt_is_exact(
    history: list[tuple[str, str]], instruction: str, code: str, expected: str
) -> None:
    assert completion_prompt(history, instruction, code) == expected
    fitted = fit_completion(history, instruction, code, len, 10_000, 10)
    assert fitted.text == expected and fitted.trimmed == 0


def test_the_completion_prompt_is_the_turn_prompt_with_the_code_in_place_of_nothing() -> None:
    history = [("Set a.", "a = 1")]
    assert completion_prompt(history, "Next.", "") == render_prompt(history, "Next.")
    assert completion_prompt(history, "Next.", "b = ") == render_prompt(history, "Next.") + "b = "


CUT_CASES = [
    # The paper's rules, on the continuation alone: two blank lines end it ...
    (ADD, "    return a + b\n\n\n\nprint(add(1, 2))", ADD + "    return a + b"),
    # ... a top-level comment, the end of text, a second print or def of the continuation.
    ("x = [1, 2", ", 3]\n# next\ny = 2", "x = [1, 2, 3]\n"),
    ("x = [1, 2", ", 3]\n<|endoftext|>junk", "x = [1, 2, 3]\n"),
    (
        "for i in range(3):\n",
        "    print(i)\nprint(1)\nprint(2)",
        "for i in range(3):\n    print(i)\nprint(1)\n",
    ),
    ("", "def f():\n    pass\ndef g():\n    pass", "def f():\n    pass\n"),
    # The user's own prints, defs, comments and blank lines never count (the continuation's
    # one `def` is its first), and are kept whole.
    (
        "print(1)\nprint(2)\n# mine\n\n\n\ndef f():\n",
        "    return 3\ndef g():\n    return 4\n",
        "print(1)\nprint(2)\n# mine\n\n\n\ndef f():\n    return 3\ndef g():\n    return 4\n",
    ),
    # Nothing to cut: all of it stays.
    ("total = 0\nfor n in nums:\n", "    total += n", "total = 0\nfor n in nums:\n    total += n"),
    # A continuation that cuts to nothing, or to blank space, adds nothing.
    (ADD, "# a comment first\n    return a + b", ADD),
    (ADD, "\n\n\n    return a + b", ADD),
    ("x = 1", "\n", "x = 1"),
]


@pytest.mark.parametrize(("prefix", "continuation", "expected"), CUT_CASES)
def test_the_cut_is_the_papers_on_the_continuation_and_the_prefix_is_kept(
    prefix: str, continuation: str, expected: str
) -> None:
    code = completed_code(prefix, continuation)
    assert code == expected and code.startswith(prefix)


def test_fitting_drops_the_oldest_turns_but_never_the_cells_own_code() -> None:
    history = [("first", "a = 1 " * 10), ("second", "b = 2")]

    def words(text: str) -> int:
        return len(text.split())

    full = words(completion_prompt(history, "mine", "def f(x):\n"))
    fitted = fit_completion(history, "mine", "def f(x):\n", words, full + 5 - 1, 5)
    assert fitted.trimmed == 1
    assert fitted.text == PREAMBLE + "# second\nb = 2\n\n# mine\ndef f(x):\n"
    with pytest.raises(PromptTooLongError, match="the code to complete needs"):
        fit_completion([], "", "word " * 50, words, 20, 5)


def session_with_code(model: ScriptedModel, code: str = ADD) -> Session:
    model.enqueue("a = 1\n\n\n")
    session = Session(model, EchoKernel(), run_preamble=False)
    finish(session.add_turn("Set a.", GREEDY))
    index = session.add_code_cell("Add two numbers.")
    session.set_code(index, code)
    return session


def test_complete_prompts_exactly_streams_after_the_prefix_cuts_and_runs(
    scripted: ScriptedModel,
) -> None:
    session = session_with_code(scripted)
    scripted.enqueue("    return a + b\n\n\n\nprint(add(1, 2))\n")
    states = list(session.complete(1, GREEDY))
    prompt = scripted.calls[-1][0]
    assert prompt == PREAMBLE + "# Set a.\na = 1\n\n# Add two numbers.\n" + ADD
    final = states[-1]
    assert final.code == ADD + "    return a + b"
    assert final.completion == "    return a + b\n\n\n\nprint(add(1, 2))\n"  # the raw text kept
    assert final.status == "ok" and final.edited and final.model == "scripted"
    assert final.message == "the model continued your code (1 line); Undo takes it back"
    assert session.kernel.runs[-1] == ADD + "    return a + b"  # type: ignore[attr-defined]
    # Every state on the way keeps the user's code byte for byte and only grows after it.
    streamed = [s.code for s in states if s.status == "generating"]
    assert len(streamed) > 2 and all(code.startswith(ADD) for code in streamed)
    assert [len(c) for c in streamed] == sorted(len(c) for c in streamed)
    # The next turn's prompt holds the completed code as the cell's code.
    assert (
        "# Add two numbers.\n" + ADD + "    return a + b\n\n# next\n"
        in session.prompt_for("next", 32).text
    )


def test_complete_from_the_editor_keeps_the_typed_code_and_undo_takes_back_the_completion(
    scripted: ScriptedModel,
) -> None:
    model = scripted.enqueue("a = 1\n\n\n")
    session = Session(model, EchoKernel(), run_preamble=False)
    finish(session.add_turn("Set a.", GREEDY))
    index = session.add_code_cell("")  # as "+ Code cell" makes it: empty, editor open
    typed = "for i in range(3):\n"
    scripted.enqueue("    print(i)\n\n\n")
    final = finish(session.complete(index, GREEDY, code=typed))
    assert final.code == typed + "    print(i)" and final.status == "ok"
    assert "continued your code (1 line)" in final.message
    assert scripted.calls[-1][0].endswith("# My own code.\n" + typed)
    assert session.undo()
    assert session.turns[index].code == typed  # what was typed, not the model's
    assert session.undo() and session.turns[index].code == ""
    assert session.redo() and session.redo()
    assert session.turns[index].code == typed + "    print(i)"


def test_a_completion_that_adds_nothing_leaves_the_code_and_runs_nothing(
    scripted: ScriptedModel,
) -> None:
    session = session_with_code(scripted)
    runs = len(session.kernel.runs)  # type: ignore[attr-defined]
    scripted.enqueue("# the model went on with a comment\n")
    final = finish(session.complete(1, GREEDY))
    assert final.code == ADD and final.status == "not-run" and final.message == NOTHING_ADDED
    assert len(session.kernel.runs) == runs  # type: ignore[attr-defined]


def test_nothing_to_complete_and_no_such_cell_are_refused_and_change_nothing(
    scripted: ScriptedModel,
) -> None:
    session = session_with_code(scripted)
    before, revision = list(session.turns), session.revision
    with pytest.raises(ValueError, match="no code to complete"):
        finish(session.complete(1, GREEDY, code="  \n"))
    with pytest.raises(ValueError, match="no cell 5"):
        finish(session.complete(4, GREEDY))
    assert session.turns == before and session.revision == revision
    assert len(scripted.calls) == 1  # only the first turn's


class LimitedModel(ScriptedModel):
    """A scripted model that always ends at its token limit, as a real one that never stops."""

    def stream(
        self, prompt: str, params: SamplingParams, cancel: Any = None, prompt_format: str = "paper"
    ) -> Iterator[Event]:
        for event in super().stream(prompt, params, cancel, prompt_format):
            yield (
                dataclasses.replace(event, stop_reason="length")
                if isinstance(event, Finished)
                else event
            )


def test_a_completion_that_reaches_the_token_limit_says_so_and_where_the_users_code_ends() -> None:
    model = LimitedModel()
    session = session_with_code(model)
    raw = "    total = a + b\n    return total"
    model.enqueue(raw)
    final = finish(session.complete(1, SamplingParams(max_new_tokens=4)))
    assert final.code == ADD + raw and final.status == "ok"
    assert final.message == (
        "the model continued your code (2 lines) and used all 4 new tokens: it may be cut "
        "short; Undo takes it back"
    )


def test_stop_while_completing_ends_the_cell_stopped_with_the_prefix_kept(
    scripted: ScriptedModel,
) -> None:
    session = session_with_code(scripted)
    scripted.chunk = 2
    scripted.enqueue("    total = a\n    total += b\n    return total\n")
    states = session.complete(1, GREEDY)
    for state in states:
        if state.status == "generating" and len(state.code) > len(ADD):
            session.cancel.set()
    final: Turn = session.turns[1]
    assert final.status == "cancelled" and final.code.startswith(ADD)
    assert len(final.code) < len(ADD + "    total = a\n    total += b\n    return total\n")
