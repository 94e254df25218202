"""The session API: the operations a script, an agent or an MCP client calls, by session id.

`SessionApi` holds the API's sessions (id to workspace) and its operations: `new_session`, `turn`,
`run_cell`, `fix_cell`, `notebook` and `close_session`; `share_session` and `stop_sharing` give and
end a read-only follow link (`web.follow`), and `followed_notebook` reads a session by such a link:
the one operation a follow token opens (it is no session id, so every other refuses it). An API
session is a page session in all but its key: a `Workspace` from the same `Workspaces` of the
application layer's `Workbench` (one kernel of its own from the pool, so `max_kernels` and the idle
sweep apply), its generation behind the same fair gate, every change autosaved by the same `Shelf`,
so a page opens it with `?session=<id>`. Its id is the stored session's id, an unguessable token:
holding it is the right to use it; a made-up or closed id gets one clear error and runs nothing.
`web.endpoints` registers the operations with Gradio. Nothing here imports Gradio or renders
HTML.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypedDict

from codegen_ui.core import MAX_TRIES, Turn, asked_sampling, outputs_text
from codegen_ui.errors import UserError, one_line
from codegen_ui.notebooks import StoreError, check_id, dumps, to_notebook
from codegen_ui.settings import DEFAULTS, Settings
from codegen_ui.web.follow import Follow
from codegen_ui.web.pagestate import PageState, Tab
from codegen_ui.workspace import STREAM_EVERY_S, UNFINISHED, Workbench

log = logging.getLogger(__name__)
LOADING_WAIT_S = 600.0  # how long a turn waits for the model still loading

KEY_PREFIX = "api:"  # workspace keys of API sessions; a browser's keys are Gradio's hashes
TITLE = "API session"


class ApiError(UserError, LookupError):
    """An API call that cannot be done: an unknown or closed session, a bad argument."""


class CellResult(TypedDict):
    """One cell as the API reports it: while it is written, and when it has finished."""

    cell: int  # its number in the notebook, from 1
    status: str  # generating, running, then ok, error, timeout, died, empty, cancelled, not-run
    code: str  # what runs: the cut completion, or the code given
    outputs: str  # what the kernel printed and returned, error text included, as plain text
    tokens: int  # tokens the model wrote for it (0 for code given by hand)
    seconds: float  # since the call began
    message: str  # a note (no code written, the kernel restarted, ...), or ""
    fixes: int  # tries the model took to fix the cell's failed code (0: none)


def cell_result(turn: Turn, index: int, seconds: float) -> CellResult:
    return CellResult(
        cell=index + 1,
        status=turn.status,
        code=turn.code,
        outputs=outputs_text(turn.outputs),
        tokens=turn.stats.new_tokens,
        seconds=round(seconds, 3),
        message=turn.message,
        fixes=turn.fixes,
    )


class SessionApi:
    """The API's sessions over the application layer: ids to workspaces, and the operations."""

    def __init__(
        self,
        bench: Workbench[PageState],
        defaults: Settings = DEFAULTS,
        follow: Follow | None = None,
    ) -> None:
        self.bench = bench
        self.defaults = defaults  # the server's sampling settings, for arguments left out
        self.follow = follow or Follow(bench.workspaces, bench.shelf)
        self._keys: dict[str, str] = {}  # session id -> workspace key
        self._lock = threading.Lock()

    # ---- the operations (their docstrings are what API and MCP clients read) ---------------
    def new_session(self) -> str:
        """Start a new session with a Python kernel of its own, and return its id.

        Pass the id to every other tool. The session is saved on the server like one made in
        the web page (open it there with ?session=<id>); it is closed after it sits idle.
        """
        key = KEY_PREFIX + _token()
        ws = self.bench.workspaces.get(key)  # ServerBusy when every kernel is taken
        ws.saved.title = TITLE
        self.bench.shelf.autosave(ws)  # the stored session's id is the API session's id
        if ws.saved.id is None:
            self.bench.workspaces.close(key)
            raise ApiError(f"cannot start a session: {ws.saved.error or 'it was not saved'}")
        with self._lock:
            self._keys[ws.saved.id] = key
        return ws.saved.id

    def turn(
        self,
        session_id: str,
        instruction: str,
        temperature: float | None = None,
        top_p: float | None = None,
        max_new_tokens: int | None = None,
        seed: int | None = None,
    ) -> Iterator[CellResult]:
        """Turn one plain-English instruction into Python with the code model and run it.

        The new cell is streamed as the model writes it and the kernel runs it; the last
        update is the finished cell: cell, status, code, outputs, tokens, seconds, message.
        Every earlier cell of the session is in the model's prompt, and its variables are
        in the kernel. Sent while the server is still loading its model, it waits for it.

        Args:
            session_id: the id new_session returned.
            instruction: what the next step of the program should do, in English.
            temperature: 0 writes the likeliest code (greedy); higher samples more freely.
                Omitted: the server's setting (likewise for the others).
            top_p: nucleus sampling mass, used when temperature is above 0.
            max_new_tokens: the most tokens the model may write for this cell.
            seed: the sampling seed, for the same code again; -1 draws a fresh one.
        """
        d = self.defaults
        params = asked_sampling(  # the page's sliders' bounds
            d.temperature if temperature is None else temperature,
            d.top_p if top_p is None else top_p,
            d.max_new_tokens if max_new_tokens is None else max_new_tokens,
            d.seed if seed is None else seed,
        )
        if not instruction.strip():
            raise ApiError("the instruction is empty")
        ws = self._workspace(session_id)
        # A script may call as soon as the server answers: a turn waits for the model to load
        # (a page shows "loading" instead); ModelNotReady after that, or after a failure.
        self.bench.holder.wait(LOADING_WAIT_S)
        self.bench.holder.get()
        yield from self._paced(ws, lambda: ws.session.add_turn(instruction, params), None)

    def run_cell(self, session_id: str, cell: int, code: str = "") -> CellResult:
        """Run one cell of the session in its kernel and return it when it has finished.

        Args:
            session_id: the id new_session returned.
            cell: the cell's number, from 1; one past the last adds a new cell of this code.
            code: new code for the cell, run in place of its own; empty runs its own code.
        """
        ws = self._workspace(session_id)
        count = len(ws.session.turns)
        if not 1 <= cell <= count + 1:
            raise ApiError(
                f"there is no cell {cell}: this session has {count} (or add {count + 1})"
            )
        index = cell - 1
        if index == count and not code.strip():
            raise ApiError(f"give the code of the new cell {cell}")

        def action() -> Iterator[Turn]:
            if index == count:
                ws.session.add_code_cell("")
            if code.strip():
                return ws.session.edit(index, code)
            return ws.session.run(index)

        updates = collections.deque(self._paced(ws, action, index), maxlen=1)
        return updates[0]  # _paced always ends with the finished cell, or raises

    def fix_cell(self, session_id: str, cell: int, tries: int = 1) -> CellResult:
        """Ask the model to fix a cell whose run raised, and return it when it has finished.

        The model is shown the cell's instruction, its code and the error (the exception line
        and the last lines of the traceback); its code replaces the cell's and runs at once.
        While it still raises, the model tries again, up to `tries` times; code it already
        tried is not run again. The cell's `fixes` says how many tries it took.

        Args:
            session_id: the id new_session returned.
            cell: the number of the cell that raised, from 1.
            tries: the most tries, 1 to 3.
        """
        ws = self._workspace(session_id)
        count = len(ws.session.turns)
        if not 1 <= cell <= count:
            raise ApiError(f"there is no cell {cell}: this session has {count}")
        if not 1 <= tries <= MAX_TRIES:
            raise ApiError(f"tries must be between 1 and {MAX_TRIES}")
        self.bench.holder.wait(LOADING_WAIT_S)
        self.bench.holder.get()
        params = dataclasses.replace(ws.session.turns[cell - 1].params, seed=None)

        def action() -> Iterator[Turn]:
            return ws.session.fix(cell - 1, params, tries)

        updates = collections.deque(self._paced(ws, action, cell - 1), maxlen=1)
        return updates[0]

    def notebook(self, session_id: str) -> str:
        """The session as a Jupyter notebook: the .ipynb file's JSON text.

        Args:
            session_id: the id new_session returned.
        """
        ws = self._workspace(session_id)
        meta = {
            "title": ws.saved.title,
            "preamble": ws.session.preamble,
            "model": ws.session.model.name,
        }
        return dumps(to_notebook(ws.session.turns, meta))

    def close_session(self, session_id: str) -> str:
        """Close the session: its kernel stops and its id is no longer valid.

        The notebook stays saved on the server.

        Args:
            session_id: the id new_session returned.
        """
        self._workspace(session_id)  # refuses an unknown id like every other call
        with self._lock:
            key = self._keys.pop(session_id, None)
        if key is None or not self.bench.workspaces.close(key):
            raise ApiError("this session is already closed")
        return f"closed {session_id}"

    def share_session(self, session_id: str) -> str:
        """Share the session read-only and return its follow token.

        Anyone who opens <server>/?follow=<token> in a browser sees the notebook live as it
        changes, and can change nothing; followed_notebook reads it with the token. The token
        is not the session id: it gives no other right. Sharing again returns the same token.

        Args:
            session_id: the id new_session returned.
        """
        return self.follow.share_session(self._workspace(session_id))

    def stop_sharing(self, session_id: str) -> str:
        """End the session's follow link: its followers are told it ended.

        Args:
            session_id: the id new_session returned.
        """
        ws = self._workspace(session_id)
        if self.follow.shares.revoke(session_id) is None:
            raise ApiError("this session has no follow link")
        return f"stopped sharing {ws.saved.id}"

    def followed_notebook(self, follow_token: str) -> str:
        """A shared session as a Jupyter notebook (the .ipynb JSON text), read by its follow
        token: reading is all a follow token allows.

        Args:
            follow_token: the token share_session returned (the ?follow= of a follow link).
        """
        title, turns = self.follow.read(follow_token)
        return dumps(to_notebook(list(turns), {"title": title}))

    # ---- helpers ------------------------------------------------------------------------------
    def _workspace(self, session_id: str) -> Tab:
        """The open API session of this id; ApiError for anything else (nothing runs)."""
        try:
            check_id(session_id)
        except StoreError:
            raise ApiError("that is not a session id: call new_session for one") from None
        with self._lock:
            key = self._keys.get(session_id)
        ws = None if key is None else self.bench.workspaces.peek(key)
        if ws is None or ws.saved.id != session_id:
            with self._lock:
                self._keys.pop(session_id, None)  # swept while idle: forget it
            raise ApiError(
                "no open session has this id (it was closed, or sat idle too long): "
                "call new_session for a new one"
            )
        return ws

    def _paced(
        self, ws: Tab, action: Callable[[], Iterator[Turn]], index: int | None
    ) -> Iterator[CellResult]:
        """Run one action on the workspace, as the page does: one at a time, never left
        running, each update of its cell at most every STREAM_EVERY_S, the finished one last."""
        ws.acquire()  # WorkspaceBusy while another call on this session runs
        start = time.monotonic()
        last = 0.0
        try:
            turn: Turn | None = None
            for turn in action():
                # A new turn is the last cell; a run is the cell asked for.
                index = len(ws.session.turns) - 1 if index is None else index
                if time.monotonic() - last >= STREAM_EVERY_S:
                    last = time.monotonic()
                    yield cell_result(turn, index, time.monotonic() - start)
            if turn is None or index is None:
                raise ApiError("nothing to run")
            yield cell_result(ws.session.turns[index], index, time.monotonic() - start)
        except GeneratorExit:  # the client went away: stop what it started
            ws.stop()
            raise
        except UserError as exc:
            ws.session.fail_unfinished(str(exc))
            raise
        except Exception as exc:  # anything else ends the cell visibly; the server goes on
            log.exception("an API call failed")
            ws.session.fail_unfinished(one_line(exc))
            raise ApiError(f"that failed: {one_line(exc)}") from None
        finally:
            ws.session.fail_unfinished(UNFINISHED)
            ws.release()

    def shutdown(self) -> None:
        with self._lock:
            keys, self._keys = list(self._keys.values()), {}
        for key in keys:
            self.bench.workspaces.close(key)


def _token() -> str:
    import secrets

    return secrets.token_urlsafe(12)
