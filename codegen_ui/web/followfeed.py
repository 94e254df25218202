"""Follow links over HTTP: each follower's live notebook as server-sent events, and a snapshot.

`Feed` watches, in one thread, every follow link that has a follower: every `POLL_S` it asks
`Follow.frame` (which renders again only after a change) and hands a newer frame, encoded once,
to every stream of that link; a slow follower gets the latest frame, never a backlog. A stream is
a coroutine waiting on an event: no thread, no Gradio queue slot and no kernel per follower, so a
class of thirty costs the server one render per change and thirty socket writes. `routes` are the
HTTP routes the app serves beside Gradio's, and they only read:

- `GET /follow/{token}/events`: `text/event-stream`, one `frame` event per change (its id is the
  frame's version: a reconnecting client sends `Last-Event-ID` and is not sent that one again),
  a comment every `KEEPALIVE_S` while nothing changes; it ends after a frame that is not live
  (the link ended, the session was deleted, the token is wrong).
- `GET /follow/{token}`: the current frame as JSON, its version as the ETag (304 when unchanged).

What a frame holds and who may follow is `web.follow`'s; this module only carries frames.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from codegen_ui.web.follow import Follow
from codegen_ui.web.sharing import FollowState, Frame, event_stream

log = logging.getLogger(__name__)

POLL_S = 0.25  # how often a followed session is looked at: a change waits at most this long,
# and a streaming turn is rendered for followers at most 4 times a second
KEEPALIVE_S = 15.0  # a comment this often keeps idle proxies from closing a quiet stream
EVENTS_PATH = "/follow/{token}/events"
SNAPSHOT_PATH = "/follow/{token}"


class _Channel:
    """One follow link's latest frame, encoded, and the streams waiting for the next."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.data = event_stream(frame)
        self.waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()


class Feed:
    """Frames of the followed sessions, pushed to their followers' streams."""

    def __init__(
        self, follow: Follow, poll_s: float = POLL_S, keepalive_s: float = KEEPALIVE_S
    ) -> None:
        self.follow = follow
        self.poll_s = poll_s
        self.keepalive_s = keepalive_s
        self._channels: dict[str, _Channel] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def followers(self, token: str) -> int:
        """How many streams follow this link now."""
        channel = self._channels.get(token)
        return 0 if channel is None else len(channel.waiters)

    async def events(self, token: str, last_id: str | None = None) -> AsyncIterator[bytes]:
        """The server-sent events of one follower, until the link stops being live."""
        frame = self.follow.frame(token)
        if frame.state != FollowState.LIVE:
            yield event_stream(frame)
            return
        if last_id != str(frame.version):
            yield event_stream(frame)
        loop, wake = asyncio.get_running_loop(), asyncio.Event()
        channel = self._join(token, frame, (loop, wake))
        sent = frame.version
        try:
            while True:
                try:
                    await asyncio.wait_for(wake.wait(), self.keepalive_s)
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                wake.clear()
                frame, data = channel.frame, channel.data
                if frame.version == sent and frame.state == FollowState.LIVE:
                    continue
                sent = frame.version
                yield data
                if frame.state != FollowState.LIVE:
                    return
        finally:
            self._part(token, (loop, wake))

    def _join(
        self, token: str, frame: Frame, waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event]
    ) -> _Channel:
        with self._lock:
            channel = self._channels.get(token)
            if channel is None:  # else the thread brings it up to date, waking every stream
                channel = self._channels[token] = _Channel(frame)
            channel.waiters.add(waiter)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="follow")
                self._thread.start()
        return channel

    def _part(self, token: str, waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            channel = self._channels.get(token)
            if channel is not None:
                channel.waiters.discard(waiter)
                if not channel.waiters:
                    del self._channels[token]

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            with self._lock:
                channels = list(self._channels.items())
            for token, channel in channels:
                try:
                    self._look(token, channel)
                except Exception:  # one link's failure must not stop the others'
                    log.exception("a follow link could not be looked at")

    def _look(self, token: str, channel: _Channel) -> None:
        frame = self.follow.frame(token)
        if frame.version == channel.frame.version and frame.state == channel.frame.state:
            return
        data = event_stream(frame)
        with self._lock:
            channel.frame, channel.data = frame, data
            waiters = list(channel.waiters)
        for loop, wake in waiters:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # that stream's loop has closed
                continue

    def stop(self) -> None:
        self._stop.set()


def routes(feed: Feed) -> list[Any]:
    """The follow routes, as Starlette routes for the app (`launch` passes them to FastAPI)."""
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    async def events(request: Request) -> Response:
        token = request.path_params["token"]
        stream = feed.events(token, request.headers.get("last-event-id"))
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    async def snapshot(request: Request) -> Response:
        frame = feed.follow.frame(request.path_params["token"])
        etag = f'"{frame.state.value}-{frame.version}"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(frame.as_json(), media_type="application/json", headers=headers)

    return [
        Route(EVENTS_PATH, events, methods=["GET"]),
        Route(SNAPSHOT_PATH, snapshot, methods=["GET"]),
    ]
