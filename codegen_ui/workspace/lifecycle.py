"""How every door starts a session, and what an action leaves behind: `SessionOptions`,
`start_session`, and the shared pacing of a streamed action.

`SessionOptions` is what a session takes from the settings (its run timeout, its tries at a
turn that raised, whether its prompt tells the kernel's state, its prompt format);
`start_session` builds a `Session` over a model and a kernel with them, so the page's
workspaces, the session API and `codegen-ui run` start theirs alike. `STREAM_EVERY_S` paces a
streamed action's updates and `UNFINISHED` ends a cell an action left running, for every door.
It starts no kernel and loads no model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codegen_ui.core import PREAMBLE, CodeModel, Runner, Session, Turn
from codegen_ui.kernel import read_state
from codegen_ui.settings import DEFAULTS, Settings

STREAM_EVERY_S = 0.08  # the most often a streamed action sends a door a new update
UNFINISHED = "the action ended before this cell finished"


@dataclass(frozen=True)
class SessionOptions:
    """What a session takes from the settings."""

    run_timeout: float = DEFAULTS.run_timeout  # seconds per cell
    auto_fix: int = DEFAULTS.auto_fix  # the model's tries at a turn whose code raised
    kernel_state: bool = DEFAULTS.kernel_state  # the prompt tells the kernel's variables
    prompt_format: str = DEFAULTS.prompt_format  # "auto", "paper" or "chat"

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionOptions:
        return cls(
            settings.run_timeout, settings.auto_fix, settings.kernel_state, settings.prompt_format
        )


def start_session(
    model: CodeModel,
    kernel: Runner,
    options: SessionOptions,
    turns: Sequence[Turn] = (),
    preamble: str = PREAMBLE,
    on_change: Callable[[Session], None] | None = None,
) -> Session:
    """A session over this model and kernel, as the options say (turns given are kept)."""
    return Session(
        model,
        kernel,
        list(turns),
        options.run_timeout,
        preamble,
        on_change=on_change,
        auto_fix=options.auto_fix,
        read_state=read_state if options.kernel_state else None,
        prompt_format=options.prompt_format,
    )
