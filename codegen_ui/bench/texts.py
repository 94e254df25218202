"""The benchmark's stand-in conversations: instructions, and standard-library code as turns.

Shared by the single-user measurements (`work`) and the classroom (`classroom`); pure Python.
"""

from __future__ import annotations

import inspect
import textwrap

INSTRUCTIONS = [
    "Write a function that parses the arguments.",
    "Print the result.",
    "Define a class for the table.",
    "Sort the rows by the second column.",
    "Count the words in the text.",
]


def snippets() -> list[str]:
    """Function-sized chunks of standard-library code to stand for turns' code."""
    import fractions
    import string

    code = inspect.getsource(fractions) + inspect.getsource(string)
    chunks = [textwrap.dedent(c.strip("\n")) for c in code.split("\n\n")]
    # Turns in MTPB are a few lines of code long: keep up to 8 lines of code-like chunks.
    starts = ("def ", "class ", "if ", "for ", "return ", "self.")
    return ["\n".join(c.splitlines()[:8]) for c in chunks if c.startswith(starts)]
