"""Talking to a Jupyter (Enterprise) Gateway: its REST calls and one kernel's websocket channels.

`Gateway` starts, interrupts, restarts, looks up and deletes kernels through the gateway's REST
API (`/api/kernels`), with `requests`; `Channels` is one kernel's `/channels` websocket (the
JSON form of the Jupyter protocol, with `websocket-client`), read by a thread that sorts each
message into its channel's queue and notices when the socket closes or the kernel restarts
under us. Every failure of the gateway itself (not there, a refused token, an unexpected answer)
becomes one `GatewayError` line that names the gateway and never the token. The token goes in
the `Authorization` header and nowhere else: not in a URL, a message, a log line or a kernel's
environment. This module knows nothing of outputs, deadlines or folders (`gateway.py` does).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from codegen_ui.core import KernelError
from codegen_ui.errors import first_line
from codegen_ui.settings import DEFAULTS, Settings

log = logging.getLogger("codegen_ui.kernel")
TOKEN_VAR = "CODEGEN_UI_GATEWAY_TOKEN"
KERNEL_USER = "codegen-ui"
CHANNELS = ("shell", "iopub", "stdin", "control")


class GatewayError(KernelError):
    """The kernel gateway is not there, refused the token, or answered something unusable."""


class KernelGone(GatewayError):
    """The gateway does not know this kernel (it restarted, or culled the kernel)."""


@dataclass(frozen=True)
class GatewayConfig:
    """Where the gateway is, the kernel spec to ask it for, and its token (kept out of repr)."""

    url: str
    kernel_spec: str = DEFAULTS.kernel_spec
    token: str = field(default="", repr=False)
    request_timeout: float = 30.0  # seconds for one REST call or the websocket's handshake

    @classmethod
    def from_settings(cls, s: Settings, env: Mapping[str, str] | None = None) -> GatewayConfig:
        env = os.environ if env is None else env
        return cls(s.kernels.rstrip("/"), s.kernel_spec, env.get(TOKEN_VAR, ""))

    @property
    def where(self) -> str:
        """The gateway as the messages name it: scheme, host and port (no path, no query)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"} if self.token else {}


def _reason(exc: BaseException) -> str:
    """A short reason for a connection failure (the deepest cause's message, one line)."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        nxt = exc.__cause__ or exc.__context__
        assert nxt is not None
        exc = nxt
    text = first_line(exc)
    for cut in ("Errno 111] ", "Errno 99] "):
        if cut in text:
            text = text.split(cut, 1)[1]
    return text.strip("'\" ()>")[:120] or type(exc).__name__


class Gateway:
    """The gateway's REST API for kernels. Thread-safe (one requests.Session, used with care)."""

    def __init__(self, config: GatewayConfig) -> None:
        import requests

        self.config = config
        self._http = requests.Session()
        self._http.headers.update(config.headers())
        self._http.trust_env = False  # no proxy or netrc from the environment changes the target

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One REST call; the decoded JSON answer (None when empty). Raises GatewayError."""
        import requests

        where = self.config.where
        try:
            response = self._http.request(
                method, self.config.url + path, json=body, timeout=self.config.request_timeout
            )
        except requests.RequestException as exc:
            raise GatewayError(
                f"the kernel gateway at {where} cannot be reached ({_reason(exc)})"
            ) from None
        if response.status_code in (401, 403) and not _message(response):
            raise GatewayError(
                f"the kernel gateway at {where} refused the token (HTTP {response.status_code}); "
                f"set {TOKEN_VAR} to its token"
            )
        if response.status_code == 404 and path.startswith("/api/kernels/"):
            raise KernelGone(f"the kernel gateway at {where} no longer has this kernel")
        if response.status_code >= 400:
            raise GatewayError(
                f"the kernel gateway at {where} answered HTTP {response.status_code} to "
                f"{method} {path.split('/')[-1] or path}: {_said(response)}"
            )
        return response.json() if response.content else None

    def start(self, spec: str) -> str:
        """A new kernel of `spec`; returns its id. Nothing of the app's environment is sent."""
        # KERNEL_USERNAME: the user Enterprise Gateway starts (and authorizes) kernels for.
        env = {"KERNEL_USERNAME": KERNEL_USER}
        model = self.call("POST", "/api/kernels", {"name": spec, "env": env})
        if not isinstance(model, dict) or not isinstance(model.get("id"), str):
            raise GatewayError(f"the kernel gateway at {self.config.where} started no kernel")
        return str(model["id"])

    def kernel(self, kernel_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/api/kernels/{quote(kernel_id)}") or {})

    def interrupt(self, kernel_id: str) -> None:
        self.call("POST", f"/api/kernels/{quote(kernel_id)}/interrupt", {})

    def restart(self, kernel_id: str) -> None:
        self.call("POST", f"/api/kernels/{quote(kernel_id)}/restart", {})

    def delete(self, kernel_id: str) -> None:
        self.call("DELETE", f"/api/kernels/{quote(kernel_id)}")

    def specs(self) -> list[str]:
        answer = self.call("GET", "/api/kernelspecs") or {}
        return sorted(answer.get("kernelspecs", {}))

    def channels(self, kernel_id: str) -> Channels:
        parts = urlsplit(self.config.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        url = f"{scheme}://{parts.netloc}{parts.path}/api/kernels/{quote(kernel_id)}/channels"
        return Channels(url, self.config)

    def close(self) -> None:
        self._http.close()


def _message(response: Any) -> str:
    """The `message` of a gateway's JSON error answer, on one line ("" when none)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return " ".join(str(body.get("message") or "").split())[:160] if isinstance(body, dict) else ""


def _said(response: Any) -> str:
    """What a gateway's error answer says, on one line."""
    return _message(response) or response.reason or "no reason given"


class Channels:
    """One kernel's websocket: send requests, read each channel's messages from its queue.

    `lost` is set when the socket closes (the gateway died or dropped the kernel); `restarted`
    when the gateway says the kernel is restarting or dead (it died and the gateway's own
    restarter took over): either way the running cell is gone.
    """

    def __init__(self, url: str, config: GatewayConfig) -> None:
        import websocket
        from jupyter_client.session import Session

        self.lost = threading.Event()
        self.restarted = threading.Event()
        self.queues: dict[str, queue.Queue[dict[str, Any]]] = {c: queue.Queue() for c in CHANNELS}
        # Only its message headers are used: the JSON on the websocket carries no signature,
        # the gateway signs what it passes on (a key here just keeps Session from warning).
        self._session = Session(key=secrets.token_bytes(16), username=KERNEL_USER)
        header = [f"{k}: {v}" for k, v in config.headers().items()]
        try:
            self._ws = websocket.create_connection(
                url,
                header=header,
                timeout=config.request_timeout,
                enable_multithread=True,
                # Its UTF-8 check is a byte-by-byte Python loop (7x slower reading files back,
                # measured); decoding the text for JSON checks it anyway.
                skip_utf8_validation=True,
            )
        except websocket.WebSocketBadStatusException as exc:
            code = getattr(exc, "status_code", 0)
            if code in (401, 403):
                raise GatewayError(
                    f"the kernel gateway at {config.where} refused the token (HTTP {code}); "
                    f"set {TOKEN_VAR} to its token"
                ) from None
            raise GatewayError(
                f"the kernel gateway at {config.where} refused the kernel's channels (HTTP {code})"
            ) from None
        except (OSError, websocket.WebSocketException) as exc:
            raise GatewayError(
                f"the kernel gateway at {config.where} cannot be reached ({_reason(exc)})"
            ) from None
        self._ws.settimeout(None)  # the reader blocks until a message or the socket's end
        self._reader = threading.Thread(target=self._read, daemon=True, name="gateway-channels")
        self._reader.start()

    def _read(self) -> None:
        try:
            while True:
                raw = self._ws.recv()
                if not raw:
                    return
                msg = json.loads(raw)
                # The gateway's own notice (no parent): the kernel died under us.
                if msg.get("msg_type") == "status" and not msg.get("parent_header"):
                    state = msg["content"].get("execution_state")
                    if state in ("restarting", "dead"):
                        self.restarted.set()
                box = self.queues.get(str(msg.get("channel")))
                if box is not None:
                    box.put(msg)
        except Exception as exc:  # the socket closed or broke: the kernel is out of reach
            log.debug("gateway channels closed: %s", type(exc).__name__)
        finally:
            self.lost.set()

    def send(
        self,
        channel: str,
        msg_type: str,
        content: dict[str, Any],
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Send one request; returns its msg_id (replies carry it as their parent's)."""
        import websocket
        from jupyter_client.jsonutil import json_default

        msg = self._session.msg(msg_type, content)
        wire = {
            "header": msg["header"],
            "parent_header": {},
            "metadata": metadata or {},
            "content": content,
            "channel": channel,
            "buffers": [],
        }
        try:
            self._ws.send(json.dumps(wire, default=json_default))
        except (OSError, websocket.WebSocketException):
            self.lost.set()
        return str(msg["header"]["msg_id"])

    def reply(self, channel: str, msg_id: str, timeout: float) -> dict[str, Any] | None:
        """The reply to `msg_id` on `channel`, or None past `timeout` or when the socket closed."""
        import time

        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = self.queues[channel].get(timeout=min(0.25, left))
            except queue.Empty:
                if self.lost.is_set():
                    return None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg
        return None

    # What `outputs.wait_idle` and `outputs.execute_reply` read, as a jupyter-client client.
    def execute(self, code: str, allow_stdin: bool = False, store_history: bool = True) -> str:
        content = {
            "code": code,
            "silent": False,
            "store_history": store_history,
            "user_expressions": {},
            "allow_stdin": allow_stdin,
            "stop_on_error": True,
        }
        return self.send("shell", "execute_request", content)

    def get_iopub_msg(self, timeout: float) -> dict[str, Any]:
        return self.queues["iopub"].get(timeout=timeout)

    def get_shell_msg(self, timeout: float) -> dict[str, Any]:
        return self.queues["shell"].get(timeout=timeout)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already closed, or the gateway is gone
            self._ws.close(timeout=1)
        self._reader.join(timeout=2)
