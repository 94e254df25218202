"""The paper's prompt format and truncation rules, table-tested."""

from __future__ import annotations

import pytest

from codegen_ui.core import (
    PREAMBLE,
    PromptTooLongError,
    fit_prompt,
    instruction_comment,
    is_complete,
    render_prompt,
    truncate,
)

TRUNCATE_CASES = [
    # The reference sampler's own test case.
    ("\nif a:\n    r = 1\nelse:\n    r = 2\n\n\n\n#", "\nif a:\n    r = 1\nelse:\n    r = 2"),
    (
        "\nif len_a > len_b:\n    result = a\nelse:\n    result = b\n\n\n\n#",
        "\nif len_a > len_b:\n    result = a\nelse:\n    result = b",
    ),
    # A second top-level print ends the turn; the first stays.
    ("x = 1\nprint(x)\nprint(x + 1)\n", "x = 1\nprint(x)\n"),
    # A second top-level def ends the turn.
    ("def f():\n    return 1\ndef g():\n    return 2\n", "def f():\n    return 1\n"),
    # Indented prints and defs do not count.
    (
        "def f():\n    print(1)\n    print(2)\n    def g(): pass\n",
        "def f():\n    print(1)\n    print(2)\n    def g(): pass\n",
    ),
    # A top-level comment ends it; an indented one does not.
    ("x = 1\n    # inner\n# next turn\ny = 2", "x = 1\n    # inner\n"),
    # End-of-text marker and docstring quotes at line start.
    ("x = 1\n<|endoftext|>junk", "x = 1\n"),
    ("x = 1\n'''doc'''", "x = 1\n"),
    ('x = 1\n"""doc"""', "x = 1\n"),
    # A completion that starts with a comment is empty code (the known edge).
    ("# another comment\nx = 1", ""),
    # Nothing to cut.
    ("x = 1\ny = 2", "x = 1\ny = 2"),
    # print rule applies before the terminal rule: cut at 2nd print, then at '\n\n\n'.
    ("a = 1\n\n\n\nprint(a)\nprint(a)", "a = 1"),
    # def rule applies after print rule.
    ("def f(): pass\nprint(1)\ndef g(): pass\nprint(2)", "def f(): pass\nprint(1)\n"),
]


@pytest.mark.parametrize(("completion", "expected"), TRUNCATE_CASES)
def test_truncate_matches_reference(completion: str, expected: str) -> None:
    assert truncate(completion) == expected


@pytest.mark.parametrize(("completion", "expected"), TRUNCATE_CASES)
def test_is_complete_exactly_when_something_was_cut(completion: str, expected: str) -> None:
    assert is_complete(completion) == (completion != expected)


def test_is_complete_is_stable_as_text_grows() -> None:
    text = "x = 1\nprint(x)\nprint(y)\nz = 3\n\n\n# more"
    cut_points = [truncate(text[:n]) for n in range(len(text) + 1) if is_complete(text[:n])]
    assert cut_points and set(cut_points) == {"x = 1\nprint(x)\n"}


def test_instruction_comment() -> None:
    assert instruction_comment("Add two numbers.") == "# Add two numbers.\n"
    assert instruction_comment("line one\n\nline two\n") == "# line one\n#\n# line two\n"
    assert instruction_comment("one\r\ntwo") == "# one\n# two\n"
    # U+2028 is no line break to Python: it stays inside the comment, as in the paper's format.
    assert instruction_comment("a\u2028b") == "# a\u2028b\n"


# MTPB problem 3 ("Convert time"), test case 1, with a fixed completion per turn.
MTPB_3_PROMPTS = [
    "Write a function that takes an integer minutes and converts it to seconds.",
    "Write a function that takes an integer hours and converts it to seconds.",
    "Print the total seconds of 2 hours and 13 minutes.",
]
MTPB_3_COMPLETIONS = [
    "def minutes_to_seconds(minutes):\n    return minutes * 60\n\n\n\n# extra",
    "def hours_to_seconds(hours):\n    return hours * 3600\ndef other():\n    pass",
    "print(hours_to_seconds(2) + minutes_to_seconds(13))\nprint('again')",
]
MTPB_3_HISTORY = (
    "# Import libraries.\n\nimport numpy as np\n\n"
    "# Write a function that takes an integer minutes and converts it to seconds.\n"
    "def minutes_to_seconds(minutes):\n    return minutes * 60\n\n"
    "# Write a function that takes an integer hours and converts it to seconds.\n"
    "def hours_to_seconds(hours):\n    return hours * 3600\n\n\n"
    "# Print the total seconds of 2 hours and 13 minutes.\n"
    "print(hours_to_seconds(2) + minutes_to_seconds(13))\n\n\n"
)


def test_history_of_mtpb_problem_3_is_the_papers() -> None:
    # The reference loop: history += wrap(prompt); history += truncate(c) + "\n\n".
    history: list[tuple[str, str]] = []
    for prompt, completion in zip(MTPB_3_PROMPTS, MTPB_3_COMPLETIONS, strict=True):
        assert render_prompt(history, prompt).endswith(f"# {prompt}\n")
        history.append((prompt, truncate(completion)))
    final = render_prompt(history, "next")
    assert final == MTPB_3_HISTORY + "# next\n"


def test_mtpb_file_prompts_render_with_format(mtpb_path) -> None:  # type: ignore[no-untyped-def]
    import json

    problems = {p["id"]: p for p in map(json.loads, mtpb_path.read_text().splitlines())}
    problem = problems["3"]
    filled = [p.format(**problem["inputs"][0]) for p in problem["prompts"]]
    assert filled == MTPB_3_PROMPTS


def words(text: str) -> int:
    return len(text.split())


def test_fit_prompt_keeps_everything_when_it_fits() -> None:
    history = [("a", "x = 1"), ("b", "y = 2")]
    fitted = fit_prompt(history, "c", words, context=100, max_new_tokens=10)
    assert fitted.text == render_prompt(history, "c")
    assert fitted.trimmed == 0 and fitted.tokens == words(fitted.text)


def test_fit_prompt_drops_oldest_whole_turns() -> None:
    history = [("first", "a = 1 " * 10), ("second", "b = 2"), ("third", "c = 3")]
    full = words(render_prompt(history, "now"))
    fitted = fit_prompt(history, "now", words, context=full + 5 - 1, max_new_tokens=5)
    assert fitted.trimmed == 1
    assert fitted.text == PREAMBLE + "# second\nb = 2\n\n# third\nc = 3\n\n# now\n"
    assert fitted.tokens <= fitted.budget


def test_fit_prompt_raises_when_instruction_alone_is_too_long() -> None:
    with pytest.raises(PromptTooLongError, match="only 2 fit"):
        fit_prompt([("a", "b")], "a very long instruction indeed", words, 12, 10)
