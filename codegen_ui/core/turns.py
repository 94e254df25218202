"""A turn of the conversation and its statuses: plain data shared by every seam above it.

A `Turn` is one instruction with the code the model wrote for it (or the user's edit), the
outputs the kernel gave and how it ended. `TURN_STATUSES` is the one list of statuses, by name:
`IN_FLIGHT` while the model writes or the kernel runs, `FINISHED` once it has ended. This module
runs nothing; `core.session` does.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, get_args

from codegen_ui.core.kernel import Output
from codegen_ui.core.model import SamplingParams
from codegen_ui.errors import UserError

TurnStatus = Literal[
    "generating", "running", "ok", "error", "timeout", "died", "empty", "cancelled", "not-run"
]
TURN_STATUSES: tuple[TurnStatus, ...] = get_args(TurnStatus)
IN_FLIGHT: frozenset[TurnStatus] = frozenset({"generating", "running"})
FINISHED: frozenset[TurnStatus] = frozenset(TURN_STATUSES) - IN_FLIGHT


class TurnError(UserError, ValueError):
    """An operation the session cannot do now: an empty instruction, no such cell, no turn."""


# The instruction of a cell of the user's own code that was given none: its comment in the prompt.
OWN_CODE = "My own code."

EMPTY_MESSAGE = (
    "The model wrote no code for this turn (it went on with a comment or stopped at once). "
    "Regenerate with a temperature above 0, or rephrase the instruction."
)

NOTHING_ADDED = (
    "The model added nothing to your code (it went on with a comment or stopped at once); "
    "it was left as it was and not run. Try again with a temperature above 0."
)


def finish(updates: Iterable[Turn]) -> Turn:
    """Drain an operation's updates and return the final state of the turn."""
    final = deque(updates, maxlen=1)
    if not final:
        raise ValueError("the operation yielded no turn")
    return final[0]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class GenerationStats:
    prompt_tokens: int = 0
    new_tokens: int = 0
    trimmed_turns: int = 0  # oldest turns left out of this turn's prompt
    stop_reason: str = ""
    first_token_s: float = 0.0
    generate_s: float = 0.0
    run_s: float = 0.0


@dataclass(frozen=True)
class Turn:
    instruction: str
    params: SamplingParams = field(default_factory=SamplingParams)
    model: str = ""
    # The prompt format the model wrote it in ("paper", "chat"); "" where no model wrote it
    # in this app yet (the user's own cell) or an older notebook did not record it.
    prompt_format: str = ""
    completion: str = ""  # the model's raw text, before the cut
    code: str = ""  # what runs: the cut completion, or the user's edit
    outputs: tuple[Output, ...] = ()
    status: TurnStatus = "generating"
    message: str = ""  # a note for the user (no code written, state lost, ...)
    edited: bool = False  # the code was changed by hand after generation
    fixes: int = 0  # tries the model took to correct this cell's failed code (0: none made)
    execution_count: int | None = None
    stats: GenerationStats = field(default_factory=GenerationStats)
    created: str = field(default_factory=now)
    finished: str = ""

    def replace(self, **changes: object) -> Turn:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
