"""The notebook as HTML: one cell per turn with its own actions, the banners and the toast.

A cell carries stable hooks for automation: `data-cell` (1 for the first turn), `data-status`
(`ok`, `error`, `running`, `waiting`, `stopped`, `empty`, `not-run`; `data-state` keeps the
turn's own status), `data-fixes` (the tries the model took to fix it), buttons with
`data-action` (a `CellAction`: `edit`, `run`, `complete` on the user's own code, `fix` on a cell
whose run raised, `regenerate`, `delete`) and, in edit mode, textareas for its instruction and
code. The root carries `data-busy`, `data-revision` (sent back with every action, so a click on
a notebook that changed meanwhile is refused) and `data-session` (the page puts it in the
address).
Outputs are rendered by `codegen_ui.web.render`; this module only lays out cells. It knows
nothing of Gradio.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from codegen_ui.core import Turn, fixable
from codegen_ui.web.cellaction import CellAction
from codegen_ui.web.render import highlight, render_outputs

# The vocabulary for `data-status`, from the turn's own status.
PUBLIC_STATUS = {
    "generating": "running",
    "running": "running",
    "ok": "ok",
    "error": "error",
    "timeout": "error",
    "died": "error",
    "empty": "empty",
    "cancelled": "stopped",
    "not-run": "not-run",
}
_STATE_TEXT = {
    "generating": "writing code",
    "running": "running",
    "ok": "ok",
    "error": "error",
    "timeout": "timed out",
    "died": "kernel died",
    "empty": "no code",
    "cancelled": "stopped",
    "not-run": "not run",
}


@dataclass(frozen=True)
class NotebookView:
    """Everything the notebook shows for one tab, as plain data."""

    turns: Sequence[Turn]
    editing: int | None = None  # index of the cell whose editor is open
    active: int | None = None  # index of the cell being worked on (scrolled into view)
    busy: bool = False  # an action is under way: only Stop and Edit can act
    ahead: int = 0  # generations ahead of this tab's in the model's queue
    note: str = ""  # a message for the user, shown as a toast in the viewport
    pending: Sequence[str] = ()  # example instructions still to run
    session_id: str | None = None
    revision: int = 0
    offer_replay: bool = False  # the kernel's variables are gone: offer Replay all
    conflict: str = ""  # another tab saved this session first: offer reload or a copy
    can_generate: bool = True  # False when the model failed to load
    readonly: bool = False  # a follower's view: no buttons, no editor, no banners


def _state(turn: Turn, ahead: int) -> tuple[str, str]:
    """(data-status, live state text) of one turn."""
    if turn.status == "generating" and not turn.completion and ahead:
        return "waiting", f"waiting for the model, {ahead} ahead"
    return PUBLIC_STATUS.get(turn.status, turn.status), _STATE_TEXT.get(turn.status, turn.status)


def _badge(turn: Turn, state: str) -> str:
    parts = [state]
    s = turn.stats
    if turn.status not in ("generating", "running"):
        if s.new_tokens:
            parts.append(f"{s.new_tokens} tokens in {s.generate_s:.1f} s")
        if s.run_s:
            parts.append(f"ran {s.run_s:.2f} s")
    if s.trimmed_turns:
        parts.append(f"{s.trimmed_turns} early turns left out of the prompt")
    if turn.fixes and not turn.edited:
        parts.append("fixed" if turn.status == "ok" else "fix tried")
        parts.append("1 try" if turn.fixes == 1 else f"{turn.fixes} tries")
    if turn.edited:
        parts.append("edited")
    return " · ".join(parts)


def _button(action: CellAction, label: str, enabled: bool, title: str = "") -> str:
    off = "" if enabled else " disabled"
    tip = f' title="{html.escape(title)}"' if title else ""
    return (
        f'<button type="button" class="cg-act" data-action="{action}"{tip}{off}>'
        f"{html.escape(label)}</button>"
    )


def _actions(turn: Turn, nb: NotebookView, editing: bool) -> str:
    idle = not nb.busy
    complete_tip = "The model continues your code from its end, then it runs"
    if editing:
        return (
            _button(CellAction.RUN, "Run (Shift+Enter)", idle)
            + _button(
                CellAction.COMPLETE, "Complete (Ctrl+Space)", idle and nb.can_generate, complete_tip
            )
            + _button(
                CellAction.REGENERATE, "Regenerate from instruction", idle and nb.can_generate
            )
            + _button(CellAction.LEAVE, "Cancel (Esc)", True)
        )
    # Complete is offered on the user's own code (a code cell, or an edited one).
    can_complete = idle and nb.can_generate and bool(turn.code.strip())
    complete = (
        _button(CellAction.COMPLETE, "Complete", can_complete, complete_tip) if turn.edited else ""
    )
    fix_tip = "The model is shown the error and rewrites the cell, which then runs"
    fix = (
        _button(CellAction.FIX, "Fix", idle and nb.can_generate, fix_tip)
        if fixable(turn) is not None
        else ""
    )
    return (
        _button(CellAction.EDIT, "Edit", True)
        + _button(CellAction.RUN, "Run", idle and bool(turn.code.strip()))
        + fix
        + complete
        + _button(CellAction.REGENERATE, "Regenerate", idle and nb.can_generate)
        + _button(CellAction.DELETE, "Delete", idle)
    )


def _editor(turn: Turn) -> str:
    rows = max(3, turn.code.count("\n") + 2)
    return (
        '<label class="cg-field">Instruction<textarea class="cg-instr-edit" '
        f'data-field="instruction" rows="1" spellcheck="false">{html.escape(turn.instruction)}'
        "</textarea></label>"
        f'<textarea class="cg-editor" data-field="code" rows="{rows}" spellcheck="false" '
        f'aria-label="code" data-focus="true">{html.escape(turn.code)}</textarea>'
    )


def render_cell(turn: Turn, index: int, nb: NotebookView) -> str:
    """One turn as a cell: head (number, count, instruction, state), code or editor, outputs."""
    status, state = _state(turn, nb.ahead)
    working = turn.status in ("generating", "running")
    count = "*" if working else ("" if turn.execution_count is None else str(turn.execution_count))
    editing = nb.editing == index
    if editing:
        body = _editor(turn)
    else:
        code = highlight(turn.code) if turn.code else ""
        if turn.status == "generating":
            code += '<span class="cg-caret">▍</span>'
        body = f'<pre class="cg-code">{code}</pre>'
    message = f'<div class="cg-msg">{html.escape(turn.message)}</div>' if turn.message else ""
    active = "true" if nb.active == index else "false"
    return (
        f'<div class="cg-cell cg-is-{status}" data-cell="{index + 1}" data-status="{status}" '
        f'data-state="{html.escape(turn.status)}" data-active="{active}" '
        f'data-fixes="{turn.fixes}" '
        f'data-editing="{"true" if editing else "false"}" '
        f'data-generate-s="{turn.stats.generate_s:.4f}" data-run-s="{turn.stats.run_s:.4f}">'
        f'<div class="cg-head"><span class="cg-count">[{count}]</span>'
        f'<span class="cg-instr">{html.escape(turn.instruction)}</span>'
        f'<span class="cg-badge">{html.escape(_badge(turn, state))}</span>'
        f'<span class="cg-actions">{"" if nb.readonly else _actions(turn, nb, editing)}</span>'
        "</div>"
        f'{body}{message}<div class="cg-outputs">{render_outputs(turn.outputs)}</div></div>'
    )


def _banners(nb: NotebookView) -> str:
    out = ""
    if nb.conflict:
        out += (
            f'<div class="cg-banner cg-conflict" role="alert">{html.escape(nb.conflict)} '
            + _button(CellAction.RELOAD, "Reload the saved version", True)
            + _button(CellAction.KEEP_COPY, "Keep mine as a copy", True)
            + "</div>"
        )
    if nb.offer_replay:
        out += (
            '<div class="cg-banner cg-replay">The kernel\'s variables are gone (a fresh kernel '
            "started). Replay all runs every cell again to rebuild them. "
            + _button(CellAction.REPLAY, "Replay all", not nb.busy)
            + "</div>"
        )
    return out


def render_notebook(nb: NotebookView) -> str:
    """The whole notebook; an empty one explains what to do."""
    cells = "".join(render_cell(t, i, nb) for i, t in enumerate(nb.turns))
    if not nb.turns and nb.readonly:
        cells = '<div class="cg-empty">No turns yet: they appear here as they are written.</div>'
    elif not nb.turns:
        cells = (
            '<div class="cg-empty">No turns yet. Describe a step in plain English below '
            "(for example <i>define a list of the numbers 1 to 10</i>) and press Enter; "
            "the model writes the Python and the kernel runs it.</div>"
        )
    rest = ""
    if nb.pending:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in nb.pending)
        rest = f'<div class="cg-pending"><b>Pending turns</b><ol>{items}</ol></div>'
    toast = f'<div class="cg-toast" role="status">{html.escape(nb.note)}</div>' if nb.note else ""
    attrs = (
        f'data-busy="{"true" if nb.busy else "false"}" data-revision="{nb.revision}" '
        f'data-session="{html.escape(nb.session_id or "")}"'
    )
    banners = "" if nb.readonly else _banners(nb)
    return f'<div class="cg-nb" {attrs}>{banners}{cells}{rest}{toast}</div>'


def render_banner(blocked: str) -> str:
    """The page's error banner (the model failed to load), or nothing."""
    if not blocked:
        return ""
    return f'<div class="cg-banner cg-model-error" role="alert">{html.escape(blocked)}</div>'
