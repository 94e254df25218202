"""One cell's code from the model: its text as it streams, cut by the rules of the prompt's
format (`core.formats`: the paper's, or the chat answer's), and how the generation ended (what
status the cell takes next).

`generate` streams a `Turn` for a fitted prompt: the code is the cut completion, or, for a
completion of the user's own code (a `prefix`), their code byte for byte followed by the cut
continuation. `continue_code` is the same cut for a file on its own (`codegen-ui complete`).
Nothing here runs code, keeps a notebook or saves anything: `core.session` does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from codegen_ui.core.formats import PromptFormat, cut, cut_continuation, fit_continuation
from codegen_ui.core.model import CodeModel, Delta, Finished, GenerationError, SamplingParams
from codegen_ui.core.prompt import FittedPrompt
from codegen_ui.core.turns import (
    EMPTY_MESSAGE,
    NOTHING_ADDED,
    GenerationStats,
    Turn,
    TurnError,
    now,
)


def generate(
    model: CodeModel,
    turn: Turn,
    fitted: FittedPrompt,
    cancel: threading.Event | None = None,
    prefix: str = "",
) -> Iterator[Turn]:
    """`turn` as the model writes it, ending in the state it leaves the model in: `running`
    (its code is ready to run), `empty`, `cancelled` or `not-run`; a failure of this generation
    alone ends it `not-run` with the text kept. Other failures propagate."""

    fmt = fitted.prompt_format

    def code(raw: str) -> str:
        return cut_continuation(fmt, prefix, raw) if prefix else cut(fmt, raw)

    raw = ""
    try:
        for event in model.stream(fitted.text, turn.params, cancel, prompt_format=fmt):
            if isinstance(event, Delta):
                raw += event.text
                yield turn.replace(completion=raw, code=code(raw))
            elif isinstance(event, Finished):
                stats = GenerationStats(
                    prompt_tokens=event.prompt_tokens,
                    new_tokens=event.new_tokens,
                    trimmed_turns=fitted.trimmed,
                    stop_reason=event.stop_reason,
                    first_token_s=event.first_token_s,
                    generate_s=event.total_s,
                )
                final = code(raw)
                yield _after_generation(turn, raw, final, stats, event.message, prefix)
    except GenerationError as exc:  # this turn alone failed; the model carries on
        # As for a model server's failure: keep the text, run nothing.
        yield turn.replace(
            completion=raw,
            code=code(raw),
            status="not-run",
            message=str(exc),
            finished=now(),
        )


def _after_generation(
    turn: Turn, raw: str, code: str, stats: GenerationStats, message: str, prefix: str
) -> Turn:
    turn = turn.replace(completion=raw, code=code, stats=stats)
    if stats.stop_reason == "cancelled":
        return turn.replace(status="cancelled", message="stopped", finished=now())
    if stats.stop_reason == "error":  # a model server failed: keep the text, run nothing
        return turn.replace(status="not-run", message=message, finished=now())
    if code == prefix or not code.strip():  # nothing written, or nothing added
        if code.strip():  # a completion that added nothing: the user's code is as it was
            return turn.replace(status="not-run", message=NOTHING_ADDED, finished=now())
        return turn.replace(status="empty", message=EMPTY_MESSAGE, finished=now())
    limit = f"used all {turn.params.max_new_tokens} new tokens"
    if prefix:  # say where the user's code ends: the cell shows one block of code
        lines = len(code[len(prefix) :].strip("\n").split("\n"))
        added = "1 line" if lines == 1 else f"{lines} lines"
        end = f" and {limit}: it may be cut short" if stats.stop_reason == "length" else ""
        turn = turn.replace(
            message=f"the model continued your code ({added}){end}; Undo takes it back"
        )
    elif stats.stop_reason == "length":
        turn = turn.replace(message=f"the model {limit}; the code may be cut short")
    return turn.replace(status="running")


def continue_code(
    model: CodeModel,
    code: str,
    params: SamplingParams,
    cancel: threading.Event | None = None,
    prompt_format: PromptFormat = "paper",
) -> tuple[str, Finished]:
    """The model's continuation of `code` on its own (a whole file: no preamble, no history),
    cut as a cell's completion is in that format, with how the generation ended.

    Refuses code that is blank (TurnError) or too long to leave room (PromptTooLongError)."""
    if not code.strip():
        raise TurnError("there is no code to complete")
    render = model.render_chat if prompt_format == "chat" else None
    fitted = fit_continuation(
        prompt_format,
        [],
        "",
        code,
        model.count_tokens,
        model.context_size,
        params.max_new_tokens,
        "",
        render,
    )
    raw, finished = "", Finished("eos", fitted.tokens, 0)
    for event in model.stream(fitted.text, params, cancel, prompt_format=prompt_format):
        if isinstance(event, Delta):
            raw += event.text
        else:
            finished = event
    return cut_continuation(prompt_format, code, raw)[len(code) :], finished
