"""The domain: the prompt formats, turns, and the session that runs them.

Pure and light, and the owner of the two ports the session drives: `model` (the `CodeModel`
protocol and the types it streams), `kernel` (the `Runner` protocol and what a run returns);
`codegen_ui.engine` and `codegen_ui.kernel` implement them from above. `formats` is the seam
between the two prompt formats: `prompt` (the paper's: renders and cuts text) and `chat` (chat
messages for the model's own template, and its answer cut to code); `turns` is plain data, `cells` the list of turns with its revision, `history` the undo
and redo stacks, `generation` streams one cell's code from a `CodeModel` and cuts it, `session`
orchestrates a model and a runner through the ports and never imports a backend, a kernel
process, files or HTML. Everything above imports from here.
"""

from codegen_ui.core.chat import SYSTEM, ChatMessage, chat_code, chat_messages, fold_system
from codegen_ui.core.formats import (
    PROMPT_FORMATS,
    Ask,
    Fix,
    FormatError,
    PromptFormat,
    cut,
    fit,
    fit_continuation,
    resolve_format,
    turn_complete,
)
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
    "PROMPT_FORMATS",
    "SYSTEM",
    "Ask",
    "ChatMessage",
    "Fix",
    "FormatError",
    "PromptFormat",
    "chat_code",
    "chat_messages",
    "cut",
    "fit",
    "fit_continuation",
    "fold_system",
    "resolve_format",
    "turn_complete",
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
    "program_text",
    "render_prompt",
    "stream_output",
    "truncate",
    "turn_text",
]
