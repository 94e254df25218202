"""The application layer as one object: the model holder, the workspaces and the shelf, wired.

`open_workbench` builds them over a kernel source and a store, with every change of every
workspace autosaved by the shelf; `Workbench` hands the three to the doors (the page's
controller, the session API, follow links), so each door adapts its own protocol and builds
none of them. It starts nothing: the composition root starts the sweepers and the model load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic

from codegen_ui.kernel import KernelSource
from codegen_ui.notebooks import SessionStore
from codegen_ui.workspace.gate import FairGate
from codegen_ui.workspace.holder import ModelHolder
from codegen_ui.workspace.registry import Workspaces
from codegen_ui.workspace.shelf import Shelf
from codegen_ui.workspace.tab import S


@dataclass(frozen=True)
class Workbench(Generic[S]):
    """What every door works through."""

    holder: ModelHolder  # the one model, loading in the background
    workspaces: Workspaces[S]  # the tabs' sessions and kernels, by key
    shelf: Shelf  # the store: autosave, sessions, ownership


def open_workbench(
    holder: ModelHolder,
    kernels: KernelSource,
    store: SessionStore,
    guarded: bool,
    page: Callable[[], S],
    gate: FairGate | None = None,
    **workspace_options: Any,
) -> Workbench[S]:
    """The application layer over these collaborators, every change autosaved to `store`.

    `guarded`: other people can reach the server, so a tab may change only what it made.
    `page` makes a new tab's door state; `gate` defaults to one that asks the holder how many
    turns the model writes at once."""
    shelf = Shelf(store, guarded=guarded)
    workspaces = Workspaces(
        holder, kernels, page, gate, on_change=shelf.autosave, **workspace_options
    )
    return Workbench(holder, workspaces, shelf)
