"""llama.cpp on the same GGUF file, measured as the bench measures the engine.

Runs a `llama-server` binary (built by `scripts/llama_cpp.py`, never installed by the app) on
the model file, on 127.0.0.1, with as many threads as this machine has cores (the engine's
largest choice), and measures through its `/completion` endpoint, greedy, streaming, with the
bench's own texts (`texts`) in the paper's prompt format:

  - decode tokens/s after the first token, one stream (`decode_tok_s`; the server's own
    `predicted_per_second` beside it, which leaves out HTTP);
  - the first token of a new turn after a history of about H tokens whose previous turn has
    just been generated (`ttft_s`), as `work.first_token` does: the server keeps the slot's
    cache (`cache_prompt`), as the engine keeps its KV cache;
  - a class of N sessions submitting a turn at once against `--parallel N` slots, warm (each
    slot holds its session's history, as after its previous turn) and cold (nothing reused),
    as `classroom` measures the engine: time to each finished turn and overall tokens/s;
  - the bytes of weights one token reads (the file's tensors less the token table but one row),
    for the bandwidth fraction.

Each measurement starts a server of its own (one slot, or N) and stops it. It decides nothing
about the app; it imports no torch.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen_ui.bench.classroom import at_once
from codegen_ui.bench.texts import INSTRUCTIONS, class_histories, history_of, snippets
from codegen_ui.core import program_text, render_prompt
from codegen_ui.errors import UserError


class LlamaServerError(UserError):
    """The llama.cpp server could not be started or answered wrongly."""


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())

    def count_tokens(self, text: str) -> int:
        return len(self.post("/tokenize", {"content": text})["tokens"])

    def complete(self, prompt: str, new_tokens: int, **extra: Any) -> dict[str, Any]:
        """A greedy completion, streamed: the seconds to its first and last token (from the
        request), its tokens, and the server's own timings."""
        body = {
            "prompt": prompt,
            "n_predict": new_tokens,
            "temperature": 0.0,
            "ignore_eos": True,  # exactly `new_tokens`, as the engine's bench turns
            "stream": True,
            **extra,
        }
        request = urllib.request.Request(
            self.url + "/completion",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        start = time.perf_counter()
        first = last = None
        tokens = 0
        timings: dict[str, Any] = {}
        with urllib.request.urlopen(request, timeout=600) as response:
            for raw in response:
                line = raw.decode().strip()
                if not line.startswith("data: "):
                    continue
                event = json.loads(line[len("data: ") :])
                now = time.perf_counter() - start
                if event.get("content") or event.get("tokens"):
                    tokens += 1
                    first = now if first is None else first
                    last = now
                if event.get("stop"):
                    timings = event.get("timings", {})
                    last = now if last is None else last
        predicted = int(timings.get("predicted_n", tokens))
        return {
            "first_s": first if first is not None else last,
            "total_s": last,
            "new_tokens": predicted,
            "timings": timings,
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(binary: Path, model: Path, threads: int, slots: int, context: int) -> Iterator[Server]:
    """A llama-server on a free loopback port, `slots` parallel slots sharing `context` tokens;
    stopped on exit."""
    port = free_port()
    args = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port)]
    args += ["-t", str(threads), "-tb", str(threads), "-c", str(context)]
    args += ["--parallel", str(slots), "--no-webui", "--log-disable"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    handle = Server(f"http://127.0.0.1:{port}", process)
    try:
        wait_ready(handle)
        yield handle
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()


def wait_ready(handle: Server, timeout_s: float = 300.0) -> None:
    """Until /health answers 200 (the model is loaded) or the process exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if handle.process.poll() is not None:
            err = handle.process.stderr.read().decode()[-2000:] if handle.process.stderr else ""
            raise LlamaServerError(f"llama-server exited ({handle.process.returncode}): {err}")
        try:
            with urllib.request.urlopen(handle.url + "/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)  # polling a child's port: no event to wait on
    raise LlamaServerError(f"llama-server did not become ready in {timeout_s:.0f} s")


def single(handle: Server, config: dict[str, Any]) -> dict[str, Any]:
    """Decode rate and first-token times of one stream (slot 0)."""
    handle.complete(render_prompt([], INSTRUCTIONS[0]), 4)  # first-call overheads
    decode = handle.complete(render_prompt([], INSTRUCTIONS[1]), config["new_tokens"])
    ttft: dict[str, float] = {}
    for size in config["histories"]:
        history = history_of(handle.count_tokens, size)
        # The previous turn has just been generated: its prompt is in the slot's cache.
        handle.complete(render_prompt(history, INSTRUCTIONS[2]), 16, cache_prompt=True)
        history.append((INSTRUCTIONS[2], snippets()[0]))
        done = handle.complete(render_prompt(history, INSTRUCTIONS[3]), 1, cache_prompt=True)
        ttft[str(size)] = done["first_s"]
    return {
        "decode_tok_s": (decode["new_tokens"] - 1)
        / max(decode["total_s"] - decode["first_s"], 1e-9),
        "server_decode_tok_s": decode["timings"].get("predicted_per_second"),
        "ttft_s": ttft,
    }


def one_class(handle: Server, prompts: list[str], new_tokens: int, warm: bool) -> dict[str, Any]:
    """Every prompt at once, each from its own thread on its own slot."""

    def turn(i: int) -> int:
        got = handle.complete(prompts[i], new_tokens, id_slot=i, cache_prompt=warm)
        return int(got["new_tokens"])

    return at_once(turn, len(prompts))


def classroom(handle: Server, config: dict[str, Any]) -> dict[str, Any]:
    sessions = config["classroom"]
    talks = class_histories(handle.count_tokens, sessions, config["classroom_history"])
    prompts = [render_prompt(h, INSTRUCTIONS[s % len(INSTRUCTIONS)]) for s, h in enumerate(talks)]
    handle.complete(prompts[0], 4, id_slot=0, cache_prompt=False)  # first-call overheads
    result: dict[str, Any] = {}
    for case in ("warm", "cold"):
        if case == "warm":  # each slot holds its session's previous turn, as the engine's cache
            for s, talk in enumerate(talks):
                handle.complete(program_text(talk), 1, id_slot=s, cache_prompt=True)
        result[case] = one_class(handle, prompts, config["classroom_tokens"], case == "warm")
    return result


# GGUF's scalar value types (0 to 12, string 8 and array 9 aside): their sizes in bytes.
_SCALAR_BYTES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def gguf_tensor_bytes(model: Path) -> dict[str, tuple[int, int]]:
    """Each tensor's (bytes, rows) from a GGUF file's header, read directly: `gguf.GGUFReader`
    turns every vocabulary entry into numpy objects, minutes for a 49,152-token vocabulary on
    a busy machine. Sizes come from the `gguf` package's block table."""
    import struct

    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    with open(model, "rb") as f:

        def take(fmt: str) -> Any:
            return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))[0]

        def skip_value(kind: int) -> None:
            if kind == 8:
                f.seek(take("Q"), 1)
            elif kind == 9:
                item, count = take("I"), take("Q")
                if item in _SCALAR_BYTES:
                    f.seek(_SCALAR_BYTES[item] * count, 1)
                else:
                    for _ in range(count):
                        skip_value(item)
            else:
                f.seek(_SCALAR_BYTES[kind], 1)

        if f.read(4) != b"GGUF":
            raise LlamaServerError(f"{model} is not a GGUF file")
        _version, tensors, pairs = take("I"), take("Q"), take("Q")
        for _ in range(pairs):
            f.seek(take("Q"), 1)  # the key
            skip_value(take("I"))
        out: dict[str, tuple[int, int]] = {}
        for _ in range(tensors):
            name = f.read(take("Q")).decode()
            dims = [take("Q") for _ in range(take("I"))]
            kind = take("I")
            take("Q")  # the data's offset
            block, size = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
            count = 1
            for d in dims:
                count *= d
            out[name] = (count // block * size, dims[-1] if len(dims) > 1 else 1)
    return out


def weight_bytes_per_token(model: Path) -> int | None:
    """Bytes of the GGUF's tensors one decode step reads: all but the token table, of which
    one row, unless the output head is that table (tied), which reads all of it. None where
    the `gguf` package (for its block sizes) is missing."""
    try:
        sizes = gguf_tensor_bytes(model)
    except ImportError:
        return None
    total = sum(size for size, _ in sizes.values())
    if "token_embd.weight" in sizes and "output.weight" in sizes:  # untied: one row is read
        size, rows = sizes["token_embd.weight"]
        total -= size - size // max(rows, 1)
    return total


def measure(binary: Path, model: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Everything above, each part on a server of its own; `config` is the bench's plan (its
    optional `threads` replaces the core count: the tests' one thread, whose server waits on no
    other thread of its own when the machine's cores are taken)."""
    threads = config.get("threads") or os.cpu_count() or 1
    one = max(config["histories"]) + 1024
    out: dict[str, Any] = {"binary": str(binary), "threads": threads}
    with server(binary, model, threads, 1, one) as handle:
        out |= single(handle, config)
    if config.get("classroom"):
        slots = config["classroom"]
        per_slot = config["classroom_history"] + config["classroom_tokens"] + 512
        with server(binary, model, threads, slots, slots * per_slot) as handle:
            out["classroom"] = classroom(handle, config)
    out["weight_mb_per_token"] = (weight_bytes_per_token(model) or 0) / 1e6 or None
    return out
