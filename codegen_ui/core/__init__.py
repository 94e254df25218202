"""The domain: the paper's prompt format, turns, and the session that runs them.

Pure and light: `prompt` renders and cuts text, `turns` is plain data, `session` orchestrates a
`CodeModel` and a `Runner` through their contracts (`engine.api`, `kernel.api`) and never
imports a backend, a kernel process, files or HTML. Everything above imports from here.
"""

from codegen_ui.core.prompt import (
    EOS_TEXT,
    PREAMBLE,
    FittedPrompt,
    PromptTooLongError,
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
    OWN_CODE,
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
    "OWN_CODE",
    "PREAMBLE",
    "TURN_STATUSES",
    "FittedPrompt",
    "GenerationStats",
    "PromptTooLongError",
    "Session",
    "Turn",
    "TurnError",
    "TurnStatus",
    "finish",
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
