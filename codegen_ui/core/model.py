"""The model port: a small protocol for "complete this prompt", and the types it exchanges.

A model streams the completion of one turn as text deltas and ends with a `Finished` record;
it stops on its own once the turn is complete by the stop rule of the request's prompt format
(`core.formats.turn_complete`: the paper's truncate rules, or the chat answer's closing fence).
A model with a chat template renders chat messages with it (`render_chat`), for the chat
format. Nothing above this port sees tensors or token ids. The domain owns it;
`codegen_ui.engine` implements it from above (in process or on a model server) and adds what
loading takes (`ServerOptions`) and how it fails (`ModelLoadError`). The bounds a turn may ask
for (`asked_sampling`, the ranges) are here too, one source for the page's sliders and the
session API. `NoModel` stands in for a session that only runs its cells (a replay). Standard
library only; defaults come from `settings.DEFAULTS`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from codegen_ui.core.chat import ChatMessage
from codegen_ui.errors import UserError
from codegen_ui.settings import DEFAULTS

# "error": a model server failed mid-turn; `Finished.message` says how.
StopReason = Literal["complete", "eos", "length", "cancelled", "error"]


class GenerationError(UserError, RuntimeError):
    """The model failed while writing one turn; other generations carry on."""


@dataclass(frozen=True)
class SamplingParams:
    max_new_tokens: int = DEFAULTS.max_new_tokens  # the most tokens one turn may add
    temperature: float = DEFAULTS.temperature  # 0 means greedy
    top_p: float = DEFAULTS.top_p  # nucleus mass when sampling
    seed: int | None = DEFAULTS.seed  # sampling seed; the same seed gives the same completion
    top_k: int = 0  # when sampling, only the k likeliest tokens (0: no limit); before top-p

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


# What a person or a script may ask of one turn: the page's sliders and the session API's checks
# both take these bounds (the settings' own values are checked in `codegen_ui.settings`).
TEMPERATURE_RANGE = (0.0, 2.0)  # servers' (OpenAI's) range; the paper samples at 0.2 to 0.8
TOP_P_RANGE = (0.05, 1.0)  # the nucleus mass when sampling
# Up to half the default model's 2048-token context, so the prompt keeps the other half (the
# paper asks for 128 new tokens, a few problems 256 or 512).
MAX_NEW_TOKENS_RANGE = (1, 1024)
FRESH_SEED = -1  # a seed the page and the API take for "draw a fresh one each turn"


class SamplingError(UserError, ValueError):
    """A turn asked for sampling outside its bounds; the message names the value."""


def asked_sampling(
    temperature: float, top_p: float, max_new_tokens: float, seed: float | None
) -> SamplingParams:
    """A turn's sampling as the page or the API asks for it, each value within its range (else a
    SamplingError naming it); a seed below 0 (`FRESH_SEED`) or none draws a fresh one."""
    checks = (
        ("temperature", temperature, TEMPERATURE_RANGE, "0 is greedy"),
        ("top_p", top_p, TOP_P_RANGE, "the nucleus mass"),
        ("max_new_tokens", max_new_tokens, MAX_NEW_TOKENS_RANGE, "per turn"),
    )
    for name, value, (low, high), note in checks:
        if not low <= value <= high:
            raise SamplingError(f"{name} must be from {low:g} to {high:g} ({note}), not {value}")
    return SamplingParams(
        max_new_tokens=int(max_new_tokens),
        temperature=float(temperature),
        top_p=float(top_p),
        seed=None if seed is None or seed < 0 else int(seed),
    )


@dataclass(frozen=True)
class Delta:
    """New completion text since the previous delta."""

    text: str


@dataclass(frozen=True)
class Finished:
    """The end of one generation, with what it cost."""

    stop_reason: StopReason
    prompt_tokens: int  # tokens in the prompt
    new_tokens: int  # tokens generated
    reused_tokens: int = 0  # prompt tokens whose encoding was served from a cache
    first_token_s: float = 0.0  # seconds from the call to the first generated token
    total_s: float = 0.0  # seconds for the whole generation
    message: str = ""  # why a generation ended early with an error, one line for the user


Event = Delta | Finished


@dataclass(frozen=True)
class Activity:
    """What the model is doing for all sessions at this moment."""

    writing: int = 0  # generations being written (together, one forward pass per token)
    waiting: int = 0  # generations queued behind them, served in arrival order
    capacity: int = 1  # the most written together

    @property
    def full(self) -> bool:
        return self.writing >= self.capacity


@runtime_checkable
class CodeModel(Protocol):
    """What the session needs from a model."""

    name: str  # hub id or path, shown to users and saved with each turn
    context_size: int  # the most tokens prompt plus completion may hold

    @property
    def has_chat_template(self) -> bool:
        """Whether `render_chat` can render: the chat format needs it."""
        ...

    def render_chat(self, messages: Sequence[ChatMessage]) -> str:
        """The messages in the model's chat template, ending where the assistant's answer
        starts (the generation prompt); a template without a system role gets the system
        text in the first user message. Raises GenerationError where there is no template."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def describe(self) -> str:
        """One line for the status bar, e.g. "codegen-350M-mono on cpu (float32)"."""
        ...

    def activity(self) -> Activity:
        """How many generations are being written and how many wait, across all callers."""
        ...

    def stream(
        self,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event | None = None,
        prompt_format: str = "paper",
    ) -> Iterator[Event]:
        """Yield Delta events with the completion text, then exactly one Finished; stop once
        the text is complete by `prompt_format`'s rule (`core.formats.turn_complete`).

        Any thread may call it, several at once; a failure of this generation alone raises
        GenerationError."""
        ...


class NoModel:
    """The model of a session that only runs its cells (`codegen-ui replay`): it writes nothing,
    and a turn that asks it to ends in one line saying so."""

    name = "no model"
    context_size = 0
    has_chat_template = False

    def render_chat(self, messages: Sequence[ChatMessage]) -> str:
        raise GenerationError("this session runs its cells only: it has no model")

    def count_tokens(self, text: str) -> int:
        return 0

    def describe(self) -> str:
        return "no model (cells only)"

    def activity(self) -> Activity:
        return Activity()

    def stream(
        self,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event | None = None,
        prompt_format: str = "paper",
    ) -> Iterator[Event]:
        raise GenerationError("this session runs its cells only: it has no model")
