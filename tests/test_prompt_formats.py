"""The prompt-format seam, pure: chat messages, the chat answer cut to code, the stop rule,
fitting by whole turns, the paper format byte for byte through the seam, and a session in chat
with the scripted model."""

from __future__ import annotations

import pytest

from codegen_ui.core import (
    SYSTEM,
    Ask,
    ChatMessage,
    Fix,
    FormatError,
    PromptTooLongError,
    SamplingParams,
    Session,
    chat_code,
    chat_messages,
    cut,
    fit,
    fit_continuation,
    fit_prompt,
    fold_system,
    is_complete,
    resolve_format,
    turn_complete,
)
from codegen_ui.core.chat import EXAMPLES, FENCE, FIX_REQUEST, chat_continuation, is_prose
from codegen_ui.core.turns import finish
from tests.fakes import EchoKernel, ScriptedModel

GREEDY = SamplingParams(max_new_tokens=16)
HISTORY = [("Set x to 2.", "x = 2"), ("Print x.", "print(x)")]


def test_messages_alternate_with_each_turn_fenced() -> None:
    messages = chat_messages(HISTORY, "Double x.", examples=())
    assert [m.role for m in messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert messages[0].content == SYSTEM
    assert messages[2].content == "```python\nx = 2\n```"
    assert messages[-1] == ChatMessage("user", "Double x.")


def test_context_leads_the_request_and_a_fix_follows_the_failed_answer() -> None:
    messages = chat_messages(
        HISTORY, "Double x.", context="x is 2", fix=("x = x *", "SyntaxError"), examples=()
    )
    assert messages[5] == ChatMessage("user", "x is 2\n\nDouble x.")
    assert messages[6] == ChatMessage("assistant", "```python\nx = x *\n```")
    assert messages[7] == ChatMessage("user", FIX_REQUEST.format(error="SyntaxError"))
    assert [m.role for m in messages[1:]] == ["user", "assistant"] * 3 + ["user"]


def test_the_system_message_folds_into_the_first_user_message() -> None:
    folded = fold_system(chat_messages(HISTORY, "Double x.", examples=()))
    assert folded[0] == ChatMessage("user", f"{SYSTEM}\n\nSet x to 2.")
    assert [m.role for m in folded] == ["user", "assistant"] * 2 + ["user"]
    assert fold_system(chat_messages([], "a", system="", examples=())) == (
        ChatMessage("user", "a"),
    )


def test_the_worked_examples_follow_the_system_message_as_earlier_turns() -> None:
    messages = chat_messages(HISTORY, "Double x.")
    assert [m.content for m in messages[1:7:2]] == [asked for asked, _ in EXAMPLES]
    assert messages[2].content == f"```python\n{EXAMPLES[0][1]}\n```"
    assert messages[7].content == "Set x to 2."


# (the model's answer after the prefilled fence, the code the kernel gets)
CUTS = [
    ("x = 1\n```\n", "x = 1"),  # the closing fence
    ("x = 1\n```<|im_end|>", "x = 1"),
    ("x = 1\nprint(x)", "x = 1\nprint(x)"),  # unclosed: the end of the text
    ("x = 1\n\n\n```\n\nThis sets x.", "x = 1"),
    ("```python\nx = 1\n```", "x = 1"),  # the fence written again
    ("Here is the code:\n```python\nx = 1\n```", "x = 1"),  # prose before the code
    ("Sure! Here is the code:\n\nx = 1\n", "x = 1"),  # prose, then code with no fence
    (
        "x = [1, 2]\nprint(len(x))\n\nIn this code, we first make a list.",
        "x = [1, 2]\nprint(len(x))",
    ),
    ("def f(a):\n    return a\n\nThis function returns its argument.\n", "def f(a):\n    return a"),
    ('s = """\nThe cat sat on the mat.\n"""\n```', 's = """\nThe cat sat on the mat.\n"""'),
    ("- a list item of prose\n", ""),  # prose alone: no code
    ("x = 1\n1. First we set x.\n", "x = 1"),  # a Markdown list after code
    (
        "import numpy as np\nfrom math import sqrt as root",
        "import numpy as np\nfrom math import sqrt as root",
    ),
    ("", ""),
    # An answer that ran out of tokens in a second def: the first def runs.
    (
        "def f(a):\n    return a\n\ndef g(b):\n    total = [b,\n",
        "def f(a):\n    return a",
    ),
    ("x = [1,\n", ""),  # ran out in its first statement: nothing that could run
    ('s = "abc\n', ""),
    ("x = 1\nx = f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12", "x = 1"),  # a line that ran on
    ("def f():\n    return 1\n\ndef f():\n    return 2\n", "def f():\n    return 1"),
    ("x = 1\nprint(x)\nprint(x)\nprint(x)\n", "x = 1\nprint(x)"),  # repeating itself
    ("x = 1\nprint(x)\nx = x + 1\nprint(x)", "x = 1\nprint(x)\nx = x + 1\nprint(x)"),
    ("if x:\n    y = 1\nelse:\n    y = 1\n", "if x:\n    y = 1\nelse:\n    y = 1"),
]


@pytest.mark.parametrize(("answer", "code"), CUTS)
def test_chat_cut(answer: str, code: str) -> None:
    assert chat_code(answer) == code
    assert cut("chat", answer) == code


@pytest.mark.parametrize(
    ("answer", "complete"),
    [
        ("x = 1\n``", False),  # a fence being written is not yet one
        ("x = 1\n```", False),  # its line may still go on
        ("x = 1\n```\n", True),
        ("Here is the code:\n", False),  # prose before any code: the code is still to come
        ("x = 1\nThis sets x", False),  # the prose line is not whole yet
        ("x = 1\nThis sets x.\n", True),
        ('s = """\nThe cat sat on the mat.\n', False),  # inside a string: not prose
        ("def f():\n    return 1\ndef f():\n", True),  # a name defined again
        ("print(x)\nprint(x)\n", False),  # the second block may go on
        ("print(x)\nprint(x)\ny = 1\n", True),
    ],
)
def test_chat_stop_rule(answer: str, complete: bool) -> None:
    assert turn_complete("chat", answer) is complete


def test_the_stop_rule_is_final_on_every_prefix() -> None:
    """Once the rule says complete, more text never changes the cut code."""
    for answer, _code in CUTS:
        for end in range(len(answer) + 1):
            head = answer[:end]
            if turn_complete("chat", head):
                assert chat_code(head) == chat_code(answer), (head, answer)
                break


def test_paper_through_the_seam_is_the_paper_prompt_byte_for_byte() -> None:
    count = len
    fitted = fit("paper", HISTORY, Ask("Double x."), count, 2048, 128)
    assert fitted == fit_prompt(HISTORY, "Double x.", count, 2048, 128)
    assert fitted.prompt_format == "paper"
    assert turn_complete("paper", "x = 1\n\n\n") == is_complete("x = 1\n\n\n")
    context = fit("paper", HISTORY, Ask("Double x.", context="x is 2"), count, 2048, 128).text
    assert context.endswith("print(x)\n\n# x is 2\n# Double x.\n")
    with pytest.raises(FormatError):
        fit("paper", HISTORY, Ask("Double x.", fix=Fix("x =", "SyntaxError")), count, 2048, 128)


def render(messages: tuple[ChatMessage, ...] | list[ChatMessage]) -> str:
    return ScriptedModel(has_chat_template=True).render_chat(messages)


def test_chat_fits_by_dropping_whole_oldest_turns_and_keeps_the_system_message() -> None:
    words = len(render(chat_messages(HISTORY, "Double x.")).split()) + 1  # "```python" counts
    fitted = fit(
        "chat", HISTORY, Ask("Double x."), lambda t: len(t.split()), words + 10, 10, render=render
    )
    assert fitted.trimmed == 0 and fitted.prompt_format == "chat"
    assert fitted.text.endswith("<|im_start|>assistant\n" + FENCE)
    tight = fit(
        "chat", HISTORY, Ask("Double x."), lambda t: len(t.split()), words + 8, 10, render=render
    )
    assert tight.trimmed == 1 and SYSTEM in tight.text and "Set x to 2." not in tight.text
    with pytest.raises(PromptTooLongError):
        fit("chat", HISTORY, Ask("Double x."), lambda t: len(t.split()), 20, 10, render=render)
    with pytest.raises(FormatError):
        fit("chat", HISTORY, Ask("Double x."), len, 2048, 10)  # no template to render with


def test_a_chat_prompt_grows_by_appending_the_answer() -> None:
    first = fit("chat", HISTORY[:1], Ask("Print x."), len, 4096, 10, render=render).text
    second = fit("chat", HISTORY, Ask("Double x."), len, 4096, 10, render=render).text
    assert second.startswith(first + "print(x)\n```")


def test_a_continuation_keeps_the_users_code_and_cuts_what_follows() -> None:
    fitted = fit_continuation("chat", HISTORY, "Double x.", "y = x", len, 4096, 10, render=render)
    assert fitted.text.endswith(FENCE + "y = x")
    assert chat_continuation("y = x", " * 2\nprint(y)\n```\nDone.") == "y = x * 2\nprint(y)"
    assert chat_continuation("y = x", "\n```") == "y = x"
    assert chat_continuation("def f():\n", "```\n```python\n") == "def f():\n"  # closed at once
    assert chat_continuation("def f():\n", "    return 1\n```") == "def f():\n    return 1"


@pytest.mark.parametrize(
    ("setting", "has_template", "chosen"),
    [
        ("auto", True, "chat"),
        ("auto", False, "paper"),
        ("paper", True, "paper"),
        ("chat", True, "chat"),
    ],
)
def test_which_format(setting: str, has_template: bool, chosen: str) -> None:
    assert resolve_format(setting, has_template) == chosen


def test_chat_without_a_template_is_refused_in_words() -> None:
    with pytest.raises(FormatError, match="chat template"):
        resolve_format("chat", False)


@pytest.mark.parametrize(
    ("line", "prose"),
    [
        ("In this code, we first import math.", True),
        ("This prints x.", True),
        ("import numpy as np", False),
        ("print(x)", False),
        ("for item in items:", False),
        ("x = a if b else c", False),
        ("    This is indented.", False),
        ("# a comment line here", False),
    ],
)
def test_prose_lines(line: str, prose: bool) -> None:
    assert is_prose(line) is prose


def test_a_chat_session_streams_only_code_and_the_model_is_told_the_format() -> None:
    model = ScriptedModel(has_chat_template=True, system_role=False).enqueue(
        "x = 2\n```\n", "Sure:\n```python\nprint(x)\n```\nThis prints x."
    )
    kernel = EchoKernel()
    session = Session(model, kernel)
    assert session.prompt_format == "chat"
    seen = [t.code for t in session.add_turn("Set x to 2.", GREEDY)]
    assert all("```" not in code and "Sure" not in code for code in seen)
    second = finish(session.add_turn("Print x.", GREEDY))
    assert [t.code for t in session.turns] == ["x = 2", "print(x)"]
    assert second.status == "ok" and model.formats == ["chat", "chat"]
    prompt = model.calls[1][0]
    assert prompt.startswith(f"<|im_start|>user\n{SYSTEM}\n\n{EXAMPLES[0][0]}")  # folded
    assert "<|im_start|>assistant\n```python\nx = 2\n```<|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n```python\n")
    assert session.last_prompt is not None and session.last_prompt.prompt_format == "chat"


def test_paper_is_kept_where_the_setting_says_so() -> None:
    model = ScriptedModel(has_chat_template=True).enqueue("x = 2\n\n\n")
    session = Session(model, EchoKernel(), prompt_format="paper")
    finish(session.add_turn("Set x to 2.", GREEDY))
    assert model.formats == ["paper"] and model.calls[0][0].endswith("# Set x to 2.\n")


@pytest.mark.parametrize("command", ["run turns.txt", "complete f.py", "serve"])
def test_every_model_command_takes_the_prompt_format(command: str) -> None:
    from codegen_ui.cli.common import settings_from
    from codegen_ui.cli.main import build_parser

    args = build_parser().parse_args([*command.split(), "--prompt-format", "chat"])
    assert args.prompt_format == "chat"
    if command != "serve":
        assert settings_from(args).prompt_format == "chat"


@pytest.mark.parametrize("command", ["mtpb", "humaneval"])
def test_benchmarks_default_to_paper_and_refuse_auto(command: str) -> None:
    from codegen_ui.cli.common import CliError, benchmark_format
    from codegen_ui.cli.main import build_parser

    parser = build_parser()
    assert benchmark_format(parser.parse_args([command])) == "paper"
    assert benchmark_format(parser.parse_args([command, "--prompt-format", "chat"])) == "chat"
    with pytest.raises(CliError, match="one prompt format"):
        benchmark_format(parser.parse_args([command, "--prompt-format", "auto"]))


@pytest.mark.parametrize(
    ("printed", "expected", "ok"),
    [
        ("3", "3", True),
        ("The count is 3.", "3", True),
        ("24.333333333333332", "24.33", True),
        ("[1, 2]\n5", "3", False),
        ("First name: Adam", "Adam", True),
        ("'HELLO WORLD'", "HELLO WORLD", True),
        ("Adamant", "Adam", False),
        ("", "3", False),
    ],
)
def test_how_a_notebook_session_is_judged(printed: str, expected: str, ok: bool) -> None:
    from tests.notebook_sessions import answered

    assert answered(printed, expected) is ok
