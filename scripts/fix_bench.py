"""Simple notebook sessions with a real model, with auto-fix and the kernel's state on and off.

`python scripts/fix_bench.py MODEL [--fix 0 1 2] [--state off|on|both] [--prompt-format chat]`
runs each session of `SESSIONS` (two or three short turns) and of `tests/notebook_sessions.py`
(the prompting issue's tuning and held-out sets, three or four turns), greedy, in a real kernel
with `sales.csv` in its folder, once per configuration, and prints per configuration: the
sessions whose last cell printed the expected answer (`answered`, as notebook_sessions judges),
turns that ended in an error, fix tries made, and the tokens and seconds the model spent per
turn (every generation, fix tries included). MODEL may be a model server's `/v1` URL (with
`--tokenizer`). Figures for docs/guide/fix.md; nothing here is a test.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from codegen_ui.core import Finished, SamplingParams, Session, finish
from codegen_ui.engine import ServerOptions, load_model
from codegen_ui.kernel import Kernel, read_state
from tests.notebook_sessions import HELD_OUT, TUNING, answered, printed

SALES = b"region,units,price\nnorth,5,2.5\nsouth,7,3.0\n"
# (instructions, the last line the last cell should print)
SESSIONS: list[tuple[list[str], str]] = [
    (["Set x to 41.", "Print x plus one."], "42"),
    (["Define a list called numbers of the numbers 1 to 5.", "Print the sum of numbers."], "15"),
    (["Set name to 'Ada'.", "Print name in upper case."], "ADA"),
    (["Define a function square(n) that returns n squared.", "Print square(7)."], "49"),
    (["Create a numpy array a of 1, 2, 3.", "Print the mean of a."], "2.0"),
    (["Create a dictionary ages with Ann: 30 and Bob: 25.", "Print the age of Bob."], "25"),
    (["Set s to the string 'hello world'.", "Print the number of words in s."], "2"),
    (["Create a list words of 'b', 'a' and 'c'.", "Print words sorted."], "['a', 'b', 'c']"),
    (["Set n to 10.", "Print the factorial of n."], "3628800"),
    (["Set temperatures to [20, 25, 30].", "Print the maximum temperature."], "30"),
    (
        ["Import pandas as pd.", "Create a DataFrame df with a column x of 1, 2, 3.",
         "Print the sum of column x."],
        "6",
    ),
    (
        ["Import pandas as pd.", "Read the file sales.csv into a DataFrame df.",
         "Print the total of the units column."],
        "12",
    ),
]  # fmt: skip


@dataclass
class Counted:
    """The model, counting what every generation costs."""

    model: Any
    tokens: int = 0
    seconds: float = 0.0
    calls: int = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def stream(
        self,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event | None = None,
        prompt_format: str = "paper",
    ) -> Iterator[Any]:
        self.calls += 1
        for event in self.model.stream(prompt, params, cancel, prompt_format):
            if isinstance(event, Finished):
                self.tokens += event.new_tokens
                self.seconds += event.total_s
            yield event


def sessions() -> list[tuple[str, tuple[str, ...], str]]:
    """(set, instructions, expected answer) of every session: this script's, then the
    prompting issue's tuning and held-out sets."""
    own = [("own", tuple(turns), expected) for turns, expected in SESSIONS]
    tuning = [("tuning", case.turns, case.expected) for case in TUNING]
    return own + tuning + [("held-out", case.turns, case.expected) for case in HELD_OUT]


def run(model: Any, fix: int, state: bool, tokens: int, fmt: str) -> dict[str, Any]:
    counted = Counted(model)
    right: dict[str, int] = {}
    errors = tries = turns = 0
    start = time.monotonic()
    for name, instructions, expected in sessions():
        with Kernel() as kernel:
            kernel.files.write("sales.csv", SALES)
            session = Session(counted, kernel, run_timeout=20, auto_fix=fix, prompt_format=fmt)
            session.read_state = read_state if state else None
            for instruction in instructions:
                turn = finish(session.add_turn(instruction, SamplingParams(tokens)))
                turns += 1
                errors += turn.status == "error"
                tries += turn.fixes
            ok = answered(printed(tuple(session.turns[-1].outputs)), expected)
            right[name] = right.get(name, 0) + ok
    total = {name: 0 for name, _, _ in sessions()}
    for name, _, _ in sessions():
        total[name] += 1
    return {
        "format": fmt,
        "fix": fix,
        "state": state,
        "right": sum(right.values()),
        **{name: f"{right.get(name, 0)}/{n}" for name, n in total.items()},
        "error turns": f"{errors}/{turns}",
        "fix tries": tries,
        "tokens/turn": round(counted.tokens / turns, 1),
        "model s/turn": round(counted.seconds / turns, 2),
        "wall s": round(time.monotonic() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--fix", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--state", choices=["off", "on", "both"], default="off", help="the kernel's state"
    )
    parser.add_argument("--precision", default="exact")
    parser.add_argument("--prompt-format", default="chat", choices=["paper", "chat"])
    parser.add_argument("--tokenizer", default="", help="a model server's tokenizer folder")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    args = parser.parse_args()
    server = ServerOptions(tokenizer=args.tokenizer)
    model = load_model(args.model, device="cpu", precision=args.precision, server=server)
    for state in {"off": (False,), "on": (True,), "both": (False, True)}[args.state]:
        for fix in args.fix:
            print(run(model, fix, state, args.max_new_tokens, args.prompt_format), flush=True)


if __name__ == "__main__":
    main()
