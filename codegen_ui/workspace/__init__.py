"""The application layer: what every door (the web page, the session API and MCP, the command
line, the magic) shares between the domain and its own protocol.

`holder` (the process's one model, loaded in the background, and how many turns it writes at
once), `gate` (the fair queue in front of it, and `SharedModel` that puts each turn behind it),
`zerogpu` (generation under `spaces.GPU` on a ZeroGPU Space), `tracked` (a tab's kernel and its
state), `lifecycle` (how a session is started from the settings, and the pacing every door's
streamed actions share), `tab` (one tab's workspace: its session, lock and lifecycle, and its
parts: `SaveState`, `Ownership`, and the door's own `TabState`), `registry` (the live workspaces:
created on demand, parked, swept, refused to followers), `shelf` (the sessions in the store:
autosave, open, copy, rename, delete, restore, import and export, and who owns what),
`autosave` (one notebook file kept after every change: `codegen-ui run`'s) and `workbench` (the
holder, workspaces and shelf wired as one, what the doors are given).
It imports no Gradio, HTML or argparse: the doors in `web`, `cli` and `magic` adapt it, and
import-linter keeps it that way.
"""

from codegen_ui.kernel import ServerBusy
from codegen_ui.workspace.autosave import NotebookFile
from codegen_ui.workspace.gate import FairGate, SharedModel
from codegen_ui.workspace.holder import ModelHolder, ModelNotReady
from codegen_ui.workspace.lifecycle import (
    STREAM_EVERY_S,
    UNFINISHED,
    SessionOptions,
    start_session,
)
from codegen_ui.workspace.registry import Workspaces
from codegen_ui.workspace.shelf import LOCAL_HOSTS, Shelf
from codegen_ui.workspace.tab import (
    Ownership,
    ReadOnlyTab,
    SaveState,
    TabState,
    Workspace,
    WorkspaceBusy,
)
from codegen_ui.workspace.tracked import TrackedKernel
from codegen_ui.workspace.workbench import Workbench, open_workbench
from codegen_ui.workspace.zerogpu import gpu, on_zerogpu

__all__ = [
    "LOCAL_HOSTS",
    "STREAM_EVERY_S",
    "UNFINISHED",
    "FairGate",
    "ModelHolder",
    "ModelNotReady",
    "NotebookFile",
    "Ownership",
    "ReadOnlyTab",
    "SaveState",
    "ServerBusy",
    "SessionOptions",
    "SharedModel",
    "Shelf",
    "TabState",
    "TrackedKernel",
    "Workbench",
    "Workspace",
    "WorkspaceBusy",
    "Workspaces",
    "gpu",
    "on_zerogpu",
    "open_workbench",
    "start_session",
]
