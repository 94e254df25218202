"""Classroom-ready multi-turn examples: a title and the instructions, one per turn, in order.

Each is small enough for the 350M model to get mostly right, and shows one idea of the
conversational paradigm: later turns refer to names defined by earlier ones. An example may
come with data files (`EXAMPLE_FILES`, shipped in `example_data/`): loading it puts them into
the session's Files, as an upload would.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "example_data"  # small files made for the examples

EXAMPLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Sum of squares",
        (
            "Define a list named numbers with the integers from 1 to 10.",
            "Compute the square of each element of numbers and store them in a list squares.",
            "Print the sum of squares.",
        ),
    ),
    (
        "Plot a sine wave",
        (
            "Import matplotlib.pyplot as plt.",
            "Create an array x of 100 evenly spaced numbers from 0 to 2 pi with numpy.",
            "Compute y as the sine of x.",
            "Plot y against x with plt and show the plot.",
        ),
    ),
    (
        "A table of marks",
        (
            "Import pandas as pd.",
            "Create a DataFrame df with a column name for Ann, Bob, Cy and Dee and a column "
            "mark with 72, 58, 91 and 66.",
            "Compute the mean of the mark column and store it in average.",
            "Show the rows of df whose mark is above average.",
        ),
    ),
    (
        "Sales by month (with sales.csv)",
        (
            "Import pandas as pd and matplotlib.pyplot as plt.",
            "Load sales.csv into a DataFrame df, parsing the date column as dates.",
            "Add a column revenue to df equal to units times price.",
            "Compute the total revenue of each month in a Series monthly.",
            "Plot monthly as a bar chart and show it.",
        ),
    ),
    (
        "Counting words",
        (
            'Define a string text = "the cat and the dog and the bird".',
            "Split text into a list of words.",
            "Count how many times each word occurs, in a dictionary counts.",
            "Print the word that occurs most often.",
        ),
    ),
)

# The data files an example needs, by its title.
EXAMPLE_FILES: dict[str, tuple[Path, ...]] = {
    "Sales by month (with sales.csv)": (DATA / "sales.csv",),
}
