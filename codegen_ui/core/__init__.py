"""The domain: the paper's prompt format, turns, and the session that runs them.

Pure and light, and the owner of the two ports the session drives: `model` (the `CodeModel`
protocol and the types it streams), `kernel` (the `Runner` protocol and what a run returns);
`codegen_ui.engine` and `codegen_ui.kernel` implement them from above. `prompt` renders and
cuts text, `turns` is plain data, `cells` the list of turns with its revision, `history` the undo
and redo stacks, `generation` streams one cell's code from a `CodeModel` and cuts it, `session`
orchestrates a model and a runner through the ports and never imports a backend, a kernel
process, files or HTML. Everything above imports from here.
"""

from codegen_ui.core.generation import continue_code
from codegen_ui.core.kernel import (
    ANSI,
    FileEntry,
    KernelError,
    KernelFiles,
    Listing,
    Output,
    Runner,
    RunResult,
    RunStatus,
    error_output,
    output_text,
    outputs_text,
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
    "ANSI",
    "EMPTY_MESSAGE",
    "EOS_TEXT",
    "FINISHED",
    "IN_FLIGHT",
    "NOTHING_ADDED",
    "OWN_CODE",
    "PREAMBLE",
    "TURN_STATUSES",
    "Activity",
    "CodeModel",
    "Delta",
    "Event",
    "FileEntry",
    "Finished",
    "FittedPrompt",
    "GenerationError",
    "GenerationStats",
    "KernelError",
    "KernelFiles",
    "Listing",
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
    "finish",
    "fit_completion",
    "fit_prompt",
    "instruction_comment",
    "is_complete",
    "now",
    "output_text",
    "outputs_text",
    "program_text",
    "render_prompt",
    "stream_output",
    "truncate",
    "turn_text",
]
