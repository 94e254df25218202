"""One run's messages: wait for the end of an execute request and turn its IOPub messages into
nbformat outputs, with caps so a flood cannot swamp the server.

Messages become outputs through nbformat's own `output_from_msg` (what you run is what you save).
Consecutive writes to one stream merge into one output. Past the caps, stream text keeps its head
and its tail around a marker that says how much was dropped; outputs past the count cap and
oversized images or HTML are replaced by a short note. `wait_idle` and `execute_reply` read one
request's messages from any client with jupyter-client's `get_iopub_msg` / `get_shell_msg`;
`wait_idle` also stops for a run's folder watch (`watch.FolderWatch`), polling its inotify
descriptor together with the kernel's messages. What a run returns, and what a failure does to
it, is `cellrun.py`'s. It does not start or stop a kernel.
"""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from codegen_ui.core import Output, stream_output
from codegen_ui.kernel.sandbox import OutputCaps

KINDS = ("stream", "display_data", "execute_result", "error")
POLL_S = 0.25  # how often a waiting run checks that the kernel is still alive
WATCH_POLL_S = 0.005  # between two measures of a folder that keeps changing


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n / 1024:.0f} KiB"


class Collector:
    """Collects one run. Call `add` per message, then `finish` for the final outputs."""

    def __init__(
        self, caps: OutputCaps | None = None, on_output: Callable[[Output], None] | None = None
    ) -> None:
        import nbformat.v4  # noqa: F401  (here, before the cell starts: not while a watch waits)

        self.caps = caps or OutputCaps()
        self.on_output = on_output
        self._reset()

    def _reset(self) -> None:
        self.outputs: list[Output] = []
        self._parts: dict[int, list[str]] = {}  # output index -> stream text pieces
        self._text = 0  # stream characters kept at the head
        self._tail: deque[tuple[str, str]] = deque()  # (stream name, text) past the head
        self._tail_chars = 0
        self._dropped_chars = 0
        self._dropped_outputs = 0
        self._rich = 0  # characters of rich (non-text/plain) data kept
        self._clear_pending = False
        self._warned = False

    def add(self, msg: dict[str, Any]) -> None:
        from nbformat.v4 import output_from_msg

        kind = msg["header"]["msg_type"]
        if kind == "clear_output":
            if msg["content"].get("wait"):
                self._clear_pending = True
            else:
                self._reset()
            return
        if kind not in KINDS:
            return
        if self._clear_pending:
            self._reset()
        if kind == "stream":
            self._add_text(msg["content"].get("name", "stdout"), msg["content"].get("text", ""))
            return
        out = output_from_msg(msg)
        if kind != "error":
            self._cap_data(out)
        self._append(out)

    def _add_text(self, name: str, text: str) -> None:
        head_room = self.caps.text_bytes // 2 - self._text
        if head_room > 0:
            kept = text[:head_room]
            self._text += len(kept)
            self._append_text(name, kept)
            text = text[len(kept) :]
        if not text:
            return
        if not self._warned:
            self._warned = True
            if self.on_output is not None:
                note = (
                    f"[output is over {_size(self.caps.text_bytes)}: its head and tail are kept]\n"
                )
                self.on_output(stream_output("stderr", note))
        self._tail.append((name, text))
        self._tail_chars += len(text)
        budget = self.caps.text_bytes - self.caps.text_bytes // 2
        while self._tail_chars > budget:  # drop from the front of the tail, whole or in part
            first_name, first = self._tail[0]
            cut = min(len(first), self._tail_chars - budget)
            if cut == len(first):
                self._tail.popleft()
            else:
                self._tail[0] = (first_name, first[cut:])
            self._dropped_chars += cut
            self._tail_chars -= cut

    def _append_text(self, name: str, text: str) -> None:
        last = len(self.outputs) - 1
        if last >= 0 and last in self._parts and self.outputs[last]["name"] == name:
            self._parts[last].append(text)  # merge consecutive writes to one stream
            if self.on_output is not None:
                self.on_output(stream_output(name, text))
            return
        if self._append(stream_output(name, text)):
            self._parts[len(self.outputs) - 1] = [text]

    def _append(self, out: Output) -> bool:
        if len(self.outputs) >= self.caps.outputs:
            self._dropped_outputs += 1
            return False
        self.outputs.append(out)
        if self.on_output is not None:
            self.on_output(out)
        return True

    def _cap_data(self, out: Output) -> None:
        data = out.get("data", {})
        for mime in [m for m in data if m != "text/plain"]:
            size = len(str(data[mime]))
            if size > self.caps.image_bytes:
                why = f"over the {_size(self.caps.image_bytes)} cap"
            elif self._rich + size > self.caps.rich_bytes:
                why = f"this cell's rich outputs are over {_size(self.caps.rich_bytes)}"
            else:
                self._rich += size
                continue
            del data[mime]
            data["text/plain"] = f"[{mime} output of {_size(size)} not shown: {why}]"

    def finish(self) -> list[Output]:
        """The run's outputs: merged streams, then the kept tail and notes of what was dropped."""
        outs = list(self.outputs)
        for index, parts in self._parts.items():
            outs[index] = stream_output(outs[index]["name"], "".join(parts))
        if self._dropped_chars:
            marker = (
                f"\n[... {self._dropped_chars:,} characters of output dropped: a cell may print "
                f"at most {_size(self.caps.text_bytes)}; the head and the tail are kept ...]\n"
            )
            outs.append(stream_output("stderr", marker))
        runs: list[tuple[str, list[str]]] = []  # the tail grouped by stream, joined once
        for name, text in self._tail:
            if runs and runs[-1][0] == name:
                runs[-1][1].append(text)
            else:
                runs.append((name, [text]))
        for name, parts in runs:
            last = outs[-1] if outs else None
            if last is not None and last["output_type"] == "stream" and last["name"] == name:
                outs[-1] = stream_output(name, last["text"] + "".join(parts))
            else:
                outs.append(stream_output(name, "".join(parts)))
        if self._dropped_outputs:
            note = f"[{self._dropped_outputs} more outputs dropped: at most {self.caps.outputs}]\n"
            outs.append(stream_output("stderr", note))
        return outs


def wait_idle(
    client: Any,
    msg_id: str,
    deadline: float,
    collect: Collector | None,
    alive: Callable[[], bool],
    watch: Callable[[], str] | None = None,
) -> str:
    """Feed `msg_id`'s IOPub messages to `collect` until the kernel is idle again.

    Returns "idle", "timeout", "died", or "quota" once `watch` (asked on every message and
    poll) gives a reason to stop the cell. A kernel that dies before its "busy" status arrives
    died running this cell too (`os._exit` can beat the message out): running the cell again to
    tell the two apart would run the user's code twice.
    """
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        if watch is not None and watch():
            return "quota"
        try:
            msg = _next_msg(client, min(POLL_S, remaining), watch)
        except queue.Empty:
            if not alive():
                return "died"
            continue
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["header"]["msg_type"] == "status":
            if msg["content"]["execution_state"] == "idle":
                return "idle"
            continue
        if collect is not None:
            collect.add(msg)


def _next_msg(client: Any, timeout: float, watch: Callable[[], str] | None) -> dict[str, Any]:
    """The next IOPub message; queue.Empty also as soon as the folder `watch` has news.

    The kernel's IOPub socket and the watch's inotify descriptor are polled together, so a
    write wakes the wait at once and a quiet cell costs no wake-ups (`FolderWatch.fd`)."""
    fd = getattr(watch, "fd", None)
    socket = getattr(getattr(client, "iopub_channel", None), "socket", None)
    if watch is not None and getattr(watch, "pending", False):
        timeout = min(timeout, WATCH_POLL_S)  # changes seen, not measured yet
    if fd is None or socket is None:
        if watch is not None and fd is None:
            timeout = min(timeout, WATCH_POLL_S)  # no inotify: poll the folder
        return dict(client.get_iopub_msg(timeout=timeout))
    import zmq

    poller = zmq.Poller()
    poller.register(socket, zmq.POLLIN)
    poller.register(fd, zmq.POLLIN)
    ready = dict(poller.poll(int(timeout * 1000)))
    if socket in ready:
        return dict(client.get_iopub_msg(timeout=0))
    raise queue.Empty


def execute_reply(client: Any, msg_id: str) -> dict[str, Any]:
    """The execute_reply's content (execution count, payloads), or {} if none came."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            reply = client.get_shell_msg(timeout=1)
        except queue.Empty:
            return {}
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            return dict(reply["content"])
    return {}
