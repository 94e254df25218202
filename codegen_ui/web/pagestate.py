"""What the page keeps of a tab beyond its session: `PageState`, and `Tab`, a workspace with it.

The open editor, the cell the last action worked on, the example turns still pending, the
upload waiting for a replace-or-keep answer, and the last turn's token budget (for the prompt
inspector). The application layer (`codegen_ui.workspace`) holds it on the tab's workspace and
tells it when the notebook under it is replaced (`reloaded`, `switched`); only the page reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codegen_ui.settings import DEFAULTS
from codegen_ui.workspace import Workspace


@dataclass
class PageState:
    """One tab's page state: a `workspace.TabState`."""

    editing: int | None = None  # the cell whose editor is open
    active: int | None = None  # the cell the last action worked on
    pending: list[str] = field(default_factory=list)  # example instructions still to run
    files_asking: tuple[tuple[str, str], ...] = ()  # (name, upload path) to replace?
    max_new_tokens: int = DEFAULTS.max_new_tokens  # of the last turn, for the prompt inspector

    def reloaded(self) -> None:
        self.editing = None

    def switched(self) -> None:
        self.pending = []
        self.editing = self.active = None


Tab = Workspace[PageState]  # a tab's workspace, as the page holds it
