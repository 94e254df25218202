"""The domain: the paper's prompt format, turns, and the session that runs them.

Pure and light, and the owner of the two ports the session drives: `model` (the `CodeModel`
protocol and the types it streams), `kernel` (the `Runner` protocol and what a run returns);
`codegen_ui.engine` and `codegen_ui.kernel` implement them from above. `prompt` renders and
cuts text, `turns` is plain data, `cells` the list of turns with its revision, `history` the undo
and redo stacks, `generation` streams one cell's code from a `CodeModel` and cuts it, `feedback`
renders what the model is told of a failed run and of the kernel's state, `fixes` drives the
tries at a failed cell, `session`
orchestrates a model and a runner through the ports and never imports a backend, a kernel
process, files or HTML. Everything above imports from here.
"""

from codegen_ui.core.feedback import (
    ErrorSummary,
    FileInfo,
    KernelState,
    NameInfo,
    error_summary,
    fit_fix,
    fix_block,
    fix_comment,
    fix_text,
    state_comment,
    summarize_error,
)
from codegen_ui.core.fixes import MAX_TRIES, fixable, same_code
from codegen_ui.core.generation import continue_code
from codegen_ui.core.kernel import (
    FileEntry,
    KernelError,
    KernelFiles,
    Listing,
    Output,
    Runner,
    RunResult,
    RunStatus,
    error_output,
    stream_output,
)
from codegen_ui.core.model import (
    Activity,
    CodeModel,
    Delta,
    Event,
    Finished,
    GenerationError,
    SamplingParams,
    StopReason,
)
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
from codegen_ui.core.session import Session
from codegen_ui.core.turns import (
    EMPTY_MESSAGE,
    FINISHED,
    IN_FLIGHT,
    NOTHING_ADDED,
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
    "MAX_TRIES",
    "NOTHING_ADDED",
    "OWN_CODE",
    "PREAMBLE",
    "TURN_STATUSES",
    "Activity",
    "CodeModel",
    "Delta",
    "ErrorSummary",
    "Event",
    "FileEntry",
    "FileInfo",
    "Finished",
    "FittedPrompt",
    "GenerationError",
    "GenerationStats",
    "KernelError",
    "KernelFiles",
    "KernelState",
    "Listing",
    "NameInfo",
    "Output",
    "PromptTooLongError",
    "RunResult",
    "RunStatus",
    "Runner",
    "SamplingParams",
    "Session",
    "StopReason",
    "Turn",
    "TurnError",
    "TurnStatus",
    "completed_code",
    "completion_prompt",
    "continue_code",
    "error_output",
    "error_summary",
    "finish",
    "fit_completion",
    "fit_fix",
    "fit_prompt",
    "fix_block",
    "fix_comment",
    "fix_text",
    "fixable",
    "instruction_comment",
    "is_complete",
    "now",
    "program_text",
    "render_prompt",
    "same_code",
    "state_comment",
    "stream_output",
    "summarize_error",
    "truncate",
    "turn_text",
]
