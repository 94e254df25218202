"""The prompt-format seam: how a turn's request becomes a prompt, and a model's text its code.

Two formats, named by `PromptFormat`:
- `paper`: the CodeGen paper's program-as-prompt (`core.prompt`), byte for byte; MTPB's
  reference, and the format of base code models.
- `chat`: the model's own chat template over `core.chat`'s messages, the assistant's answer
  prefilled with an opening fence; the format of instruct models.

`resolve_format` picks one for a model ("auto": chat where the model has a chat template).
Everything a caller needs goes through here, by format name:
- `fit(...)` renders the prompt for a new turn (an `Ask`), dropping the oldest whole turns
  until it fits; `fit_continuation(...)` the prompt that continues the user's own code.
  Both return a `FittedPrompt` that carries its format.
- `cut(format, text)` is the code in the model's text; `cut_continuation` the user's code plus
  what the model added; `turn_complete(format, text)` is the engine's stop rule (more text
  cannot change the cut), for each request by its own format.

An `Ask` is what a new turn asks, beyond its instruction:
- `context`: text put before the instruction (a summary of the kernel's state, say). In chat
  it leads the user message; in paper each line is a `# ` comment line before the
  instruction's.
- `fix`: a `Fix` (the failed code and the error text) asks for corrected code. In chat the
  failed code is the assistant's answer to the instruction and the error the next user
  message (`chat.FIX_REQUEST`). The paper format has no rendering of it yet:
  `fit` refuses it there (FormatError), so a paper rendering is added here, in one place.
Pure: the model's template rendering and token counting are passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from codegen_ui.core.chat import (
    FENCE,
    ChatMessage,
    chat_code,
    chat_complete,
    chat_continuation,
    chat_messages,
)
from codegen_ui.core.prompt import (
    PREAMBLE,
    FittedPrompt,
    PromptTooLongError,
    completed_code,
    fit_completion,
    fit_prompt,
    instruction_comment,
    is_complete,
    truncate,
)
from codegen_ui.errors import UserError
from codegen_ui.settings import PROMPT_FORMAT_CHOICES

PromptFormat = Literal["paper", "chat"]
PROMPT_FORMATS: tuple[PromptFormat, ...] = get_args(PromptFormat)

# The model port's chat rendering: messages -> text ending where the assistant's answer starts.
RenderChat = Callable[[Sequence[ChatMessage]], str]


class FormatError(UserError, ValueError):
    """A prompt format that cannot be used here: unknown, or chat for a model without a chat
    template."""


@dataclass(frozen=True)
class Fix:
    code: str  # the code that failed
    error: str  # what running it said (the error's text)


@dataclass(frozen=True)
class Ask:
    instruction: str
    context: str = ""  # text before the instruction (see the module docstring)
    fix: Fix | None = None  # ask for a correction of failed code


def resolve_format(setting: str, has_chat_template: bool) -> PromptFormat:
    """The format a model uses for a setting: "auto" is chat where the model has a chat
    template, paper otherwise. Raises FormatError for chat without a template."""
    if setting == "auto":
        return "chat" if has_chat_template else "paper"
    if setting == "chat" and not has_chat_template:
        raise FormatError(
            "the chat prompt format needs a model with a chat template; this model has none "
            "(use --prompt-format paper or auto)"
        )
    if setting not in PROMPT_FORMATS:
        raise FormatError(f"prompt format must be one of {', '.join(PROMPT_FORMAT_CHOICES)}")
    return setting


def fit(
    prompt_format: PromptFormat,
    history: Sequence[tuple[str, str]],
    ask: Ask,
    count_tokens: Callable[[str], int],
    context: int,
    max_new_tokens: int,
    preamble: str = PREAMBLE,
    render: RenderChat | None = None,
) -> FittedPrompt:
    """The prompt for a new turn in a format, trimmed of the oldest whole turns to fit.

    Chat keeps the system message and the new request whole; `render` is the model's."""
    if prompt_format == "paper":
        if ask.fix is not None:
            raise FormatError("the paper format cannot ask for a fix yet")
        if not ask.context.strip():
            return fit_prompt(
                history, ask.instruction, count_tokens, context, max_new_tokens, preamble
            )
        # The context's comment lines lead the instruction's, kept whole as it is.
        tail = instruction_comment(ask.context) + instruction_comment(ask.instruction)
        return fit_completion(history, "", tail, count_tokens, context, max_new_tokens, preamble)
    fix = (ask.fix.code, ask.fix.error) if ask.fix is not None else None

    def text(kept: Sequence[tuple[str, str]]) -> str:
        messages = chat_messages(kept, ask.instruction, context=ask.context, fix=fix)
        return _rendered(render, messages) + FENCE

    return _fit_chat(history, text, count_tokens, context, max_new_tokens, "the instruction")


def fit_continuation(
    prompt_format: PromptFormat,
    history: Sequence[tuple[str, str]],
    instruction: str,
    code: str,
    count_tokens: Callable[[str], int],
    context: int,
    max_new_tokens: int,
    preamble: str = PREAMBLE,
    render: RenderChat | None = None,
) -> FittedPrompt:
    """The prompt that continues the user's own `code` (the cell's), trimmed to fit. In chat
    the assistant's answer is prefilled with the fence and their code."""
    if prompt_format == "paper":
        return fit_completion(
            history, instruction, code, count_tokens, context, max_new_tokens, preamble
        )

    def text(kept: Sequence[tuple[str, str]]) -> str:
        return _rendered(render, chat_messages(kept, instruction)) + FENCE + code

    return _fit_chat(history, text, count_tokens, context, max_new_tokens, "the code to complete")


def _rendered(render: RenderChat | None, messages: Sequence[ChatMessage]) -> str:
    if render is None:
        raise FormatError("the chat prompt format needs the model's chat template")
    return render(messages)


def _fit_chat(
    history: Sequence[tuple[str, str]],
    text: Callable[[Sequence[tuple[str, str]]], str],
    count_tokens: Callable[[str], int],
    context: int,
    max_new_tokens: int,
    subject: str,
) -> FittedPrompt:
    budget = context - max_new_tokens
    tokens = 0
    for trimmed in range(len(history) + 1):
        rendered = text(history[trimmed:])
        tokens = count_tokens(rendered)
        if tokens <= budget:
            return FittedPrompt(rendered, tokens, trimmed, budget, "chat")
    raise PromptTooLongError(
        f"{subject} needs {tokens} prompt tokens but only {budget} fit "
        f"({context} context - {max_new_tokens} new tokens); shorten it or lower max new tokens"
    )


def cut(prompt_format: str, text: str) -> str:
    """The code of one turn in the model's text."""
    return chat_code(text) if prompt_format == "chat" else truncate(text)


def cut_continuation(prompt_format: str, prefix: str, continuation: str) -> str:
    """The user's code byte for byte, then what the model added, cut."""
    if prompt_format == "chat":
        return chat_continuation(prefix, continuation)
    return completed_code(prefix, continuation)


def turn_complete(prompt_format: str, text: str) -> bool:
    """The engine's stop rule for a request in a format: True once more text cannot change
    the cut code."""
    return chat_complete(text) if prompt_format == "chat" else is_complete(text)
