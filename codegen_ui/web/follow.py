"""Share to follow, the application layer: an owner shares a session, a class follows it read-only.

`Follow` is the one place the follow rules live, whatever the door (the page, the session API, the
server-sent events of `web.followfeed`):

- Only a session's owner (`Shelf.owns`) shares it or ends its link; a session never saved yet is
  saved first, so a class may follow an empty notebook from the start.
- A tab that opens a follow link becomes a follower: `Workspaces` refuses it a workspace, so no
  door (a forged page event included) runs, edits, uploads or reaches a kernel from it, and no
  follower holds a kernel. Its view is a `Frame`: the owner's live notebook, rendered read-only
  (no buttons, no editor, no session id: the id is the capability to change the session), or
  one line saying why not (a wrong, malformed or ended link; a deleted session).
- Copy to my own ends following in that tab: the tab gets its own workspace and a copy of the
  session as saved now (turns, code, files), owned by the tab; the caller then replays it.

Frames are rendered once per change, whoever asks (every follower of a session gets the same
text), from the owner's workspace while a tab holds the session, or else from the store. Nothing
here knows Gradio or HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from codegen_ui.core import IN_FLIGHT, Turn
from codegen_ui.errors import UserError
from codegen_ui.notebooks import StoreError
from codegen_ui.web.actions import LOST
from codegen_ui.web.notebook_html import NotebookView, render_notebook
from codegen_ui.web.pagestate import PageState, Tab
from codegen_ui.web.sharing import REASONS, FollowRefused, FollowState, Frame, Shares, same_turns
from codegen_ui.workspace import Shelf, Workspaces

READ_ONLY = (
    "This tab follows a session read-only: nothing here can change it. "
    "Press Copy to my own to work on a copy."
)


@dataclass
class _Seen:
    """The last frame of one follow link and what it was rendered from."""

    frame: Frame
    turns: tuple[Turn, ...] = ()
    source: tuple[object, ...] = ()  # where the turns came from, the title, and more


class Follow:
    """Follow links over the tabs' workspaces and the store."""

    def __init__(
        self,
        workspaces: Workspaces[PageState],
        shelf: Shelf,
        shares: Shares | None = None,
        render: Callable[[NotebookView], str] = render_notebook,
    ) -> None:
        self.workspaces = workspaces
        self.shelf = shelf
        self.shares = shares or Shares()
        self._render = render
        self._followers: dict[str, str] = {}  # tab key -> the token it follows
        self._seen: dict[str, _Seen] = {}  # token -> its last frame
        self._versions = 0  # frames are numbered across links, so a number is never reused
        self._lock = threading.Lock()

    # ---- the owner ------------------------------------------------------------------------
    def share(self, key: str) -> str:
        """This tab's session's follow token (the one it has, or a new one)."""
        ws = self._owner(key)
        if ws.saved.id is None:  # an empty session: save it, so the class can follow it
            self.shelf.autosave(ws)
            if ws.saved.id is None:
                raise FollowRefused(f"cannot share this session: {ws.saved.error or 'not saved'}")
        if not self.shelf.owns(ws, ws.saved.id):
            raise FollowRefused("only sessions made in this tab can be shared")
        return self.shares.share(ws.saved.id)

    def revoke(self, key: str) -> str:
        """End this tab's session's follow link; its followers are told it ended."""
        ws = self._owner(key)
        if ws.saved.id is None or self.shares.token_of(ws.saved.id) is None:
            return "This session has no follow link."
        if not self.shelf.owns(ws, ws.saved.id):
            raise FollowRefused("only sessions made in this tab can stop being shared")
        self.shares.revoke(ws.saved.id)
        with self._lock:
            self._seen.pop(ws.saved.id, None)
        return "The follow link is ended: its followers see that it ended."

    def token(self, key: str) -> str | None:
        """The follow token of this tab's session, while it is shared."""
        ws = self.workspaces.peek(key)
        return None if ws is None else self.shares.token_of(ws.saved.id)

    def share_session(self, ws: Tab) -> str:
        """The follow token of a workspace the caller already holds by its id (the API's)."""
        if ws.saved.id is None:
            raise FollowRefused("this session has not been saved yet")
        return self.shares.share(ws.saved.id)

    def _owner(self, key: str) -> Tab:
        if key in self._followers:
            raise FollowRefused(READ_ONLY)
        ws = self.workspaces.peek(key)
        if ws is None:
            raise FollowRefused(LOST)
        return ws

    # ---- a follower -----------------------------------------------------------------------
    def watch(self, key: str, token: object) -> Frame:
        """This tab follows `token` from now on (read-only: it gets no workspace); its frame."""
        frame = self.frame(token)
        with self._lock:
            self._followers[key] = token if isinstance(token, str) else ""
        self.workspaces.refuse(key, READ_ONLY)
        return frame

    def following(self, key: str) -> str | None:
        """The token this tab follows, or None for a tab of its own."""
        return self._followers.get(key)

    def leave(self, key: str) -> None:
        """The tab closed: forget it."""
        with self._lock:
            if self._followers.pop(key, None) is None:
                return
        self.workspaces.allow(key)

    def copy_to_own(self, key: str) -> str:
        """End following in this tab: it gets a workspace of its own holding a copy of the
        followed session as saved now (turns, code, files), owned by it. A note for the user;
        the caller replays the copy to rebuild its variables."""
        token = self._followers.get(key)
        if token is None:
            raise FollowRefused("this tab follows no session")
        state, session_id = self.shares.lookup(token)
        if session_id is None:
            raise FollowRefused(f"{REASONS[state]} Nothing was copied.")
        try:
            self.shelf.store.info(session_id)
        except StoreError:
            raise FollowRefused(f"{REASONS[FollowState.DELETED]} Nothing was copied.") from None
        self.workspaces.allow(key)
        try:
            ws = self.workspaces.get(key)  # ServerBusy when no kernel can be had
            copy = self.shelf.store.duplicate(session_id)
        except UserError:
            self.workspaces.refuse(key, READ_ONLY)  # still following: try again later
            raise
        with self._lock:
            self._followers.pop(key, None)
        ws.ownership.owned.add(copy.id)
        self.shelf.open(ws, copy.id)
        return (
            f"This is your own copy, {copy.title!r}; its cells run again to rebuild its variables."
        )

    def read(self, token: object) -> tuple[str, tuple[Turn, ...]]:
        """The title and turns a follow link shows now; FollowRefused (one line) if none."""
        state, session_id = self.shares.lookup(token)
        if session_id is None:
            raise FollowRefused(REASONS[state])
        ws = self.workspaces.holding(session_id)
        if ws is not None:
            return ws.saved.title, tuple(ws.session.turns)
        try:
            title = self.shelf.store.info(session_id).title
        except StoreError:
            raise FollowRefused(REASONS[FollowState.DELETED]) from None
        return title, self._stored(session_id)

    # ---- frames ---------------------------------------------------------------------------
    def frame(self, token: object) -> Frame:
        """What a follower of `token` sees now; rendered again only when something changed."""
        state, session_id = self.shares.lookup(token)
        if session_id is None:
            return Frame(0, state)
        with self._lock:
            seen = self._seen.get(session_id)
            ws = self.workspaces.holding(session_id)
            if ws is not None:
                turns = tuple(ws.session.turns)
                source: tuple[object, ...] = ("live", ws.saved.title, ws.lock.locked())
            else:
                try:
                    info = self.shelf.store.info(session_id)
                except StoreError:
                    return self._keep(session_id, seen, Frame(0, FollowState.DELETED), (), ())
                source = ("saved", info.title, info.revision, info.error)
                if seen is not None and seen.source == source:
                    return seen.frame
                turns = self._stored(session_id)
            if seen is not None and seen.source == source and same_turns(seen.turns, turns):
                return seen.frame
            title = str(source[1])
            busy = source[0] == "live" and bool(source[2])
            frame = Frame(0, FollowState.LIVE, title, self._notebook(turns, busy), busy)
            return self._keep(session_id, seen, frame, turns, source)

    def _keep(
        self,
        session_id: str,
        seen: _Seen | None,
        frame: Frame,
        turns: tuple[Turn, ...],
        source: tuple[object, ...],
    ) -> Frame:
        if seen is not None and seen.frame.state == frame.state == FollowState.DELETED:
            return seen.frame
        self._versions += 1
        frame = Frame(self._versions, frame.state, frame.title, frame.html, frame.busy)
        self._seen[session_id] = _Seen(frame, turns, source)
        return frame

    def _stored(self, session_id: str) -> tuple[Turn, ...]:
        try:
            return tuple(self.shelf.store.load(session_id)[0])
        except StoreError:
            return ()

    def _notebook(self, turns: tuple[Turn, ...], busy: bool) -> str:
        active = next((i for i, t in enumerate(turns) if t.status in IN_FLIGHT), None)
        view = NotebookView(turns=turns, active=active, busy=busy, readonly=True)
        return self._render(view)
