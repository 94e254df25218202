"""Fix and auto-fix: the error summary and fix prompt (table-tested), then sessions where the
scripted model writes and a real kernel runs: a fix replaces the failed code and runs it, Undo
brings it back, auto-fix stops at its bound, on Stop and at code already tried."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from codegen_ui.core import (
    PREAMBLE,
    ErrorSummary,
    SamplingParams,
    Session,
    Turn,
    TurnError,
    error_summary,
    finish,
    fix_text,
    render_prompt,
    summarize_error,
)
from codegen_ui.core.feedback import SUMMARY_CHARS, TAIL_LINES, fit_fix
from tests.fakes import ScriptedModel

GREEDY = SamplingParams(max_new_tokens=64)

# What IPython 9 sends for `print(X+1)` and for `def f(n)` (colours included).
NAME_TB = [
    "\x1b[31m---------------------------------------------------------------------------\x1b[39m",
    "\x1b[31mNameError\x1b[39m                                 Traceback (most recent call last)",
    "\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[1]\x1b[39m\x1b[32m, line 1\x1b[39m\n"
    "\x1b[32m----> \x1b[39m\x1b[32m1\x1b[39m print(X+\x1b[32m1\x1b[39m)\n",
    "\x1b[31mNameError\x1b[39m: name 'X' is not defined",
]
SYNTAX_TB = [
    "  \x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[2]\x1b[39m\x1b[32m, line 1\x1b[39m\n"
    "\x1b[31m    \x1b[39m\x1b[31mdef f(n)\x1b[39m\n            ^\n"
    "\x1b[31mSyntaxError\x1b[39m\x1b[31m:\x1b[39m expected ':'\n"
]


@pytest.mark.parametrize(
    ("ename", "evalue", "traceback", "line", "tail"),
    [
        (
            "NameError",
            "name 'X' is not defined",
            NAME_TB,
            "NameError: name 'X' is not defined",
            ("NameError                                 Traceback (most recent call last)",
             "Cell In[1], line 1", "----> 1 print(X+1)"),
        ),
        (
            "SyntaxError",
            "expected ':' (1265993938.py, line 1)",
            SYNTAX_TB,
            "SyntaxError: expected ':' (line 1)",
            ("  Cell In[2], line 1", "    def f(n)", "            ^"),
        ),
        ("ValueError", "", [], "ValueError", ()),
        ("KeyError", "'a\nb'", [], "KeyError: 'a b'", ()),
    ],
)  # fmt: skip
def test_the_summary_is_the_exception_line_and_the_tracebacks_last_lines(
    ename: str, evalue: str, traceback: list[str], line: str, tail: tuple[str, ...]
) -> None:
    summary = summarize_error(ename, evalue, traceback)
    assert summary.line == line
    assert summary.tail == tail
    assert "\x1b" not in summary.text()


def test_the_summary_is_capped_in_lines_and_characters() -> None:
    frames = [f"  File line {i}: " + "x" * 500 for i in range(40)]
    summary = summarize_error("RecursionError", "deep " * 1000, frames)
    assert len(summary.tail) <= TAIL_LINES
    assert len(summary.text()) <= SUMMARY_CHARS
    assert summary.tail[-1].startswith("  File line 39")  # the newest lines are kept
    assert all(len(line) <= 200 for line in summary.tail)


def test_only_an_error_a_fix_could_mend_is_summarised() -> None:
    def error(ename: str) -> dict[str, object]:
        return {"output_type": "error", "ename": ename, "evalue": "v", "traceback": []}

    stream = {"output_type": "stream", "name": "stdout", "text": "hi"}
    assert error_summary([stream]) is None
    assert error_summary([stream, error("KeyboardInterrupt")]) is None  # Stop, or a deadline
    summary = error_summary([error("TypeError"), stream])
    assert summary == ErrorSummary("TypeError", "v")


NAME_X = ErrorSummary("NameError", "name 'X' is not defined")
ZERO = ErrorSummary("ZeroDivisionError", "division by zero.")


@pytest.mark.parametrize(
    ("instruction", "code", "summary", "text"),
    [
        (  # one line of code: quoted in a comment, then the cell's comment again
            "Print x plus one.", "print(X + 1)\n", NAME_X,
            "# The code `print(X + 1)` raised NameError: name 'X' is not defined.\n"
            "# Print x plus one.\n",
        ),
        (  # no instruction (the user's own code): a comment to write after all the same
            "", "1/0", ZERO,
            "# The code `1/0` raised ZeroDivisionError: division by zero.\n"
            "# Rewrite it so that it works.\n",
        ),
        (  # longer code stands as it was, the comment block after it, the comment again
            "Print x.", "y = 1\nprint(X)\n", NAME_X,
            "# Print x.\ny = 1\nprint(X)\n\n"
            "# The code above raised NameError: name 'X' is not defined.\n"
            "# Rewrite it so that it works.\n# Print x.\n",
        ),
        (  # a backquote cannot be quoted in backquotes: the code stands as it was
            "", "x = `1`", ErrorSummary("SyntaxError", "invalid syntax"),
            "x = `1`\n\n# The code above raised SyntaxError: invalid syntax.\n"
            "# Rewrite it so that it works.\n",
        ),
    ],
)  # fmt: skip
def test_the_fix_text_says_what_the_code_raised_then_reopens_the_cell(
    instruction: str, code: str, summary: ErrorSummary, text: str
) -> None:
    assert fix_text(instruction, code, summary) == text


def test_the_fix_prompt_drops_the_oldest_turns_to_fit_and_keeps_the_error() -> None:
    history = [(f"Step {i}.", f"x{i} = {i}") for i in range(50)]
    summary = ErrorSummary("NameError", "name 'y' is not defined")
    fitted = fit_fix(history, "Print y.", "print(y)", summary, lambda t: len(t.split()), 120, 40)
    assert fitted.trimmed > 0 and fitted.tokens <= 80
    assert fitted.text.startswith(PREAMBLE)
    assert fitted.text.endswith("# The code `print(y)` raised NameError: name 'y' is not "
                                "defined.\n# Print y.\n")  # fmt: skip


# ---- sessions: the scripted model writes, a real kernel runs --------------------------------


@pytest.fixture
def session(scripted: ScriptedModel, kernel) -> Session:  # type: ignore[no-untyped-def]
    return Session(scripted, kernel, run_timeout=10)


def failed_turn(session: Session, scripted: ScriptedModel) -> Turn:
    scripted.enqueue("x = 41\n\n", "print(X + 1)\n\n")
    finish(session.add_turn("Set x to 41.", GREEDY))
    turn = finish(session.add_turn("Print x plus one.", GREEDY))
    assert turn.status == "error" and turn.code == "print(X + 1)\n\n"
    return turn


def stdout(turn: Turn) -> str:
    return "".join(o.get("text", "") for o in turn.outputs if o["output_type"] == "stream")


def test_a_fix_replaces_the_failed_code_runs_it_and_undo_brings_it_back(
    session: Session, scripted: ScriptedModel
) -> None:
    failed_turn(session, scripted)
    scripted.enqueue("print(x + 1)\n\n")
    fixed = finish(session.fix(1, GREEDY))
    prompt = scripted.calls[-1][0]
    assert prompt == (
        render_prompt([("Set x to 41.", "x = 41\n\n")], "").removesuffix("#\n")
        + "# The code `print(X + 1)` raised NameError: name 'X' is not defined.\n"
        "# Print x plus one.\n"
    )
    assert fixed.status == "ok" and stdout(fixed) == "42\n"
    assert fixed.code == "print(x + 1)\n\n" and fixed.fixes == 1
    assert fixed.message == "fixed by the model in 1 try; Undo brings back the failed code"
    assert session.turns[1] == fixed  # in place: the same cell, no new one
    # The next turn's prompt holds the final code only, never the failed try.
    scripted.enqueue("y = 2\n\n")
    finish(session.add_turn("Set y to 2.", GREEDY))
    assert "X + 1" not in scripted.calls[-1][0] and "raised" not in scripted.calls[-1][0]
    assert session.undo() and session.undo()
    assert session.turns[1].code == "print(X + 1)\n\n" and session.turns[1].status == "error"
    assert session.turns[1].fixes == 0


def test_a_cell_that_raised_nothing_has_nothing_to_fix(
    session: Session, scripted: ScriptedModel
) -> None:
    scripted.enqueue("x = 1\n\n")
    finish(session.add_turn("Set x to 1.", GREEDY))
    with pytest.raises(TurnError, match="cell 1 raised no error"):
        finish(session.fix(0, GREEDY))
    assert len(scripted.calls) == 1


def test_auto_fix_stops_at_its_bound_and_says_so(session: Session, scripted: ScriptedModel) -> None:
    session.auto_fix = 2
    scripted.enqueue("print(a)\n\n", "print(b)\n\n", "print(c)\n\n", "print('never')\n\n")
    turn = finish(session.add_turn("Print the answer.", GREEDY))
    assert len(scripted.calls) == 3  # the turn, then two tries
    assert turn.code == "print(c)\n\n" and turn.status == "error" and turn.fixes == 2
    said = "still failing after 2 tries to fix it: NameError: name 'c' is not defined"
    assert turn.message == said
    assert "print(b)" in scripted.calls[2][0] and "name 'b' is not defined" in scripted.calls[2][0]
    assert "print(a)" not in scripted.calls[2][0]  # each try sees the latest failure alone
    assert session.undo()  # the failed turn as the model first wrote it
    assert session.turns[0].code == "print(a)\n\n" and session.turns[0].fixes == 0


def test_auto_fix_ends_at_the_first_try_that_runs(
    session: Session, scripted: ScriptedModel
) -> None:
    session.auto_fix = 3
    scripted.enqueue("print(a)\n\n", "a = 5\nprint(a)\n\n", "print('never')\n\n")
    turn = finish(session.add_turn("Print a.", GREEDY))
    assert turn.status == "ok" and stdout(turn) == "5\n" and turn.fixes == 1
    assert len(scripted.calls) == 2


def test_code_already_tried_is_not_run_again(
    session: Session, scripted: ScriptedModel, kernel
) -> None:  # type: ignore[no-untyped-def]
    session.auto_fix = 3
    scripted.enqueue("print(a)\n\n", "print(b)\n", "print(a)  \n\n\n", "print(c)\n\n")
    runs: list[str] = []
    real_run = kernel.run

    def counted(code: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(code)
        return real_run(code, *args, **kwargs)

    kernel.run = counted
    turn = finish(session.add_turn("Print a.", GREEDY))
    assert len(scripted.calls) == 3  # the third text repeats the first: the tries end there
    assert [r for r in runs if r != PREAMBLE] == ["print(a)\n\n", "print(b)\n"]
    assert turn.code == "print(b)\n" and turn.status == "error" and turn.fixes == 2
    assert turn.message.startswith("the model wrote code it had already tried")


def test_stop_ends_the_auto_fix(session: Session, scripted: ScriptedModel) -> None:
    session.auto_fix = 3
    scripted.enqueue("print(a)\n\n", "print(b)\nprint('a long line to stream')\n\n", "1\n\n")
    updates: Iterator[Turn] = session.add_turn("Print a.", GREEDY)
    for turn in updates:
        if turn.fixes == 1 and turn.status == "generating" and turn.completion:
            session.cancel.set()  # Stop, pressed while the first try is being written
    final = session.turns[0]
    assert len(scripted.calls) == 2
    assert final.status == "cancelled" and final.fixes == 1


def test_in_chat_the_error_is_the_next_user_message_capped_and_roles_alternate(
    kernel,  # type: ignore[no-untyped-def]
) -> None:
    import re

    chat = ScriptedModel(has_chat_template=True)
    chat.enqueue("x = 41\n```\n", "raise ValueError('v' * 100000)\n```\n", "print(x)\n```\n")
    session = Session(chat, kernel, run_timeout=10, prompt_format="chat", auto_fix=1)
    finish(session.add_turn("Set x to 41.", GREEDY))
    turn = finish(session.add_turn("Print x.", GREEDY))
    assert turn.status == "ok" and turn.fixes == 1 and chat.formats == ["chat"] * 3
    asked = chat.calls[2][0]
    roles = re.findall(r"<\|im_start\|>(\w+)\n", asked)
    assert roles[0] == "system" and roles[-1] == "assistant"
    assert all(a != b for a, b in itertools.pairwise(roles[1:]))  # user, assistant, user, ...
    last_user = asked.rsplit("<|im_start|>user\n", 1)[1].split("<|im_end|>")[0]
    assert last_user.startswith("Running that code failed:\n")
    assert "ValueError: vvv" in last_user and len(last_user) < SUMMARY_CHARS + 100  # capped
    failed = asked.rsplit("<|im_start|>assistant\n", 2)[1]
    assert failed.startswith("```python\nraise ValueError(")  # the failed code, answered
    # Later prompts hold the final code only, never the failed try or its error.
    chat.enqueue("y = 1\n```\n")
    finish(session.add_turn("Set y.", GREEDY))
    assert "raise ValueError" not in chat.calls[3][0] and "print(x)" in chat.calls[3][0]


def test_a_huge_error_is_capped_in_the_fix_prompt(
    session: Session, scripted: ScriptedModel
) -> None:
    scripted.enqueue("raise ValueError('v' * 100000)\n\n", "print(1)\n\n")
    session.auto_fix = 1
    turn = finish(session.add_turn("Raise.", GREEDY))
    assert turn.status == "ok"
    said = scripted.calls[1][0].split(" raised ", 1)[1]
    assert len(said.splitlines()[0]) < SUMMARY_CHARS


def test_the_magics_run_fixes_within_the_auto_fix_bound(capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from codegen_ui.magic.shell import Codegen
    from codegen_ui.settings import Settings

    shell = InteractiveShell.instance()
    try:
        scripted = ScriptedModel().enqueue("print(b)\n\n", "print(a)\n", "b = 3\nprint(b)\n")
        magic = Codegen(shell, Settings(auto_fix=2))
        ran = magic.run(scripted, "Print b.", "print(a)\n", GREEDY)
        # The first try raised; the second repeats the cell's own code: not run, stopped.
        assert ran == "print(b)\n\n" and len(scripted.calls) == 2
        assert "NameError: name 'a' is not defined" in scripted.calls[0][0]
        assert "(fix 2: the model wrote no new code; stopped)" in capsys.readouterr().out
        scripted.enqueue("b = 3\nprint(b)\n")
        assert magic.run(scripted, "Print b.", "print(c)\n", GREEDY) == "b = 3\nprint(b)\n"
        assert shell.user_ns["b"] == 3
        assert len(scripted.calls) == 3  # ran at the first try: no more asked
    finally:
        InteractiveShell.clear_instance()
