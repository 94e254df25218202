"""The engine thread: every forward pass of the model runs here, for all sessions at once.

Callers on any thread `submit` a prompt and read Delta/Finished events (or an exception) from
the request's own queue. The thread admits requests in arrival order, up to `batch_size` at
once (continuous batching: requests join and leave between steps). Each turn of its loop feeds
one chunk of the oldest admitted prompt (`prefill_chunk` tokens, so a long history does not
stall the others), then one decode step for every request that is writing, in one forward pass.
A request stops on the rule of its own prompt format (`turn_complete`: the paper's cut, or
the chat answer's closing fence), end of text (in chat also the template's end-of-turn token),
its token limit, the end of the context, or its cancel event; its KV cache then goes back to
the backend's store.

A failure ends only the request it belongs to: when a batched step fails, every row's cache is
cropped back to what it held before the step and the rows are retried one by one. Torch-level
work is in `codegen_ui.engine.forward`, caches and token ids in the backend (`hf`).
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from codegen_ui.core import Delta, Finished, SamplingParams, StopReason, turn_complete
from codegen_ui.engine.forward import Forward
from codegen_ui.engine.kvcache import crop_to
from codegen_ui.settings import DEFAULTS

log = logging.getLogger(__name__)


class Backend(Protocol):
    forward: Forward
    eos_ids: frozenset[int]
    turn_end_ids: frozenset[int]  # the chat template's end-of-turn token(s), beside eos_ids
    byte_ids: frozenset[int]  # byte-fallback tokens: the text of a run of them is not final
    context_size: int

    def open(self, prompt: str) -> tuple[list[int], Any, int]: ...
    def close_request(self, ids: list[int], cache: Any, prompt_len: int, read: int) -> None: ...
    def completion_text(self, ids: list[int], prompt_len: int) -> str: ...


@dataclass(eq=False)
class Request:
    """One generation; the engine thread alone touches its fields after `submit`."""

    prompt: str
    params: SamplingParams
    cancel: threading.Event
    prompt_format: str = "paper"  # whose stop rule ends it (`core.formats.turn_complete`)
    events: queue.Queue[Any] = field(default_factory=queue.Queue)
    submitted: float = field(default_factory=time.perf_counter)
    abandoned: bool = False  # the caller stopped reading
    ids: list[int] = field(default_factory=list)  # prompt ids, then generated ones
    prompt_len: int = 0
    read: int = 0  # how many of `ids` the cache holds
    cache: Any = None
    reused: int = 0
    generator: Any = None
    next_token: int = -1  # picked, not yet fed
    text: str = ""
    first_token_s: float = 0.0

    @property
    def stopped(self) -> bool:
        return self.abandoned or self.cancel.is_set()


class EngineThread:
    def __init__(
        self, backend: Backend, batch_size: int = DEFAULTS.batch_size, prefill_chunk: int = 128
    ) -> None:
        self.backend = backend
        self.batch_size = max(1, batch_size)
        self.prefill_chunk = max(1, prefill_chunk)
        self._inbox: queue.Queue[Request | None] = queue.Queue()
        self._waiting: collections.deque[Request] = collections.deque()
        self._prefilling: list[Request] = []
        self._decoding: list[Request] = []
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.steps = 0  # decode steps run
        self.rows = 0  # rows over all decode steps (rows / steps is the mean batch)

    # ---- any thread --------------------------------------------------------------------
    def submit(
        self,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event,
        prompt_format: str = "paper",
    ) -> Request:
        request = Request(prompt, params, cancel, prompt_format)
        self._ensure_thread()
        self._inbox.put(request)
        return request

    def counts(self) -> tuple[int, int]:
        """(writing, waiting): admitted requests, and those queued behind them."""
        writing = len(self._prefilling) + len(self._decoding)
        return writing, len(self._waiting) + self._inbox.qsize()

    def close(self) -> None:
        if self._thread is not None:
            self._inbox.put(None)
            self._thread.join(timeout=30)

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, daemon=True, name="engine-thread"
                )
                self._thread.start()

    # ---- the engine thread ---------------------------------------------------------------
    def _loop(self) -> None:
        self.backend.forward.enter_thread()
        while self._take_inbox(block=not (self._prefilling or self._decoding or self._waiting)):
            try:
                self._admit()
                if self._prefilling:
                    self._prefill(self._prefilling[0])
                if self._decoding:
                    self._decode_step()
            except Exception as exc:  # a bug in the loop itself: end what is in flight, go on
                log.exception("engine step failed")
                for request in [*self._prefilling, *self._decoding]:
                    self._fail(request, exc)
                self._prefilling.clear()
                self._decoding.clear()

    def _take_inbox(self, block: bool) -> bool:
        """Move submitted requests to the waiting line; False once closed."""
        try:
            item = self._inbox.get(block=block)
            while True:
                if item is None:
                    return False
                self._waiting.append(item)
                item = self._inbox.get_nowait()
        except queue.Empty:
            return True

    def _admit(self) -> None:
        while self._waiting and len(self._prefilling) + len(self._decoding) < self.batch_size:
            request = self._waiting.popleft()
            if request.stopped:
                self._finish(request, "cancelled")
                continue
            try:
                self._open(request)
            except Exception as exc:
                self._fail(request, exc)
                continue
            self._prefilling.append(request)

    def _open(self, r: Request) -> None:
        r.ids, r.cache, r.reused = self.backend.open(r.prompt)
        r.read, r.prompt_len = r.reused, len(r.ids)
        if r.prompt_len >= self.backend.context_size:
            raise ValueError(
                f"the prompt has {r.prompt_len} tokens; the model's context holds "
                f"{self.backend.context_size}"
            )
        r.generator = self.backend.forward.generator(r.params.seed)

    def _prefill(self, r: Request) -> None:
        if r.stopped:
            self._prefilling.remove(r)
            self._finish(r, "cancelled")
            return
        end = min(r.read + self.prefill_chunk, r.prompt_len)
        try:
            logits = self.backend.forward.prefill(r.cache, r.ids[r.read : end])
            r.read = end
            done = end == r.prompt_len
            token = self.backend.forward.pick(logits, r.params, r.generator) if done else -1
        except Exception as exc:
            self._prefilling.remove(r)
            self._fail(r, exc)
            return
        if token >= 0:
            self._prefilling.remove(r)
            r.first_token_s = time.perf_counter() - r.submitted
            if self._take(r, token):
                self._decoding.append(r)

    def _decode_step(self) -> None:
        rows = list(self._decoding)
        try:
            caches, tokens = [r.cache for r in rows], [r.next_token for r in rows]
            logits = list(self.backend.forward.decode(caches, tokens))
        except Exception:
            logits = self._one_by_one(rows)
        self.steps += 1
        self.rows += len(rows)
        for r, row in zip(rows, logits, strict=True):
            if row is None:
                continue
            r.read += 1
            try:
                token = self.backend.forward.pick(row, r.params, r.generator)
            except Exception as exc:
                self._decoding.remove(r)
                self._fail(r, exc)
                continue
            if not self._take(r, token):
                self._decoding.remove(r)

    def _one_by_one(self, rows: list[Request]) -> list[Any]:
        """After a failed batched step: each row alone, its cache first put back as it was."""
        out: list[Any] = []
        for r in rows:
            crop_to(r.cache, r.read)
            try:
                out.append(self.backend.forward.decode([r.cache], [r.next_token])[0])
            except Exception as exc:
                crop_to(r.cache, r.read)
                self._decoding.remove(r)
                self._fail(r, exc)
                out.append(None)
        return out

    def _take(self, r: Request, token: int) -> bool:
        """Hand a picked token to the request; False when the request has stopped."""
        chat = r.prompt_format == "chat"
        if token in self.backend.eos_ids or (chat and token in self.backend.turn_end_ids):
            self._finish(r, "eos", eos=True)
            return False
        r.ids.append(token)
        # While byte-fallback tokens arrive, their run may still be spelling one character (a
        # later byte can turn the whole run into U+FFFD): its text waits for the run's end.
        if token not in self.backend.byte_ids:
            new_text = self.backend.completion_text(r.ids, r.prompt_len)
            # A trailing U+FFFD is half of a multi-byte character: wait for the rest.
            if (
                not new_text.endswith("\ufffd")
                and len(new_text) > len(r.text)
                and new_text.startswith(r.text)
            ):
                r.events.put(Delta(new_text[len(r.text) :]))
                r.text = new_text
        reason: StopReason | None = None
        if turn_complete(r.prompt_format, r.text):
            reason = "complete"
        elif r.stopped:
            reason = "cancelled"
        elif len(r.ids) - r.prompt_len >= r.params.max_new_tokens:
            reason = "length"
        elif len(r.ids) >= self.backend.context_size:
            reason = "length"  # the next token would have no position left
        if reason is not None:
            self._finish(r, reason)
            return False
        r.next_token = token
        return True

    def _finish(self, r: Request, reason: StopReason, eos: bool = False) -> None:
        if len(r.ids) > r.prompt_len:
            # Text held back while a run of byte tokens was open; a character the end left
            # half written (a trailing U+FFFD) is dropped, as a model server's stream drops it.
            final = self.backend.completion_text(r.ids, r.prompt_len).rstrip("\ufffd")
            if len(final) > len(r.text) and final.startswith(r.text):
                r.events.put(Delta(final[len(r.text) :]))
                r.text = final
        if r.cache is not None:
            self.backend.close_request(r.ids, r.cache, r.prompt_len, r.read)
        r.events.put(
            Finished(
                stop_reason=reason,
                prompt_tokens=r.prompt_len,
                new_tokens=len(r.ids) - r.prompt_len + eos if r.prompt_len else 0,
                reused_tokens=r.reused,
                first_token_s=r.first_token_s,
                total_s=time.perf_counter() - r.submitted,
            )
        )

    def _fail(self, r: Request, exc: Exception) -> None:
        log.warning("generation failed: %s: %s", type(exc).__name__, exc)
        r.events.put(exc)
