"""HTTP to an OpenAI-compatible model server: JSON calls and one streamed completion.

Standard library only. `Endpoint` names the server (its `/v1` URL, the API key, one timeout);
`call` sends one JSON request and returns the decoded answer; `CompletionStream` posts a
streaming `/v1/completions` request and yields its server-sent events as dicts, from a reader
thread, so that the caller can stop it at any moment (Stop, a complete turn) by closing it:
the connection is shut, and the server sees the client go. Every failure is a `ServerError` with
one line for the user. It knows nothing of prompts, tokens or turns; the key is never put in a
message, a repr or a log.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from codegen_ui.engine.options import ModelLoadError
from codegen_ui.settings import DEFAULTS

_END = object()  # the reader thread's last item: the server closed the stream


class ServerError(ModelLoadError):
    """The model server is unreachable, refused the request, or broke off; one line."""


@dataclass(frozen=True)
class Endpoint:
    url: str  # the server's OpenAI base, ending in /v1
    api_key: str = field(default="", repr=False)  # sent as a bearer token; never shown
    timeout: float = DEFAULTS.server_timeout  # the longest wait for an answer or a token

    def connect(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.url)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        return cls(parts.hostname or "", parts.port, timeout=self.timeout)

    def headers(self) -> dict[str, str]:
        out = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            out["Authorization"] = f"Bearer {self.api_key}"
        return out


def _path(ep: Endpoint, path: str) -> str:
    """The request path of `path` ("/v1/models", or "/tokenize" at the server's root)."""
    return urlsplit(ep.url).path.rstrip("/").removesuffix("/v1") + path


def _send(ep: Endpoint, method: str, path: str, body: Any | None) -> tuple[Any, Any]:
    """Open a connection, send one request; the connection and its response (status checked)."""
    conn = ep.connect()
    data = None if body is None else json.dumps(body).encode()
    try:
        conn.request(method, _path(ep, path), body=data, headers=ep.headers())
        resp = conn.getresponse()
    except TimeoutError:
        conn.close()
        raise ServerError(
            f"the model server at {ep.url} did not answer within {ep.timeout:g} s"
        ) from None
    except OSError as exc:
        conn.close()
        why = exc.strerror or type(exc).__name__
        raise ServerError(f"cannot reach the model server at {ep.url} ({why})") from None
    if resp.status >= 400:
        detail = _detail(resp.read())
        conn.close()
        raise ServerError(explain_status(ep, resp.status, detail))
    return conn, resp


def call(ep: Endpoint, method: str, path: str, body: Any | None = None) -> Any:
    """One JSON request; the decoded answer. Raises ServerError."""
    conn, resp = _send(ep, method, path, body)
    try:
        return json.loads(resp.read())
    except (OSError, ValueError) as exc:
        raise ServerError(f"the model server at {ep.url} sent a broken answer ({exc})") from None
    finally:
        conn.close()


def _detail(raw: bytes) -> str:
    """The error text of a server's error body (OpenAI, FastAPI, vLLM and TGI shapes)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace").strip()
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message", value)
            if value:
                return str(value)
    return str(body)


def explain_status(ep: Endpoint, status: int, detail: str) -> str:
    first = detail.strip().splitlines()[0][:200] if detail.strip() else "no detail"
    if status in (401, 403):
        return (
            f"the model server at {ep.url} refused the API key (HTTP {status}); "
            "set CODEGEN_UI_API_KEY to the server's key"
        )
    if status == 404 and "model" in detail.lower():
        return f"the model server at {ep.url} does not serve that model ({first})"
    return f"the model server at {ep.url} answered HTTP {status}: {first}"


class CompletionStream:
    """One streamed completion: iterate for event dicts; `close` ends it at once."""

    def __init__(self, ep: Endpoint, body: dict[str, Any]) -> None:
        self.ep = ep
        self._conn, resp = _send(ep, "POST", "/v1/completions", {**body, "stream": True})
        self._items: queue.Queue[Any] = queue.Queue()
        self._closed = threading.Event()
        self.done = False  # the server sent its last event ([DONE] or a finish reason)
        self._reader = threading.Thread(target=self._read, args=(resp,), daemon=True, name="sse")
        self._reader.start()

    def _read(self, resp: Any) -> None:
        try:
            for raw in resp:
                line = raw.decode("utf-8", errors="replace").strip()
                if line.startswith("data:"):
                    self._items.put(line[5:].strip())
        except Exception as exc:  # a broken or shut connection, in any of http.client's ways
            self._items.put(exc)
        self._items.put(_END)

    def events(self, cancel: threading.Event | None = None) -> Iterator[dict[str, Any]]:
        """Yield each event; return early when `cancel` is set; ServerError on a broken stream."""
        last = time.monotonic()
        while True:
            if cancel is not None and cancel.is_set():
                return
            try:
                item = self._items.get(timeout=0.05)
            except queue.Empty:
                if time.monotonic() - last > self.ep.timeout:
                    raise self._silent() from None
                continue
            last = time.monotonic()
            if isinstance(item, TimeoutError):  # the reader's socket waited as long
                raise self._silent()
            if item is _END or isinstance(item, Exception):
                if self.done or self._closed.is_set():
                    return
                raise ServerError(
                    f"the model server at {self.ep.url} broke off the stream mid-turn"
                )
            if item == "[DONE]":
                self.done = True
                return
            event = self._decode(item)
            if event is not None:
                yield event

    def _silent(self) -> ServerError:
        return ServerError(
            f"the model server at {self.ep.url} sent nothing for {self.ep.timeout:g} s; "
            "the turn stops here"
        )

    def _decode(self, item: str) -> dict[str, Any] | None:
        try:
            event = json.loads(item)
        except ValueError:
            return None
        if not isinstance(event, dict):
            return None
        if "error" in event and not event.get("choices"):
            raise ServerError(
                f"the model server at {self.ep.url} failed mid-turn: {_detail(item.encode())}"
            )
        if any(c.get("finish_reason") for c in event.get("choices", ())):
            self.done = True
        return event

    def close(self) -> None:
        """Shut the connection; the reader thread ends, the server sees the client leave."""
        self._closed.set()
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # wakes the reader: its read sees the end
                sock.shutdown(socket.SHUT_RDWR)
        self._reader.join(timeout=self.ep.timeout)
        self._conn.close()

    def __enter__(self) -> CompletionStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
