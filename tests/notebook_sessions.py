"""Simple notebook sessions: three or four plain turns each, judged by the last output.

The app's everyday use: build a value, change it, print something about it. A session passes
when its last cell's printed text ends with the expected answer (`answered`: the last line's
last number within 0.01, or its end, quotes and a full stop aside, as in "The count is 3").
`TUNING` is the set the chat prompt was shaped on: its first six sessions, then round one's
and round two's held-out sevens, which were seen while measuring. `HELD_OUT` is round
three's: written and committed before any tuning run of that round, and never tuned on.
`scripts/notebook_sessions.py` runs both sets in both prompt formats with a real kernel (a
figure for the docs: the model's words matter, so not a test); `test_prompt_formats.py`
tests how a session is judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NotebookSession:
    name: str
    turns: tuple[str, ...]
    expected: str  # the last cell's printed answer


TUNING = (
    NotebookSession(
        "prices",
        (
            "Make a list of prices: 3, 12, 7.5, 20 and 9.",
            "Keep only the prices under 10.",
            "Print how many prices are left.",
        ),
        "3",
    ),
    NotebookSession(
        "surname",
        ("Set name to 'Ada Lovelace'.", "Split name into words.", "Print the last word."),
        "Lovelace",
    ),
    NotebookSession(
        "oldest",
        (
            "Create a dictionary ages with Tom 31, Ann 25 and Bob 40.",
            "Find the name of the oldest person.",
            "Print that name.",
        ),
        "Bob",
    ),
    NotebookSession(
        "squares",
        (
            "Make a list of the numbers from 1 to 10.",
            "Square each number.",
            "Print the sum of the squares.",
        ),
        "385",
    ),
    NotebookSession(
        "words",
        (
            "Set text to 'the cat sat on the mat'.",
            "Count how many times each word appears in text.",
            "Print the count for the word 'the'.",
        ),
        "2",
    ),
    NotebookSession(
        "fahrenheit",
        (
            "Define a function celsius_to_fahrenheit(c).",
            "Convert 100 degrees Celsius with it.",
            "Print the result.",
        ),
        "212",
    ),
    # The first held-out set (round one); seen since, so tuning data now.
    NotebookSession(
        "warm days",
        (
            "Make a list temperatures with 12, 18, 25, 30 and 7.",
            "Keep only the temperatures above 15.",
            "Print the average of those.",
        ),
        "24.33",
    ),
    NotebookSession(
        "letters",
        ("Set word to 'banana'.", "Count the letter a in word.", "Print the count."),
        "3",
    ),
    NotebookSession(
        "first name",
        (
            "Create a list of names: Zoe, Adam and Mia.",
            "Sort the names alphabetically.",
            "Print the first name.",
        ),
        "Adam",
    ),
    NotebookSession(
        "discount",
        ("Set price to 80.", "Take 25 percent off the price.", "Print the new price."),
        "60",
    ),
    NotebookSession(
        "evens",
        ("Make a list of the even numbers from 2 to 20.", "Print how many there are."),
        "10",
    ),
    NotebookSession(
        "stock",
        (
            "Create a dictionary stock with apples 5, pears 0 and plums 12.",
            "Remove the items that have 0 in stock.",
            "Print the number of items left.",
        ),
        "2",
    ),
    NotebookSession(
        "shout",
        ("Set s to 'hello world'.", "Make s upper case.", "Print s."),
        "HELLO WORLD",
    ),
    # Round two's held-out set; measured in round two, tuned on since.
    NotebookSession(
        "scores",
        (
            "Make a list scores with 70, 85, 90 and 55.",
            "Add 5 to every score.",
            "Print the highest score.",
        ),
        "95",
    ),
    NotebookSession(
        "vowels",
        (
            "Set sentence to 'programming is fun'.",
            "Count the vowels in sentence.",
            "Print the count.",
        ),
        "5",
    ),
    NotebookSession(
        "cart",
        (
            "Create a dictionary cart with bread 2.5, milk 1.2 and eggs 3.",
            "Add cheese at 4.3 to cart.",
            "Compute the total of the prices in cart.",
            "Print the total.",
        ),
        "11",
    ),
    NotebookSession(
        "countdown",
        (
            "Make a list of the numbers from 10 down to 1.",
            "Keep only the odd numbers.",
            "Print the first number.",
        ),
        "9",
    ),
    NotebookSession(
        "reverse",
        ("Set word to 'python'.", "Reverse word.", "Print word."),
        "nohtyp",
    ),
    NotebookSession(
        "longest",
        (
            "Create a list of words: apple, fig, banana and kiwi.",
            "Find the longest word.",
            "Print it.",
        ),
        "banana",
    ),
    NotebookSession(
        "rectangle",
        (
            "Set width to 6 and height to 4.",
            "Compute the area of the rectangle.",
            "Double the area.",
            "Print the area.",
        ),
        "48",
    ),
)


HELD_OUT = (
    NotebookSession(
        "adults",
        (
            "Make a list ages with 12, 45, 33, 8 and 60.",
            "Keep only the ages of 18 or over.",
            "Print how many are left.",
        ),
        "3",
    ),
    NotebookSession(
        "full name",
        (
            "Set first to 'Grace' and last to 'Hopper'.",
            "Join them into full_name with a space between.",
            "Print full_name.",
        ),
        "Grace Hopper",
    ),
    NotebookSession(
        "total cost",
        (
            "Set quantity to 3 and unit_price to 4.5.",
            "Compute the total cost.",
            "Print the total cost.",
        ),
        "13.5",
    ),
    NotebookSession(
        "cubes",
        (
            "Make a list of the numbers from 1 to 5.",
            "Cube each number.",
            "Print the last number in the list.",
        ),
        "125",
    ),
    NotebookSession(
        "capitals",
        (
            "Create a dictionary capitals with France Paris, Italy Rome and Spain Madrid.",
            "Add Germany with Berlin.",
            "Print how many countries there are.",
        ),
        "4",
    ),
    NotebookSession(
        "lightest",
        (
            "Make a list weights with 5.5, 3.2, 8.1 and 4.0.",
            "Find the smallest weight.",
            "Print it.",
        ),
        "3.2",
    ),
    NotebookSession(
        "title case",
        (
            "Set title to 'the old man and the sea'.",
            "Capitalise each word of title.",
            "Print title.",
        ),
        "The Old Man And The Sea",
    ),
)


def printed(outputs: tuple[dict[str, object], ...]) -> str:
    """The text a cell printed (stdout streams and plain-text results), stripped."""
    parts: list[str] = []
    for out in outputs:
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            parts.append(str(out.get("text", "")))
        elif out.get("output_type") == "execute_result":
            data = out.get("data") or {}
            parts.append(str(data.get("text/plain", "")) if isinstance(data, dict) else "")
    return "".join(parts).strip()


def answered(text: str, expected: str) -> bool:
    """Whether the printed text's last line ends with the expected answer: its last number
    within 0.01 of an expected number, else its last words (quotes and a full stop aside)."""
    last = text.strip().splitlines()[-1].strip() if text.strip() else ""
    try:
        wanted = float(expected)
    except ValueError:
        tail = last.rstrip(".").strip("'\"[]")
        return tail == expected or tail.endswith((f" {expected}", f":{expected}"))
    numbers = re.findall(r"-?\d+(?:\.\d+)?", last)
    return bool(numbers) and abs(float(numbers[-1]) - wanted) < 0.01
