"""Follow links, as data: their tokens, which session each one follows, and what a follower sees.

A follow link names a session by a token of its own (`new_token`): unguessable, distinct in form
from a session's id (which is the capability to change the session; a follow token fails
`check_id`, so no door that writes can take one for an id) and from any other capability.
`Shares` is the registry, one token per shared session: `share` makes one (or returns the one
already given), `revoke` ends it, and `lookup` says what a token names now. `Frame` is what a
follower is shown at one moment, numbered so a transport sends only what is newer; `same_turns`
tells whether a notebook changed since the last frame (turns are immutable, so identity is
enough) and `event_stream` writes a frame as one server-sent event. All of it is pure or a small
locked dict: no Gradio, no kernels, no HTML; `web.follow` puts it to work.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from codegen_ui.errors import UserError

TOKEN_PREFIX = "~"  # not a character a session id may hold: a token is never taken for an id
TOKEN_PATTERN = re.compile(r"~[A-Za-z0-9_-]{32}")
MAX_ENDED = 10_000  # revoked tokens remembered (to say "ended" rather than "no such link")


class FollowState(StrEnum):
    """What a follow link shows: the notebook, or one line saying why not."""

    LIVE = "live"  # the session, as it changes
    ENDED = "ended"  # its owner stopped sharing it
    DELETED = "deleted"  # the session was deleted
    UNKNOWN = "unknown"  # a well-formed token that was never given here
    MALFORMED = "malformed"  # not a follow token at all


# One line each, shown in place of the notebook.
REASONS = {
    FollowState.ENDED: "This follow link was ended by the session's owner.",
    FollowState.DELETED: "The session this link follows was deleted.",
    FollowState.UNKNOWN: "No session is shared under this follow link.",
    FollowState.MALFORMED: "That is not a follow link.",
}


class FollowRefused(UserError, PermissionError):
    """A follow link cannot be used for what was asked (it is wrong, or ended, or read-only)."""


def new_token() -> str:
    """A fresh follow token: `~` and 32 URL-safe characters (192 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(24)


def is_token(text: object) -> bool:
    return isinstance(text, str) and TOKEN_PATTERN.fullmatch(text) is not None


@dataclass(frozen=True)
class Frame:
    """What a follower is shown at one moment. `version` grows with every change."""

    version: int
    state: FollowState
    title: str = ""
    html: str = ""  # the notebook, read-only; "" unless live
    busy: bool = False  # the owner's action is under way

    @property
    def line(self) -> str:
        """The one line shown instead of the notebook; "" while live."""
        return REASONS.get(self.state, "")

    def as_json(self) -> str:
        fields = {"version": self.version, "state": self.state.value, "title": self.title}
        return json.dumps({**fields, "html": self.html, "busy": self.busy, "line": self.line})


def event_stream(frame: Frame) -> bytes:
    """The frame as one server-sent event (its id is the version: a client that reconnects
    says which it has). JSON holds no raw newline, so the data is one line."""
    return f"id: {frame.version}\nevent: frame\ndata: {frame.as_json()}\n\n".encode()


def same_turns(before: Sequence[object], now: Sequence[object]) -> bool:
    """Whether a notebook is unchanged: the same turn objects in the same order. A turn is
    immutable and replaced by a new one on every change, so identity is the test; the caller
    keeps `before` alive, so no identity is reused meanwhile."""
    return len(before) == len(now) and all(a is b for a, b in zip(before, now, strict=True))


class Shares:
    """The follow links given out: token to session id and back, and those ended."""

    def __init__(self) -> None:
        self._by_token: dict[str, str] = {}
        self._by_session: dict[str, str] = {}
        self._ended: dict[str, None] = {}  # insertion-ordered: the oldest are forgotten first
        self._lock = threading.Lock()

    def share(self, session_id: str) -> str:
        """The session's follow token: the one it has, or a new one."""
        with self._lock:
            token = self._by_session.get(session_id)
            if token is None:
                token = new_token()
                self._by_session[session_id] = token
                self._by_token[token] = session_id
            return token

    def token_of(self, session_id: str | None) -> str | None:
        return None if session_id is None else self._by_session.get(session_id)

    def revoke(self, session_id: str) -> str | None:
        """End the session's follow link; the token it had, or None when it had none."""
        with self._lock:
            token = self._by_session.pop(session_id, None)
            if token is None:
                return None
            del self._by_token[token]
            self._ended[token] = None
            while len(self._ended) > MAX_ENDED:
                del self._ended[next(iter(self._ended))]
            return token

    def lookup(self, token: object) -> tuple[FollowState, str | None]:
        """(LIVE, session id) for a token in use; otherwise why not, and None."""
        if not is_token(token):
            return FollowState.MALFORMED, None
        assert isinstance(token, str)
        session_id = self._by_token.get(token)
        if session_id is not None:
            return FollowState.LIVE, session_id
        if token in self._ended:
            return FollowState.ENDED, None
        return FollowState.UNKNOWN, None

    def active(self) -> dict[str, str]:
        """Every token in use, with its session id."""
        with self._lock:
            return dict(self._by_token)
