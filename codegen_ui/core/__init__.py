"""The domain: the paper's prompt format, turns, and the session that runs them.

Pure and light: `prompt` renders and cuts text, `turns` is plain data, `cells` and `history`
are the notebook's list and its undo, `generation` streams one cell's code from a `CodeModel`
and cuts it, `session` orchestrates a `CodeModel` and a `Runner` through their contracts
(`engine.api`, `kernel.api`) and never imports a backend, a kernel process, files or HTML.
Everything above imports from here.
"""

from codegen_ui.core.generation import continue_code
from codegen_ui.core.prompt import (
    EOS_TEXT,
    PREAMBLE,
    FittedPrompt,
    PromptTooLongError,
    completed_code,
    completion_prompt,
    fit_completion,
    fit_prompt,
    instruction_comment,
    is_complete,
    program_text,
    render_prompt,
    truncate,
    turn_text,
)
from codegen_ui.core.session import Session, one_line
from codegen_ui.core.turns import (
    EMPTY_MESSAGE,
    FINISHED,
    IN_FLIGHT,
    NOTHING_ADDED,
    TURN_STATUSES,
    GenerationStats,
    Turn,
    TurnError,
    TurnStatus,
    finish,
    now,
)

__all__ = [
    "EMPTY_MESSAGE",
    "EOS_TEXT",
    "FINISHED",
    "IN_FLIGHT",
    "NOTHING_ADDED",
    "PREAMBLE",
    "TURN_STATUSES",
    "FittedPrompt",
    "GenerationStats",
    "PromptTooLongError",
    "Session",
    "Turn",
    "TurnError",
    "TurnStatus",
    "completed_code",
    "completion_prompt",
    "continue_code",
    "finish",
    "fit_completion",
    "fit_prompt",
    "instruction_comment",
    "is_complete",
    "now",
    "one_line",
    "program_text",
    "render_prompt",
    "truncate",
    "turn_text",
]
